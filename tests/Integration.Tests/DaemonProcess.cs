using System.Diagnostics;
using System.Text;

namespace VirtNetworkd.Integration.Tests;

/// <summary>
/// Our virtnetworkd as a real process, every path under a temporary VIRTNETWORKD_ROOT, with the
/// in-process backend unless a test asks for the Linux one (which it may only do for a daemon
/// inside a network namespace of its own). VIRTNETWORKD_BINARY picks another build (the NativeAOT
/// one); by default the build next to the tests runs through dotnet.
/// </summary>
public sealed class DaemonProcess : IDisposable
{
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();

    private DaemonProcess(string root, Process process)
    {
        Root = root;
        Process = process;
    }

    public string Root { get; }
    public Process Process { get; }
    public string SocketPath => Path.Combine(Root, "run/libvirt/virtnetworkd-sock");
    public string ReadOnlySocketPath => Path.Combine(Root, "run/libvirt/virtnetworkd-sock-ro");
    public string AdminSocketPath => Path.Combine(Root, "run/libvirt/virtnetworkd-admin-sock");
    public string PidFile => Path.Combine(Root, "run/virtnetworkd.pid");
    public string ConfigFile => Path.Combine(Root, "etc/libvirt/virtnetworkd.conf");
    public string Uri => $"network:///system?socket={SocketPath}";
    public string ReadOnlyUri => $"network:///system?socket={ReadOnlySocketPath}";
    public string Stdout { get { lock (_stdout) return _stdout.ToString(); } }
    public string Stderr { get { lock (_stderr) return _stderr.ToString(); } }

    public static string NewRoot()
    {
        var root = Path.Combine(Path.GetTempPath(), "vnd-test-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(root);
        return root;
    }

    /// <summary>The command that runs the daemon: the binary, then the arguments before ours.</summary>
    public static (string File, string[] Prefix) Command()
    {
        var custom = Environment.GetEnvironmentVariable("VIRTNETWORKD_BINARY");
        if (!string.IsNullOrEmpty(custom)) return (custom, []);
        var dll = Path.Combine(AppContext.BaseDirectory, "virtnetworkd.dll");
        if (!File.Exists(dll)) Assert.Fail($"the daemon build is missing: {dll}");
        return ("dotnet", [dll]);
    }

    /// <summary>
    /// The environment a test's daemon runs with: its root, and VIRTNETWORKD_BACKEND=inprocess
    /// (the daemon's default is linux, which changes the kernel) unless <paramref name="env"/> says
    /// otherwise. A Linux backend outside a namespace of the test's would change the host's own
    /// interfaces and firewall: refused.
    /// </summary>
    public static Dictionary<string, string> TestEnvironment(string root, IDictionary<string, string>? env = null, string? networkNamespace = null)
    {
        var result = new Dictionary<string, string> { ["VIRTNETWORKD_ROOT"] = root, ["VIRTNETWORKD_BACKEND"] = "inprocess" };
        if (env is not null) foreach (var (k, v) in env) result[k] = v;
        if (result["VIRTNETWORKD_BACKEND"] != "inprocess" && networkNamespace is null)
            throw new InvalidOperationException($"a test asked for VIRTNETWORKD_BACKEND={result["VIRTNETWORKD_BACKEND"]} outside a network namespace: it would change the host's own network");
        return result;
    }

    /// <summary>Starts the daemon; <paramref name="config"/> (if any) is written to the default config path first.</summary>
    public static DaemonProcess Start(string? config = null, string[]? args = null, string? root = null,
        IDictionary<string, string>? env = null, bool waitForSocket = true, string? networkNamespace = null)
    {
        root ??= NewRoot();
        if (config is not null)
        {
            Directory.CreateDirectory(Path.Combine(root, "etc/libvirt"));
            File.WriteAllText(Path.Combine(root, "etc/libvirt/virtnetworkd.conf"), config);
        }
        // a daemon killed with SIGKILL leaves its socket file: wait for the new one, not the old
        var stale = Path.Combine(root, "run/libvirt/virtnetworkd-sock");
        if (waitForSocket && File.Exists(stale)) File.Delete(stale);
        var environment = TestEnvironment(root, env, networkNamespace);
        var (file, prefix) = Command();
        if (networkNamespace is not null)
        {
            // `ip netns exec` execs the daemon: the process (and its pid) is the daemon's
            prefix = ["netns", "exec", networkNamespace, file, .. prefix];
            file = Tools.Require("ip", "iproute2");
        }
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in prefix.Concat(args ?? [])) psi.ArgumentList.Add(a);
        psi.Environment.Remove("LISTEN_PID");
        psi.Environment.Remove("LISTEN_FDS");
        psi.Environment.Remove("NOTIFY_SOCKET");
        foreach (var (k, v) in environment) psi.Environment[k] = v;
        var process = Process.Start(psi)!;
        var d = new DaemonProcess(root, process);
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (d._stdout) d._stdout.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (d._stderr) d._stderr.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (waitForSocket) d.WaitForSocket();
        return d;
    }

