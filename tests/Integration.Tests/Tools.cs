using System.Diagnostics;
using System.Text;

namespace VirtNetworkd.Integration.Tests;

/// <summary>Runs the real programs the tests drive; a missing one fails the test with what to install.</summary>
public static class Tools
{
    /// <summary>
    /// A [SetUp] that creates namespaces, processes or folders: NUnit runs no [TearDown] when the
    /// set-up throws, so a failure part way undoes here what was made (best effort), then fails.
    /// </summary>
    public static void UndoIfFails(Action setUp, Action tearDown)
    {
        ArgumentNullException.ThrowIfNull(setUp);
        ArgumentNullException.ThrowIfNull(tearDown);
        try
        {
            setUp();
        }
        catch
        {
            try { tearDown(); }
            catch (Exception e) when (e is not OutOfMemoryException) { TestContext.Progress.WriteLine($"clean-up after a failed set-up: {e.Message}"); }
            throw;
        }
    }

    public static string Require(string program, string debianPackage)
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin:/bin").Split(':').Concat(["/usr/sbin", "/sbin"]))
        {
            var path = Path.Combine(dir, program);
            if (File.Exists(path)) return path;
        }
        Assert.Fail($"{program} is needed for this test: install the Debian package {debianPackage} (scripts/test.sh does)");
        return null!;
    }

    public sealed record Result(int ExitCode, string Stdout, string Stderr)
    {
        public override string ToString() => $"exit {ExitCode}\nstdout: {Stdout}\nstderr: {Stderr}";
    }

    public static Result Run(string program, IEnumerable<string> args, string? stdin = null, int timeoutMs = 60_000, IDictionary<string, string>? env = null,
        string? workingDirectory = null)
    {
        var psi = new ProcessStartInfo(program)
        {
            WorkingDirectory = workingDirectory ?? "",
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = stdin is not null,
            UseShellExecute = false,
        };
        foreach (var a in args) psi.ArgumentList.Add(a);
        if (env is not null) foreach (var (k, v) in env) psi.Environment[k] = v;
        using var p = Process.Start(psi)!;
        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        p.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (stdout) stdout.AppendLine(e.Data); };
        p.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (stderr) stderr.AppendLine(e.Data); };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        if (stdin is not null)
        {
            p.StandardInput.Write(stdin);
            p.StandardInput.Close();
        }
        if (!p.WaitForExit(timeoutMs))
        {
            p.Kill(entireProcessTree: true);
            Assert.Fail($"{program} {string.Join(' ', args)} did not finish in {timeoutMs} ms");
        }
        p.WaitForExit();
        return new Result(p.ExitCode, stdout.ToString().TrimEnd(), stderr.ToString().TrimEnd());
    }

    public static Result Virsh(string uri, params string[] args) =>
        Run(Require("virsh", "libvirt-clients"), new[] { "-q", "-c", uri }.Concat(args));

    /// <summary>Runs a python3-libvirt script with the URI as sys.argv[1].</summary>
    public static Result Python(string script, string uri, int timeoutMs = 60_000)
    {
        const string python = "/usr/bin/python3";
        if (!File.Exists(python)) Assert.Fail("/usr/bin/python3 is needed: install the Debian package python3");
        var check = Run(python, ["-c", "import libvirt"]);
        if (check.ExitCode != 0) Assert.Fail("python3-libvirt is needed for this test: install the Debian package python3-libvirt");
        return Run(python, ["-c", script, uri], timeoutMs: timeoutMs);
    }

    /// <summary>Runs python/<paramref name="script"/> (copied next to the tests) with <paramref name="args"/>.</summary>
    public static Result PythonScript(string script, IEnumerable<string> args, int timeoutMs = 120_000)
    {
        const string python = "/usr/bin/python3";
        if (!File.Exists(python)) Assert.Fail("/usr/bin/python3 is needed: install the Debian package python3");
        var check = Run(python, ["-c", "import libvirt"]);
        if (check.ExitCode != 0) Assert.Fail("python3-libvirt is needed for this test: install the Debian package python3-libvirt");
        return Run(python, new[] { Path.Combine(AppContext.BaseDirectory, "python", script) }.Concat(args), timeoutMs: timeoutMs);
    }

    public static void Kill(int pid, string signal) => Run("kill", ["-" + signal, pid.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
}
