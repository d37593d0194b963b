namespace VirtNetworkd.Integration.Tests;

/// <summary>
/// A network libvirt 9.0 started (its status file has no &lt;fwRemoval&gt;; data/libvirt-9.0 holds
/// the status file and the iptables-save of the reference daemon's namespace for it): our daemon,
/// in a namespace this test creates with the same bridge and rules, removes those rules the way
/// libvirt 10.x does (generated again from the definition), at destroy and when it finds the
/// bridge gone.
/// </summary>
public sealed class LegacyStatusFileTests
{
    private const string Bridge = "vn12b0";
    private string _ns = "", _ip = "", _root = "";
    private DaemonProcess? _daemon;

    private static string Data(string file) => Path.Combine(AppContext.BaseDirectory, "data", "libvirt-9.0", file);

    [SetUp]
    public void CreateNamespaceAsLibvirt90LeftIt() => Tools.UndoIfFails(CreateNamespaceAsLibvirt90LeftItSteps, RemoveNamespace);

    private void CreateNamespaceAsLibvirt90LeftItSteps()
    {
        _ip = Tools.Require("ip", "iproute2");
        string restore = Tools.Require("iptables-restore", "iptables");
        Tools.Require("nft", "nftables");
        _ns = "vndleg" + Guid.NewGuid().ToString("N")[..8];
        Assert.That(Tools.Run(_ip, ["netns", "add", _ns]).ExitCode, Is.Zero);
        Tools.Run(_ip, ["-n", _ns, "link", "set", "lo", "up"]);
        Assert.That(Tools.Run(_ip, ["-n", _ns, "link", "add", Bridge, "type", "bridge"]).ExitCode, Is.Zero);
        Assert.That(Tools.Run(_ip, ["-n", _ns, "addr", "add", "192.0.2.1/24", "dev", Bridge]).ExitCode, Is.Zero);
        Assert.That(Tools.Run(_ip, ["-n", _ns, "link", "set", Bridge, "up"]).ExitCode, Is.Zero);
        foreach (var (program, file) in new[] { (restore, "l12bold.iptables"), ("ip6tables-restore", "l12bold.ip6tables") })
        {
            var r = Tools.Run("/bin/sh", ["-c", $"ip netns exec {_ns} {program} < '{Data(file)}'"]);
            Assert.That(r.ExitCode, Is.Zero, r.ToString());
        }
        Assert.That(IptablesLines(), Has.Some.Contains("MASQUERADE"), "the 9.0 rules are in place");
        _root = DaemonProcess.NewRoot();
        string state = Path.Combine(_root, "run/libvirt/network");
        Directory.CreateDirectory(state);
        File.Copy(Data("l12bold.status.xml"), Path.Combine(state, "l12bold.xml"));
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

    /// <summary>The iptables and ip6tables rules (and chain jumps) that name the network's bridge or subnets.</summary>
    private string[] IptablesLines() => new[] { "iptables-save", "ip6tables-save" }
        .SelectMany(p => Tools.Run(_ip, ["netns", "exec", _ns, p]).Stdout.Split('\n'))
        .Where(l => l.StartsWith("-A", StringComparison.Ordinal)
            && (l.Contains(Bridge, StringComparison.Ordinal) || l.Contains("192.0.2.", StringComparison.Ordinal) || l.Contains("2001:db8:12:", StringComparison.Ordinal)))
        .ToArray();

    private string Nft() => Tools.Run(_ip, ["netns", "exec", _ns, "nft", "list", "table", "ip", "libvirt_network"]).Stdout;

    [Test]
    public void AtStartUpTheOldRulesAreReplacedAndDestroyRemovesEverything()
    {
        StartDaemon();
        Assert.That(Tools.Virsh(_daemon!.Uri, "net-list", "--name").Stdout, Does.Contain("l12bold"), _daemon.Stderr);
        Assert.That(IptablesLines(), Is.Empty, "libvirt 9.0's iptables rules are gone");
        Assert.That(Nft(), Does.Contain("192.0.2.0/24"), "the network has nftables rules now");
        string status = File.ReadAllText(Path.Combine(_root, "run/libvirt/network/l12bold.xml"));
        Assert.That(status, Does.Contain("<firewall name='fwRemoval' backend='nftables'>"), "and a removal plan for them");

        var destroy = Tools.Virsh(_daemon.Uri, "net-destroy", "l12bold");
        Assert.That(destroy.ExitCode, Is.Zero, destroy.ToString());
        Assert.That(Tools.Run(_ip, ["-n", _ns, "link", "show", Bridge]).ExitCode, Is.Not.Zero, "the bridge libvirt made is deleted");
        Assert.That(Nft(), Does.Not.Contain("192.0.2.0/24"));
        Assert.That(IptablesLines(), Is.Empty);
    }

    [Test]
    public void ABridgeThatIsGoneMakesTheNetworkInactiveAndItsOldRulesAreRemoved()
    {
        Assert.That(Tools.Run(_ip, ["-n", _ns, "link", "del", Bridge]).ExitCode, Is.Zero);
        StartDaemon();
        Assert.That(Tools.Virsh(_daemon!.Uri, "net-list", "--name").Stdout, Does.Not.Contain("l12bold"), _daemon.Stderr);
        Assert.That(IptablesLines(), Is.Empty, "libvirt 9.0's iptables rules are removed as libvirt 10.x removes them");
        Assert.That(File.Exists(Path.Combine(_root, "run/libvirt/network/l12bold.xml")), Is.False);
    }
}