    public void WaitForSocket(int timeoutMs = 20_000)
    {
        var sw = Stopwatch.StartNew();
        // the file exists from bind() on, but connect() is refused until listen(): wait for the listening socket
        while (!IsListening())
        {
            if (Process.HasExited) Assert.Fail($"the daemon exited with {Process.ExitCode} before listening:\n{Stderr}\n{Stdout}");
            if (sw.ElapsedMilliseconds > timeoutMs) Assert.Fail($"the daemon did not listen within {timeoutMs} ms:\n{Stderr}");
            Thread.Sleep(20);
        }
    }

    /// <summary>Whether the daemon's network namespace has a listening socket (__SO_ACCEPTCON) bound to <see cref="SocketPath"/>.</summary>
    private bool IsListening()
    {
        if (!File.Exists(SocketPath)) return false;
        string[] lines;
        try
        {
            lines = File.ReadAllLines($"/proc/{Process.Id}/net/unix");
        }
        catch (IOException)
        {
            return false;
        }
        // Num RefCount Protocol Flags Type St Inode Path
        foreach (string line in lines)
        {
            string[] f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (f.Length >= 8 && f[7] == SocketPath && (Convert.ToUInt32(f[3], 16) & 0x10000) != 0) return true;
        }
        return false;
    }

    public bool WaitForExit(int timeoutMs) => Process.WaitForExit(timeoutMs);

    public void Signal(string signal) => Tools.Kill(Process.Id, signal);

    /// <summary>SIGTERM, then wait; returns the exit code.</summary>
    public int Stop(int timeoutMs = 20_000)
    {
        if (!Process.HasExited)
        {
            Signal("TERM");
            if (!Process.WaitForExit(timeoutMs))
            {
                Process.Kill(entireProcessTree: true);
                Assert.Fail($"the daemon did not stop within {timeoutMs} ms after SIGTERM:\n{Stderr}");
            }
        }
        Process.WaitForExit();
        return Process.ExitCode;
    }

    public void Dispose()
    {
        try
        {
            if (!Process.HasExited) Process.Kill(entireProcessTree: true);
            Process.WaitForExit(5000);
        }
        catch (InvalidOperationException)
        {
        }
        Process.Dispose();
        KillDnsmasqs(Root);
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    /// <summary>
    /// The dnsmasqs the Linux backend started for networks under <paramref name="root"/> (and
    /// their --dhcp-script helpers): they daemonize, so killing the daemon's process tree leaves
    /// them running, in a namespace the test is about to delete.
    /// </summary>
    public static void KillDnsmasqs(string root)
    {
        string prefix = "--conf-file=" + root.TrimEnd('/') + "/";
        foreach (string dir in Directory.GetDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out int pid)) continue;
            try
            {
                string[] argv = File.ReadAllText(Path.Combine(dir, "cmdline")).Split('\0');
                if (Path.GetFileName(argv[0]) == "dnsmasq" && argv.Any(a => a.StartsWith(prefix, StringComparison.Ordinal))) Tools.Kill(pid, "KILL");
            }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }
    }
}
