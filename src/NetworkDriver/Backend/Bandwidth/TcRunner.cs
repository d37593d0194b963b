using System.Text;
using System.Text.RegularExpressions;
using VirtNetworkd.Errors;
using VirtNetworkd.NetworkDriver.Backend.Firewall;

namespace VirtNetworkd.NetworkDriver.Backend.Bandwidth;

/// <summary>
/// Runs libvirt's tc commands with as few processes as its semantics allow: a run of commands that
/// must succeed goes to one <c>tc -batch -</c> (which stops at the first failure, as libvirt's
/// one-by-one runs do); a run whose exit status libvirt ignores goes to <c>tc -force -batch -</c>.
/// A command the kernel cannot do because a qdisc, classifier or action is not built in (this
/// machine has no sch_sfq, cls_fw nor act_police) is skipped and reported through the log, and the
/// rest goes on: the issue's rule for missing kernel features (libvirt would fail the start).
/// </summary>
public sealed partial class TcRunner(IFirewallRunner runner, Action<string> log)
{
    /// <summary>tc's answers when the kernel lacks the module a command needs.</summary>
    private static readonly string[] MissingFeature =
    [
        "Specified qdisc kind is unknown",
        "TC classifier not found",
        "Failed to load TC action module",
    ];

    [GeneratedRegex(@"^Command failed -:(\d+)\s*$", RegexOptions.Multiline)]
    private static partial Regex FailedLine();

    public void Run(IReadOnlyList<TcCommand> commands)
    {
        ArgumentNullException.ThrowIfNull(commands);
        int i = 0;
        while (i < commands.Count)
        {
            bool ignore = commands[i].IgnoreExitStatus;
            int end = i;
            while (end < commands.Count && commands[end].IgnoreExitStatus == ignore) end++;
            var group = commands.Skip(i).Take(end - i).ToList();
            if (ignore) Batch(group, force: true);
            else RunUntilDone(group);
            i = end;
        }
    }

    private void RunUntilDone(List<TcCommand> group)
    {
        while (group.Count > 0)
        {
            var result = Batch(group, force: false);
            if (result.ExitCode == 0) return;
            int failed = FailedLine().Match(result.Stderr) is { Success: true } m ? int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) - 1 : 0;
            if (failed < 0 || failed >= group.Count) failed = 0;
            string why = FirstLine(result.Stderr);
            if (!MissingFeature.Any(f => result.Stderr.Contains(f, StringComparison.Ordinal)))
                throw new LibvirtError(VirErrorCode.InternalError, VirErrorDomain.None,
                    $"Child process ({group[failed]}) unexpected exit status {ExitStatus(why)}: {why}\n");
            log($"skipped '{group[failed]}': the kernel lacks what it needs ({why})");
            group = group.Skip(failed + 1).ToList();
        }
    }

    /// <summary>
    /// What the one command alone would have exited with, as libvirt runs it (a batch always exits
    /// 1): 1 for a device that does not exist (tc stops before asking the kernel), 2 when the
    /// kernel refuses the request.
    /// </summary>
    private static int ExitStatus(string why) =>
        why.StartsWith("Cannot find device", StringComparison.Ordinal) ? 1 : 2;

    /// <summary>
    /// tc's view of a device's qdiscs and classes (one <c>tc -batch -</c> of <c>qdisc show</c> and
    /// <c>class show</c>), or null when the device is gone.
    /// </summary>
    public TcTree? Show(string ifname)
    {
        var result = Batch([new TcCommand(["qdisc", "show", "dev", ifname]), new TcCommand(["class", "show", "dev", ifname])], force: false);
        if (result.ExitCode != 0)
        {
            if (result.Stderr.Contains("Cannot find device", StringComparison.Ordinal)) return null;
            throw new LibvirtError(VirErrorCode.InternalError, VirErrorDomain.None,
                $"Child process (tc qdisc show dev {ifname}) unexpected exit status {ExitStatus(FirstLine(result.Stderr))}: {FirstLine(result.Stderr)}\n");
        }
        return TcTree.Parse(result.Stdout);
    }

    private static string FirstLine(string stderr) =>
        stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .FirstOrDefault(l => !l.StartsWith("Command failed", StringComparison.Ordinal)) ?? "";

    private FirewallRunResult Batch(List<TcCommand> group, bool force)
    {
        var input = new StringBuilder();
        foreach (var c in group)
        {
            // a value that could split a batch line is no tc argument (names and numbers only)
            if (c.Args.Any(a => a.Length == 0 || a.Any(ch => char.IsWhiteSpace(ch) || ch == '"' || ch == '\\' || ch == '#')))
                throw new LibvirtError(VirErrorCode.InternalError, VirErrorDomain.None, $"invalid tc argument in '{c}'");
            input.AppendJoin(' ', c.Args).Append('\n');
        }
        return runner.Run("tc", force ? ["-force", "-batch", "-"] : ["-batch", "-"], input.ToString());
    }
}
