using System.Text;

namespace VirtNetworkd.NetworkDriver.Backend.Firewall;

/// <summary>
/// How libvirt turns one firewall action into a process (virFirewallApplyCmd): the argv, and its
/// text as virCommandToString prints it. Used for the golden tests against libvirt's vectors, for
/// messages, and for running a plan one command at a time (replaying a removal plan whose batch
/// failed).
/// </summary>
public static class LibvirtCommandLine
{
    /// <summary>
    /// The argv libvirt runs for <paramref name="action"/>. <paramref name="autoRollback"/> (a
    /// transaction that records its undo) makes nft print the handle of what it adds (<c>-ae</c>).
    /// </summary>
    public static IReadOnlyList<string> Argv(FirewallBackendType backend, FirewallAction action, bool autoRollback)
    {
        ArgumentNullException.ThrowIfNull(action);
        var argv = new List<string>();
        if (action.Layer == FirewallLayer.Tc)
        {
            argv.Add("tc");
        }
        else if (backend == FirewallBackendType.Nftables)
        {
            argv.Add("nft");
            if (autoRollback && NftCreatesObject(action.Args)) argv.Add("-ae");
        }
        else
        {
            switch (action.Layer)
            {
                case FirewallLayer.Ethernet: argv.Add("ebtables"); argv.Add("--concurrent"); break;
                case FirewallLayer.Ipv4: argv.Add("iptables"); argv.Add("-w"); break;
                default: argv.Add("ip6tables"); argv.Add("-w"); break;
            }
        }
        argv.AddRange(action.Args);
        return argv;
    }

    /// <summary>Whether an nft command adds a rule, chain or table (after any leading options).</summary>
    public static bool NftCreatesObject(IReadOnlyList<string> args)
    {
        ArgumentNullException.ThrowIfNull(args);
        if (args.Count <= 1) return false;
        int i = 0;
        while (i < args.Count - 1 && args[i].StartsWith('-')) i++;
        return i + 1 < args.Count && args[i] is "insert" or "add" or "create" && args[i + 1] is "rule" or "chain" or "table";
    }

    /// <summary>virCommandToString with line breaks (no environment): the format of libvirt's test vectors, without the final newline.</summary>
    public static string ToText(IReadOnlyList<string> argv)
    {
        ArgumentNullException.ThrowIfNull(argv);
        var sb = new StringBuilder();
        sb.Append(ShellEscape(argv[0]));
        bool hadOption = false;
        for (int i = 1; i < argv.Count; i++)
        {
            sb.Append(' ');
            // no break before a value that follows an option, once options have begun
            bool linebreak = true;
            if (!argv[i].StartsWith('-'))
            {
                if (hadOption)
                {
                    for (int j = i - 1; j < argv.Count; j++)
                        if (argv[j].StartsWith('-')) { linebreak = false; break; }
                }
            }
            else hadOption = true;
            if (linebreak) sb.Append("\\\n");
            sb.Append(ShellEscape(argv[i]));
        }
        return sb.ToString();
    }

    /// <summary>virBufferEscapeShell: single-quoted only when the text holds a shell metacharacter.</summary>
    public static string ShellEscape(string s)
    {
        ArgumentNullException.ThrowIfNull(s);
        if (s.Length == 0) return "''";
        if (s.IndexOfAny("\r\t\n !\"#$&'()*;<>?[\\]^`{|}~".ToCharArray()) < 0) return s;
        return "'" + s.Replace("'", "'\\''", StringComparison.Ordinal) + "'";
    }
}
