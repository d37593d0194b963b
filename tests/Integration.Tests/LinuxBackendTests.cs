namespace VirtNetworkd.Integration.Tests;

/// <summary>
/// The daemon with the Linux backend, inside a network namespace this test creates and removes
/// (never the host's own): virsh net-start makes the bridge and the nftables rules, net-destroy
/// removes them, a kill -9 leaves them running and the restarted daemon adopts them, and a bridge
/// deleted while the daemon was down makes the network inactive with its rules gone.
/// </summary>
public sealed class LinuxBackendTests
{
    private string _ns = "";
    private string _ip = "";
    private DaemonProcess? _daemon;
    private string _root = "";

    private const string Nat = """
        <network><name>lbnat</name><forward mode='nat'/><bridge name='vnlb0'/>
        <ip address='192.0.2.1' netmask='255.255.255.0'/></network>
        """;

    [SetUp]
    public void CreateNamespace() => Tools.UndoIfFails(CreateNamespaceSteps, RemoveNamespace);

    private void CreateNamespaceSteps()
    {
        _ip = Tools.Require("ip", "iproute2");
        Tools.Require("nft", "nftables");
        _ns = "vndlb" + Guid.NewGuid().ToString("N")[..8];
        Assert.That(Tools.Run(_ip, ["netns", "add", _ns]).ExitCode, Is.Zero);
        Tools.Run(_ip, ["-n", _ns, "link", "set", "lo", "up"]);
        _root = DaemonProcess.NewRoot();
    }

    [TearDown]
    public void RemoveNamespace()
    {
        _daemon?.Dispose();
        Tools.Run(_ip, ["netns", "del", _ns]);
        try { Directory.Delete(_root, recursive: true); } catch (IOException) { }
    }

    private DaemonProcess StartDaemon() => _daemon = DaemonProcess.Start(root: _root, networkNamespace: _ns,
        env: new Dictionary<string, string> { ["VIRTNETWORKD_BACKEND"] = "linux" });

    private Tools.Result Virsh(params string[] args) => Tools.Virsh(_daemon!.Uri, args);

    private bool BridgeExists() => Tools.Run(_ip, ["-n", _ns, "link", "show", "vnlb0"]).ExitCode == 0;

    private string Ruleset() => Tools.Run(_ip, ["netns", "exec", _ns, "nft", "list", "ruleset"]).Stdout;

    [Test]
    public void StartDestroyAndRestartWithoutDisturbingTheNetwork()
    {
        StartDaemon();
        string xml = Path.Combine(_root, "nat.xml");
        File.WriteAllText(xml, Nat);
        Assert.That(Virsh("net-define", xml).ExitCode, Is.Zero);
        var start = Virsh("net-start", "lbnat");
        Assert.That(start.ExitCode, Is.Zero, start.ToString() + "\n" + _daemon!.Stderr);

        Assert.That(BridgeExists(), Is.True);
        Assert.That(Tools.Run(_ip, ["-n", _ns, "addr", "show", "vnlb0"]).Stdout, Does.Contain("inet 192.0.2.1/24 brd 192.0.2.255"));
        string rules = Ruleset();
        Assert.That(rules, Does.Contain("table ip libvirt_network"));
        Assert.That(rules, Does.Match(@"ip saddr 192\.0\.2\.0/24 ip daddr != 192\.0\.2\.0/24 counter packets \d+ bytes \d+ masquerade"));
        Assert.That(Virsh("net-dumpxml", "lbnat").Stdout, Does.Contain("<port start='1024' end='65535'/>"), "the NAT port range libvirt fills in");
        string status = File.ReadAllText(Path.Combine(_root, "run/libvirt/network/lbnat.xml"));
        Assert.That(status, Does.Contain("<firewall name='fwRemoval' backend='nftables'>"));

        // kill -9: the network stays; the restarted daemon adopts it and can destroy it
        _daemon.Process.Kill();
        _daemon.Process.WaitForExit();
        Assert.That(BridgeExists(), Is.True, "the bridge outlives the daemon");
        StartDaemon();
        Assert.That(Virsh("net-list", "--name").Stdout, Does.Contain("lbnat"), "active after the restart");
        var destroy = Virsh("net-destroy", "lbnat");
        Assert.That(destroy.ExitCode, Is.Zero, destroy.ToString());
        Assert.That(BridgeExists(), Is.False);
        Assert.That(Ruleset(), Does.Not.Contain("192.0.2.0/24"), "no rule of the network is left");
    }

    [Test]
    public void ABridgeDeletedWhileTheDaemonWasDownLeavesTheNetworkInactiveAndItsRulesGone()
    {
        StartDaemon();
        string xml = Path.Combine(_root, "nat.xml");
        File.WriteAllText(xml, Nat);
        Assert.That(Virsh("net-define", xml).ExitCode, Is.Zero);
        Assert.That(Virsh("net-start", "lbnat").ExitCode, Is.Zero, _daemon!.Stderr);
        Assert.That(_daemon.Stop(), Is.Zero);
        Assert.That(Tools.Run(_ip, ["-n", _ns, "link", "del", "vnlb0"]).ExitCode, Is.Zero);

        StartDaemon();
        Assert.That(Virsh("net-list", "--inactive", "--name").Stdout, Does.Contain("lbnat"));
        Assert.That(Ruleset(), Does.Not.Contain("192.0.2.0/24"));
        Assert.That(File.Exists(Path.Combine(_root, "run/libvirt/network/lbnat.xml")), Is.False, "the status file is gone");
    }

