using System.Diagnostics;
using System.Net.Sockets;
using System.Text;

namespace VirtNetworkd.Integration.Tests;

/// <summary>The daemon as a process: flags, config errors, PID file, idle timeout, signals,
/// socket activation and sd_notify.</summary>
public class HostProcessTests
{
    private static Tools.Result RunDaemon(params string[] args)
    {
        var (file, prefix) = DaemonProcess.Command();
        var root = DaemonProcess.NewRoot();
        try
        {
            return Tools.Run(file, prefix.Concat(args), env: DaemonProcess.TestEnvironment(root), timeoutMs: 30_000);
        }
        finally
        {
            Directory.Delete(root, true);
        }
    }

    [Test]
    public void VersionFlag()
    {
        foreach (var flag in new[] { "-V", "--version" })
        {
            var r = RunDaemon(flag);
            Assert.That(r.ExitCode, Is.Zero, r.ToString());
            Assert.That(r.Stdout, Is.EqualTo("virtnetworkd (libvirt) 10.8.0"));
        }
    }

    [Test]
    public void HelpFlag()
    {
        var r = RunDaemon("--help");
        Assert.That(r.ExitCode, Is.Zero, r.ToString());
        Assert.That(r.Stdout + r.Stderr, Does.Contain("--timeout").And.Contain("--pid-file").And.Contain("--config"));
    }

    [Test]
    public void UnknownFlagIsAUsageError()
    {
        var r = RunDaemon("--frobnicate");
        Assert.That(r.ExitCode, Is.EqualTo(1), r.ToString());
        Assert.That(r.Stderr, Does.Contain("--frobnicate"));
    }

    [Test]
    public void BadTimeoutIsAUsageError()
    {
        var r = RunDaemon("--timeout", "soon");
        Assert.That(r.ExitCode, Is.EqualTo(1), r.ToString());
        Assert.That(r.Stderr, Does.Contain("timeout").IgnoreCase);
    }

    [Test]
    public void ConfigSyntaxErrorNamesFileAndLine()
    {
        var root = DaemonProcess.NewRoot();
        var conf = Path.Combine(root, "bad.conf");
        File.WriteAllText(conf, "# fine\nmax_clients = 10\nmax_workers = = 3\n");
        using var d = DaemonProcess.Start(args: ["-f", conf], root: root, waitForSocket: false);
        Assert.That(d.WaitForExit(20_000), Is.True, "the daemon should refuse to start");
        Assert.That(d.Process.ExitCode, Is.Not.Zero);
        Assert.That(d.Stderr, Does.Contain(conf).And.Contain(":3"));
        Assert.That(File.Exists(d.SocketPath), Is.False);
    }

    [Test]
    public void ConfigTypeErrorNamesTheKey()
    {
        using var d = DaemonProcess.Start(config: "max_clients = \"many\"\n", waitForSocket: false);
        Assert.That(d.WaitForExit(20_000), Is.True);
        Assert.That(d.Process.ExitCode, Is.Not.Zero);
        Assert.That(d.Stderr, Does.Contain("max_clients"));
    }

    [Test]
    public void SecondInstanceRefusesToStart()
    {
        using var first = DaemonProcess.Start();
        using var second = DaemonProcess.Start(root: first.Root, waitForSocket: false);
        Assert.That(second.WaitForExit(20_000), Is.True, "the second instance should exit");
        Assert.That(second.Process.ExitCode, Is.Not.Zero);
        Assert.That(second.Stderr, Does.Contain(first.PidFile));
        Assert.That(first.Process.HasExited, Is.False);
        using var c = new VirtNetworkd.Tests.Shared.RawLibvirtClient(first.SocketPath);
        c.Open();
        first.Stop();
    }

