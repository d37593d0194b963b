using System.Globalization;
using System.Text;

namespace VirtNetworkd.NetworkDriver.Backend.Firewall;

/// <summary>One handle nft reported for something a batch added (<c>--echo --handle</c>).</summary>
public sealed record NftEcho(string Verb, string Object, string Family, long Handle);

/// <summary>
/// Plans as one atomic transaction: an <c>nft -f -</c> script, or <c>iptables-restore --noflush</c>
/// text (one per address family, as iptables and ip6tables are separate programs).
/// </summary>
public static class FirewallBatch
{
    /// <summary>The nft arguments that take an interface name, quoted in a script so that any name parses.</summary>
    private static readonly HashSet<string> NftIfaceKeywords = new(StringComparer.Ordinal) { "iif", "oif", "iifname", "oifname" };

    /// <summary>An nft script: one line per action, in order (tc actions are not nft's and are refused).</summary>
    public static string Nft(IEnumerable<FirewallAction> actions)
    {
        ArgumentNullException.ThrowIfNull(actions);
        var sb = new StringBuilder();
        foreach (FirewallAction a in actions)
        {
            if (a.Layer is not (FirewallLayer.Ipv4 or FirewallLayer.Ipv6))
                throw new ArgumentException($"an nft batch holds only ipv4/ipv6 actions, not {a.Layer}", nameof(actions));
            for (int i = 0; i < a.Args.Count; i++)
            {
                if (i > 0) sb.Append(' ');
                string arg = a.Args[i];
                sb.Append(i > 0 && NftIfaceKeywords.Contains(a.Args[i - 1]) ? NftQuote(arg) : arg);
            }
            sb.Append('\n');
        }
        return sb.ToString();
    }

    private static string NftQuote(string s)
    {
        if (s.Contains('"', StringComparison.Ordinal) || s.Contains('\n', StringComparison.Ordinal))
            throw new ArgumentException($"interface name '{s}' cannot be written in an nft script");
        return "\"" + s + "\"";
    }

    /// <summary>
    /// The handles in the output of <c>nft --echo --handle -f -</c>: one entry per command that
    /// added something, in the order of the script.
    /// </summary>
    public static IReadOnlyList<NftEcho> ParseEcho(string output)
    {
        ArgumentNullException.ThrowIfNull(output);
        var result = new List<NftEcho>();
        foreach (string raw in output.Split('\n'))
        {
            string line = raw.Trim();
            if (!(line.StartsWith("add ", StringComparison.Ordinal) || line.StartsWith("insert ", StringComparison.Ordinal)
                  || line.StartsWith("create ", StringComparison.Ordinal))) continue;
            int h = line.LastIndexOf("# handle ", StringComparison.Ordinal);
            if (h < 0) continue;
            string[] words = line.Split(' ', 4);
            if (words.Length < 3) continue;
            if (!long.TryParse(line.AsSpan(h + 9).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out long handle)) continue;
            result.Add(new NftEcho(words[0], words[1], words[2], handle));
        }
        return result;
    }

    /// <summary>
    /// <c>iptables-restore --noflush</c> text for the actions of one layer: the <c>--table</c> of each
    /// action becomes a <c>*table</c> section (sections in order of first use, actions in order
    /// within each, each section ending in COMMIT). With --noflush nothing outside the given
    /// commands changes. Actions of other layers are refused.
    /// </summary>
    public static string IptablesRestore(IEnumerable<FirewallAction> actions, FirewallLayer layer)
    {
        ArgumentNullException.ThrowIfNull(actions);
        var tables = new List<(string Table, List<string> Lines)>();
        foreach (FirewallAction a in actions)
        {
            if (a.Layer != layer) throw new ArgumentException($"a {layer} restore cannot hold a {a.Layer} action", nameof(actions));
            string table = "filter";
            var words = new List<string>();
            for (int i = 0; i < a.Args.Count; i++)
            {
                if (a.Args[i] is "--table" or "-t" && i + 1 < a.Args.Count) { table = a.Args[++i]; continue; }
                words.Add(RestoreQuote(a.Args[i]));
            }
            int t = tables.FindIndex(x => x.Table == table);
            if (t < 0) { tables.Add((table, [])); t = tables.Count - 1; }
            tables[t].Lines.Add(string.Join(' ', words));
        }
        var sb = new StringBuilder();
        foreach (var (table, lines) in tables)
        {
            sb.Append('*').Append(table).Append('\n');
            foreach (string l in lines) sb.Append(l).Append('\n');
            sb.Append("COMMIT\n");
        }
        return sb.ToString();
    }

    /// <summary>iptables-restore splits on blanks and honours double quotes.</summary>
    private static string RestoreQuote(string s)
    {
        if (s.Length > 0 && s.IndexOfAny([' ', '\t', '"', '\'', '#']) < 0) return s;
        if (s.Contains('"', StringComparison.Ordinal) || s.Contains('\n', StringComparison.Ordinal))
            throw new ArgumentException($"argument '{s}' cannot be written for iptables-restore");
        return "\"" + s + "\"";
    }
}