    [Test]
    public void TheLinuxBackendIsTheDaemonsDefault()
    {
        // an empty VIRTNETWORKD_BACKEND is no choice: the daemon's own default applies
        _daemon = DaemonProcess.Start(root: _root, networkNamespace: _ns, env: new Dictionary<string, string> { ["VIRTNETWORKD_BACKEND"] = "" });
        string xml = Path.Combine(_root, "nat.xml");
        File.WriteAllText(xml, Nat);
        Assert.That(Virsh("net-define", xml).ExitCode, Is.Zero);
        Assert.That(Virsh("net-start", "lbnat").ExitCode, Is.Zero, _daemon.Stderr);
        Assert.That(BridgeExists(), Is.True, "the kernel got the bridge");
        Assert.That(Virsh("net-destroy", "lbnat").ExitCode, Is.Zero);
        Assert.That(BridgeExists(), Is.False);
    }

    [Test]
    public void AnAutomaticBridgeNameSkipsTheHostsOwnDevices()
    {
        // virbr0 is taken by a device of the host (the namespace), not by a network
        Assert.That(Tools.Run(_ip, ["-n", _ns, "link", "add", "virbr0", "type", "veth", "peer", "name", "vnlbpeer"]).ExitCode, Is.Zero);
        StartDaemon();
        string xml = Path.Combine(_root, "auto.xml");
        File.WriteAllText(xml, "<network><name>lbauto</name><forward mode='nat'/><ip address='192.0.2.1' netmask='255.255.255.0'/></network>");
        Assert.That(Virsh("net-define", xml).ExitCode, Is.Zero);
        Assert.That(Virsh("net-dumpxml", "lbauto").Stdout, Does.Contain("<bridge name='virbr1'"), "virNetDevExists saw virbr0");
        Assert.That(Virsh("net-start", "lbauto").ExitCode, Is.Zero, _daemon!.Stderr);
        Assert.That(Tools.Run(_ip, ["-n", _ns, "-d", "link", "show", "virbr1"]).Stdout, Does.Contain("bridge"));
        Assert.That(Virsh("net-destroy", "lbauto").ExitCode, Is.Zero);
    }

    [Test]
    public void NoTestDaemonGetsTheLinuxBackendOutsideANamespace()
    {
        Assert.That(DaemonProcess.TestEnvironment(_root)["VIRTNETWORKD_BACKEND"], Is.EqualTo("inprocess"));
        foreach (var choice in new[] { "linux", "" })
            Assert.Throws<InvalidOperationException>(() => DaemonProcess.TestEnvironment(_root, new Dictionary<string, string> { ["VIRTNETWORKD_BACKEND"] = choice }));
        Assert.That(DaemonProcess.TestEnvironment(_root, new Dictionary<string, string> { ["VIRTNETWORKD_BACKEND"] = "linux" }, _ns)["VIRTNETWORKD_BACKEND"], Is.EqualTo("linux"));
    }

    [Test]
    public void ABridgeNameTakenByAHostDeviceFailsTheStartAndLeavesNothingBehind()
    {
        // the bridge name is taken by another device: the start fails before any rule is added
        Assert.That(Tools.Run(_ip, ["-n", _ns, "link", "add", "vnlb0", "type", "veth", "peer", "name", "vnlbpeer"]).ExitCode, Is.Zero);
        StartDaemon();
        string xml = Path.Combine(_root, "nat.xml");
        File.WriteAllText(xml, Nat);
        Assert.That(Virsh("net-define", xml).ExitCode, Is.Zero);
        var start = Virsh("net-start", "lbnat");
        Assert.That(start.ExitCode, Is.EqualTo(1));
        Assert.That(start.Stderr, Does.Contain("error: Failed to start network lbnat"));
        Assert.That(start.Stderr, Does.Contain("error: error creating bridge interface vnlb0: File exists"), "libvirt's error (virNetDevBridgeCreate)");
        Assert.That(Ruleset(), Does.Not.Contain("192.0.2.0/24").And.Not.Contain("vnlb0"));
        Assert.That(Tools.Run(_ip, ["-n", _ns, "-d", "addr", "show", "vnlb0"]).Stdout, Does.Contain("veth").And.Not.Contain("192.0.2.1"),
            "the host's device is untouched");
        Assert.That(File.Exists(Path.Combine(_root, "run/libvirt/network/lbnat.xml")), Is.False, "no status file");
        Assert.That(Virsh("net-list", "--inactive", "--name").Stdout, Does.Contain("lbnat"));
    }
}
