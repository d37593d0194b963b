using System.Globalization;
using System.Text;
using VirtNetworkd.NetworkDriver.Backend.Netlink;

namespace VirtNetworkd.NetworkDriver.Backend.Firewall;

/// <summary>One line of an nft script that creates one table, chain or rule.</summary>
public sealed record NftAddCommand(string Line, NfTablesObject Object, byte Family, string Table, string? Chain);

/// <summary>
/// What <c>nft --echo --handle</c> reports for a script that only adds tables, chains and rules,
/// made from the kernel's notifications of the transaction instead of by libnftables: nft's echo
/// is those same notifications, printed, but libnftables 1.0.x first fetches the whole ruleset
/// to print them (its cache), which costs as much as listing every rule of every network. Each
/// command creates exactly one object and the kernel notifies them in the transaction's order,
/// so the n-th notification is the n-th command's; every one is checked against its command
/// (kind, family, table, chain). The output is each command line as given, followed by
/// <c># handle N</c>, which is what <see cref="FirewallBatch.ParseEcho"/> reads.
/// </summary>
public static class NftNoticeEcho
{
    /// <summary>The script as add commands; null when any line is something else (then nft's own echo is needed).</summary>
    public static IReadOnlyList<NftAddCommand>? Commands(string script)
    {
        ArgumentNullException.ThrowIfNull(script);
        var result = new List<NftAddCommand>();
        foreach (string raw in script.Split('\n'))
        {
            string line = raw.Trim();
            if (line.Length == 0) continue;
            string[] w = line.Split(' ', 6, StringSplitOptions.RemoveEmptyEntries);
            if (w.Length < 4 || w[0] is not ("add" or "insert" or "create") || Nft.Family(w[2]) is not { } family) return null;
            NfTablesObject kind = w[1] switch
            {
                "table" when w.Length == 4 => NfTablesObject.Table,
                "chain" when w.Length >= 5 => NfTablesObject.Chain,
                "rule" when w.Length >= 6 && w[0] != "create" => NfTablesObject.Rule,
                _ => NfTablesObject.Other,
            };
            // one command per line: a ';' (a second command) may only stand inside a chain's { }
            if (kind == NfTablesObject.Other || (kind != NfTablesObject.Chain && line.Contains(';', StringComparison.Ordinal))) return null;
            // names as the kernel reports them: no quoting, no variables
            if (w[3].IndexOfAny(['"', '$']) >= 0 || (kind != NfTablesObject.Table && w[4].IndexOfAny(['"', '$', '{']) >= 0)) return null;
            result.Add(new NftAddCommand(line, kind, family, w[3], kind == NfTablesObject.Table ? null : w[4]));
        }
        return result;
    }

    /// <summary>The echo of <paramref name="commands"/> given the transaction's notifications; null
    /// when they do not match one to one (then the handles cannot be told).</summary>
    public static string? Echo(IReadOnlyList<NftAddCommand> commands, IReadOnlyList<NfTablesNotice> transaction)
    {
        ArgumentNullException.ThrowIfNull(commands);
        ArgumentNullException.ThrowIfNull(transaction);
        if (commands.Count != transaction.Count) return null;
        var sb = new StringBuilder();
        for (int i = 0; i < commands.Count; i++)
        {
            NftAddCommand c = commands[i];
            NfTablesNotice n = transaction[i];
            if (n.Object != c.Object || n.Family != c.Family || n.Table != c.Table || (c.Chain is not null && n.Chain != c.Chain) || n.Handle == 0)
                return null;
            sb.Append(c.Line).Append(" # handle ").Append(n.Handle.ToString(CultureInfo.InvariantCulture)).Append('\n');
        }
        return sb.ToString();
    }
}
