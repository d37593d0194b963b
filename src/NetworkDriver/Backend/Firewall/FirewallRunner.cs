using System.Diagnostics;

namespace VirtNetworkd.NetworkDriver.Backend.Firewall;

/// <summary>What a firewall program answered.</summary>
public sealed record FirewallRunResult(int ExitCode, string Stdout, string Stderr)
{
    public static readonly FirewallRunResult Success = new(0, "", "");
}

/// <summary>Runs one firewall program (nft, iptables-restore, tc…) with arguments and optional standard input.</summary>
public interface IFirewallRunner
{
    FirewallRunResult Run(string program, IReadOnlyList<string> args, string? stdin = null);
}

/// <summary>One recorded run.</summary>
public sealed record FirewallRun(string Program, IReadOnlyList<string> Args, string? Stdin);

/// <summary>For tests: records every run and answers with <c>respond</c> (default: success, no output).</summary>
public sealed class RecordingFirewallRunner(Func<FirewallRun, FirewallRunResult>? respond = null) : IFirewallRunner
{
    private readonly List<FirewallRun> _runs = [];
    private readonly Lock _lock = new();

    public IReadOnlyList<FirewallRun> Runs { get { lock (_lock) return _runs.ToArray(); } }

    public FirewallRunResult Run(string program, IReadOnlyList<string> args, string? stdin = null)
    {
        var run = new FirewallRun(program, args.ToArray(), stdin);
        lock (_lock) _runs.Add(run);
        return respond?.Invoke(run) ?? FirewallRunResult.Success;
    }
}

/// <summary>Runs the program as a process (found in PATH), feeding stdin and collecting both outputs.</summary>
public sealed class ProcessFirewallRunner : IFirewallRunner
{
    public FirewallRunResult Run(string program, IReadOnlyList<string> args, string? stdin = null)
    {
        ArgumentNullException.ThrowIfNull(args);
        var psi = new ProcessStartInfo(program)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string a in args) psi.ArgumentList.Add(a);
        psi.Environment["LC_ALL"] = "C";
        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"cannot start {program}");
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (stdin is not null) p.StandardInput.Write(stdin);
        p.StandardInput.Close();
        p.WaitForExit();
        return new FirewallRunResult(p.ExitCode, stdout.GetAwaiter().GetResult(), stderr.GetAwaiter().GetResult());
    }
}
