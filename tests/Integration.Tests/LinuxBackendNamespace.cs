namespace VirtNetworkd.Integration.Tests;

/// <summary>
/// A network namespace of the test's own (random name), a VIRTNETWORKD_ROOT, and our daemon with
/// the Linux backend inside that namespace, restarted as often as a test likes against the same
/// root and namespace; tc's view of a device there. Dispose kills the daemon and its dnsmasqs and
/// removes the namespace and the root, also after a failed assertion.
/// </summary>
public sealed class LinuxBackendNamespace : IDisposable
{
    private readonly List<DaemonProcess> _earlier = [];

    public string Name { get; }
    public string Root { get; }
    public string IpPath { get; }
    public string TcPath { get; }
    public DaemonProcess? Daemon { get; private set; }
    public DaemonProcess D => Daemon ?? throw new InvalidOperationException("no daemon started");

    public LinuxBackendNamespace(string prefix)
    {
        IpPath = Tools.Require("ip", "iproute2");
        TcPath = Tools.Require("tc", "iproute2");
        Tools.Require("nft", "nftables");
        Name = prefix + Guid.NewGuid().ToString("N")[..8];
        Assert.That(Tools.Run(IpPath, ["netns", "add", Name]).ExitCode, Is.Zero, $"ip netns add {Name}");
        Root = DaemonProcess.NewRoot();
        Ip("link", "set", "lo", "up");
    }

    /// <summary>
    /// Starts the daemon (again: a former one must have exited; its root is kept for the new one)
    /// and returns once it answers: its sockets exist before it has loaded and reconciled the
    /// networks, and it accepts calls only after.
    /// </summary>
    public DaemonProcess StartDaemon()
    {
        if (Daemon is { } old)
        {
            Assert.That(old.Process.HasExited, "the former daemon still runs");
            _earlier.Add(old);
        }
        Daemon = DaemonProcess.Start(root: Root, networkNamespace: Name,
            env: new Dictionary<string, string> { ["VIRTNETWORKD_BACKEND"] = "linux" });
        VirshOk("net-list", "--all");
        return Daemon;
    }

    /// <summary>kill -9: nothing of the daemon's runs its course.</summary>
    public void KillDaemon()
    {
        D.Process.Kill();
        D.Process.WaitForExit();
    }

    /// <summary>
    /// SIGHUP, returning once the reload is over: it reconciles the running networks, then starts
    /// autostart networks that are not running (every reload does), so a marker network, autostart
    /// but stopped, that becomes active says the reconciling is done. The marker is stopped again.
    /// </summary>
    public void ReloadAndWait()
    {
        const string Marker = "vnhupmark";
        if (Virsh("net-info", Marker).ExitCode != 0)
        {
            VirshOk("net-define", File("hupmark.xml", $"<network><name>{Marker}</name><bridge name='vnhupmark0'/></network>"));
            VirshOk("net-autostart", Marker);
        }
        D.Signal("HUP");
        var sw = System.Diagnostics.Stopwatch.StartNew();
        while (!Virsh("net-list", "--name").Stdout.Contains(Marker, StringComparison.Ordinal))
        {
            if (sw.ElapsedMilliseconds > 20_000) Assert.Fail($"the reload did not finish within 20 s:\n{D.Stderr}");
            Thread.Sleep(20);
        }
        VirshOk("net-destroy", Marker);
    }

    public Tools.Result Virsh(params string[] args) => Tools.Virsh(D.Uri, args);

    /// <summary>virsh, which must succeed (the daemon's log in the message when it does not).</summary>
    public Tools.Result VirshOk(params string[] args)
    {
        var r = Virsh(args);
        Assert.That(r.ExitCode, Is.Zero, $"virsh {string.Join(' ', args)}: {r}\ndaemon:\n{D.Stderr}");
        return r;
    }

    /// <summary>Writes <paramref name="content"/> to a file in the root, for virsh to read.</summary>
    public string File(string name, string content)
    {
        string path = Path.Combine(Root, name);
        System.IO.File.WriteAllText(path, content);
        return path;
    }

    public Tools.Result Ip(params string[] args) => Tools.Run(IpPath, ["-n", Name, .. args]);

    public Tools.Result Tc(params string[] args) => Tools.Run(IpPath, ["netns", "exec", Name, TcPath, .. args]);

    /// <summary>tc's view of a device: qdiscs, classes, filters of the root and of the ingress qdisc, as printed (trailing blanks trimmed).</summary>
    public string[] TcTree(string dev) => TcTreeOf(this.Tc, dev);

    /// <summary><see cref="TcTree"/> through any way of running tc (the reference daemon's namespace too).</summary>
    public static string[] TcTreeOf(Func<string[], Tools.Result> tc, string dev) =>
        new[] { new[] { "qdisc", "show", "dev", dev }, ["class", "show", "dev", dev], ["filter", "show", "dev", dev],
                ["filter", "show", "dev", dev, "parent", "ffff:"] }
        .SelectMany(a => tc(a).Stdout.Split('\n')).Select(l => l.TrimEnd()).Where(l => l.Length > 0).ToArray();

    /// <summary>What this kernel has of sch_sfq, cls_fw and act_police, tried on a scratch bridge in the namespace.</summary>
    public (bool Sfq, bool Fw, bool Police) ProbeTcModules()
    {
        Assert.That(Ip("link", "add", "vnprobe0", "type", "bridge").ExitCode, Is.Zero);
        bool Ok(params string[] a) => Tc(a).ExitCode == 0;
        Assert.That(Ok("qdisc", "add", "dev", "vnprobe0", "root", "handle", "1:", "htb", "default", "2"), "sch_htb");
        Assert.That(Ok("class", "add", "dev", "vnprobe0", "parent", "1:", "classid", "1:2", "htb", "rate", "1kbps"));
        Assert.That(Ok("qdisc", "add", "dev", "vnprobe0", "ingress"), "sch_ingress");
        var r = (Ok("qdisc", "add", "dev", "vnprobe0", "parent", "1:2", "handle", "2:", "sfq", "perturb", "10"),
            Ok("filter", "add", "dev", "vnprobe0", "parent", "1:0", "protocol", "all", "prio", "1", "handle", "1", "fw", "flowid", "1"),
            Ok("filter", "add", "dev", "vnprobe0", "parent", "ffff:", "protocol", "all", "u32", "match", "u32", "0", "0",
                "police", "rate", "500kbps", "burst", "500kb", "mtu", "64kb", "drop", "flowid", ":1"));
        Ip("link", "del", "vnprobe0");
        TestContext.Out.WriteLine($"kernel: sfq={r.Item1} fw={r.Item2} police={r.Item3}");
        return r;
    }

    public void Dispose()
    {
        foreach (var d in _earlier) d.Process.Dispose(); // their root is Daemon's: DaemonProcess.Dispose would delete it
        Daemon?.Dispose();
        DaemonProcess.KillDnsmasqs(Root);
        Tools.Run(IpPath, ["netns", "del", Name]);
        try { Directory.Delete(Root, recursive: true); } catch (IOException) { }
    }
}