    [Test]
    public void SigtermLeavesNoSocketOrPidFile()
    {
        using var d = DaemonProcess.Start();
        Assert.That(File.Exists(d.PidFile), Is.True);
        Assert.That(File.ReadAllText(d.PidFile).Trim(), Is.EqualTo(d.Process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        Assert.That(d.Stop(), Is.Zero);
        Assert.That(File.Exists(d.SocketPath), Is.False);
        Assert.That(File.Exists(d.ReadOnlySocketPath), Is.False);
        Assert.That(File.Exists(d.AdminSocketPath), Is.False);
        Assert.That(File.Exists(d.PidFile), Is.False);
    }

    [Test]
    public void SocketsHaveLibvirtsModes()
    {
        using var d = DaemonProcess.Start();
        // as root libvirt defaults to polkit auth, which opens the rw socket to all (0777)
        Assert.That(File.GetUnixFileMode(d.SocketPath) & (UnixFileMode)0x1FF, Is.EqualTo((UnixFileMode)Convert.ToInt32("777", 8)));
        Assert.That(File.GetUnixFileMode(d.ReadOnlySocketPath) & (UnixFileMode)0x1FF, Is.EqualTo((UnixFileMode)Convert.ToInt32("777", 8)));
        Assert.That(File.GetUnixFileMode(d.AdminSocketPath) & (UnixFileMode)0x1FF, Is.EqualTo((UnixFileMode)Convert.ToInt32("700", 8)));
        d.Stop();
        using var none = DaemonProcess.Start(config: "auth_unix_rw = \"none\"\nunix_sock_rw_perms = \"0700\"\n");
        Assert.That(File.GetUnixFileMode(none.SocketPath) & (UnixFileMode)0x1FF, Is.EqualTo((UnixFileMode)Convert.ToInt32("700", 8)));
        none.Stop();
    }

    [Test]
    public void SighupReloadsAndKeepsServing()
    {
        using var d = DaemonProcess.Start();
        using var c = new VirtNetworkd.Tests.Shared.RawLibvirtClient(d.SocketPath);
        c.Open();
        d.Signal("HUP");
        Thread.Sleep(500);
        Assert.That(d.Process.HasExited, Is.False);
        Assert.That(c.Roundtrip(157).Header.Status, Is.Zero, "the open connection survives a reload");
        d.Stop();
    }

    [Test]
    public void IdleTimeoutExitsWithoutClients()
    {
        using var d = DaemonProcess.Start(args: ["--timeout", "2"]);
        Assert.That(d.WaitForExit(15_000), Is.True, "the daemon should exit after 2 s without clients");
        Assert.That(d.Process.ExitCode, Is.Zero);
        Assert.That(File.Exists(d.SocketPath), Is.False);
    }

    [Test]
    public void IdleTimeoutWaitsForConnectedClients()
    {
        using var d = DaemonProcess.Start(args: ["-t", "1"]);
        var c = new VirtNetworkd.Tests.Shared.RawLibvirtClient(d.SocketPath);
        c.Open();
        Assert.That(d.WaitForExit(4_000), Is.False, "an idle but connected client keeps the daemon up");
        Assert.That(c.Roundtrip(157).Header.Status, Is.Zero);
        c.Dispose();
        Assert.That(d.WaitForExit(15_000), Is.True, "once the client left, the timeout runs");
    }

    [Test]
    public void DaemonizeDetachesAndWritesThePidFile()
    {
        var root = DaemonProcess.NewRoot();
        var (file, prefix) = DaemonProcess.Command();
        var r = Tools.Run(file, prefix.Concat(["-d"]), env: DaemonProcess.TestEnvironment(root), timeoutMs: 30_000);
        string pidFile = Path.Combine(root, "run/virtnetworkd.pid");
        try
        {
            Assert.That(r.ExitCode, Is.Zero, r.ToString());
            Assert.That(File.Exists(pidFile), Is.True, "the parent returns once the daemon is ready");
            int pid = int.Parse(File.ReadAllText(pidFile).Trim(), System.Globalization.CultureInfo.InvariantCulture);
            using var c = new VirtNetworkd.Tests.Shared.RawLibvirtClient(Path.Combine(root, "run/libvirt/virtnetworkd-sock"));
            c.Open();
            Tools.Kill(pid, "TERM");
            var sw = Stopwatch.StartNew();
            while (File.Exists(pidFile) && sw.ElapsedMilliseconds < 15_000) Thread.Sleep(50);
            Assert.That(File.Exists(pidFile), Is.False);
        }
        finally
        {
            if (File.Exists(pidFile) && int.TryParse(File.ReadAllText(pidFile).Trim(), out int pid)) Tools.Kill(pid, "KILL");
            Directory.Delete(root, true);
        }
    }

    [Test]
    public void SocketActivationServesTheInheritedSockets()
    {
        var activate = Tools.Require("systemd-socket-activate", "systemd");
        var root = DaemonProcess.NewRoot();
        string rw = Path.Combine(root, "act-sock"), ro = Path.Combine(root, "act-sock-ro"), admin = Path.Combine(root, "act-admin");
        var (file, prefix) = DaemonProcess.Command();
        var psi = new ProcessStartInfo(activate) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var a in new[] { "-l", rw, "-l", ro, "-l", admin, "--fdname=virtnetworkd.socket:virtnetworkd-ro.socket:virtnetworkd-admin.socket", file }.Concat(prefix))
            psi.ArgumentList.Add(a);
        foreach (var (k, v) in DaemonProcess.TestEnvironment(root)) psi.Environment[k] = v;
        using var p = Process.Start(psi)!;
        try
        {
            var sw = Stopwatch.StartNew();
            while (!File.Exists(rw) && sw.ElapsedMilliseconds < 10_000) Thread.Sleep(20);
            // systemd-socket-activate accepts nothing itself: the first connection starts the daemon
            using (var c = new VirtNetworkd.Tests.Shared.RawLibvirtClient(rw))
            {
                c.Open();
                Assert.That(c.Roundtrip(157).Header.Status, Is.Zero);
            }
            using (var c = new VirtNetworkd.Tests.Shared.RawLibvirtClient(ro))
            {
                c.Open();
                var e = c.Roundtrip(41, new VirtNetworkd.Protocol.Remote.NetworkDefineXmlArgs { Xml = "<network/>" });
                Assert.That(e.Error.Code, Is.EqualTo(29), "the -ro socket is read-only");
            }
            Assert.That(File.Exists(Path.Combine(root, "run/libvirt/virtnetworkd-sock")), Is.False, "no own sockets in activation mode");
        }
        finally
        {
            Tools.Kill(p.Id, "TERM");
            p.WaitForExit(15_000);
            if (!p.HasExited) p.Kill(true);
            Directory.Delete(root, true);
        }
    }

    [Test]
    public void NotifiesSystemdWhenReadyAndStopping()
    {
        var root = DaemonProcess.NewRoot();
        var notifyPath = Path.Combine(root, "notify");
        using var notify = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        notify.Bind(new UnixDomainSocketEndPoint(notifyPath));
        notify.ReceiveTimeout = 20_000;
        using var d = DaemonProcess.Start(root: root, env: new Dictionary<string, string> { ["NOTIFY_SOCKET"] = notifyPath });
        var buffer = new byte[4096];
        var messages = new StringBuilder();
        while (!messages.ToString().Contains("READY=1", StringComparison.Ordinal))
            messages.Append(Encoding.UTF8.GetString(buffer, 0, notify.Receive(buffer))).Append('\n');
        d.Signal("TERM");
        while (!messages.ToString().Contains("STOPPING=1", StringComparison.Ordinal))
            messages.Append(Encoding.UTF8.GetString(buffer, 0, notify.Receive(buffer))).Append('\n');
        Assert.That(d.WaitForExit(15_000), Is.True);
    }

    [Test]
    public void LogOutputsToAFile()
    {
        var root = DaemonProcess.NewRoot();
        var log = Path.Combine(root, "daemon.log");
        using var d = DaemonProcess.Start(config: $"log_level = 1\nlog_outputs = \"1:file:{log}\"\n", root: root);
        using (var c = new VirtNetworkd.Tests.Shared.RawLibvirtClient(d.SocketPath)) c.Open();
        d.Stop();
        Assert.That(File.Exists(log), Is.True);
        Assert.That(File.ReadAllText(log), Does.Contain("client"));
    }
}
