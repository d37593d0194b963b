using System.Text.Json;
using VirtNetworkd.Errors;
using VirtNetworkd.NetworkDriver.Backend;
using VirtNetworkd.NetworkDriver.Backend.Firewall;
using VirtNetworkd.NetworkDriver.Backend.Linux;

namespace VirtNetworkd.Integration.Tests;

/// <summary>
/// A start that fails at any step leaves nothing behind: no bridge, no firewall rule, no status
/// file, the network inactive. The driver and the Linux backend run in this process, on a network
/// namespace this test creates (netlink and /proc/sys through the backend's namespace thread, the
/// firewall programs through `ip netns exec`); the failure is injected before each step in turn
/// through the backend's test-only seam, and after the last step by a status file that cannot be
/// written.
/// </summary>
[TestFixture("nftables")]
[TestFixture("iptables")]
public sealed class LinuxBackendStartFailureTests(string firewallBackend)
{
    private string _ns = "", _ip = "", _root = "";
    private LinuxBackend _backend = null!;
    private NetworkDriver.Driver.NetworkDriver _driver = null!;
    private readonly List<string> _log = [];

    /// <summary>nft / iptables-restore run inside the test's namespace.</summary>
    private sealed class NamespaceFirewallRunner(string ip, string ns) : IFirewallRunner
    {
        private readonly ProcessFirewallRunner _inner = new();

        public FirewallRunResult Run(string program, IReadOnlyList<string> args, string? stdin = null) =>
            _inner.Run(ip, ["netns", "exec", ns, program, .. args], stdin);
    }

    // IPv6, a static route, the NAT rules and bandwidth: every step has something to do
    private const string Nat = """
        <network><name>fail</name><forward mode='nat'/><bridge name='vnfail0' stp='off' macTableManager='libvirt'/>
        <bandwidth><inbound average='1000' peak='2000'/><outbound average='500'/></bandwidth>
        <ip address='192.0.2.1' netmask='255.255.255.0'/><ip family='ipv6' address='2001:db8:5::1' prefix='64'/>
        <route address='198.51.100.0' prefix='24' gateway='192.0.2.2'/></network>
        """;

    [SetUp]
    public void CreateNamespace() => Tools.UndoIfFails(CreateNamespaceSteps, RemoveNamespace);

    private void CreateNamespaceSteps()
    {
        _ip = Tools.Require("ip", "iproute2");
        Tools.Require(firewallBackend == "nftables" ? "nft" : "iptables-restore", firewallBackend);
        _ns = "vndsf" + Guid.NewGuid().ToString("N")[..8];
        Assert.That(Tools.Run(_ip, ["netns", "add", _ns]).ExitCode, Is.Zero);
        _root = DaemonProcess.NewRoot();
        var type = firewallBackend == "nftables" ? FirewallBackendType.Nftables : FirewallBackendType.Iptables;
        _backend = new LinuxBackend(type, m => { lock (_log) _log.Add(m); }, $"/var/run/netns/{_ns}", new NamespaceFirewallRunner(_ip, _ns));
        _driver = new NetworkDriver.Driver.NetworkDriver(Path.Combine(_root, "networks"), Path.Combine(_root, "networks/autostart"),
            Path.Combine(_root, "state"), privileged: true, _backend);
        _driver.Load();
    }

    [TearDown]
    public void RemoveNamespace()
    {
        _backend.Dispose();
        Tools.Run(_ip, ["netns", "del", _ns]);
        try { Directory.Delete(_root, recursive: true); } catch (IOException) { }
    }

    private string[] Links() => JsonDocument.Parse(Tools.Run(_ip, ["-n", _ns, "-j", "link", "show"]).Stdout).RootElement
        .EnumerateArray().Select(l => l.GetProperty("ifname").GetString()!).Order().ToArray();

    private string Rules() => firewallBackend == "nftables"
        ? Tools.Run(_ip, ["netns", "exec", _ns, "nft", "list", "ruleset"]).Stdout
        : Tools.Run(_ip, ["netns", "exec", _ns, "iptables-save"]).Stdout + Tools.Run(_ip, ["netns", "exec", _ns, "ip6tables-save"]).Stdout;

    private string StatusFile => Path.Combine(_root, "state", "fail.xml");

    private void AssertNothingIsLeft(string after)
    {
        Assert.That(Links(), Is.EqualTo(new[] { "lo" }), $"{after}: no bridge");
        Assert.That(Tools.Run(_ip, ["-n", _ns, "route", "show", "198.51.100.0/24"]).Stdout, Is.Empty, $"{after}: no static route");
        string rules = Rules();
        Assert.That(rules, Does.Not.Contain("192.0.2.0/24").And.Not.Contain("2001:db8:5::/64").And.Not.Contain("vnfail0"), $"{after}: no rule");
        Assert.That(File.Exists(StatusFile), Is.False, $"{after}: no status file");
        Assert.That(_driver.IsActive(_driver.LookupByName("fail")), Is.False, $"{after}: inactive");
    }

    [Test]
    public void AFailureBeforeAnyStepUndoesTheStepsBefore()
    {
        var net = _driver.DefineXml(Nat, 0);
        var names = _backend.StepNames;
        Assert.That(names, Is.EqualTo(new[] { "route collision check", "bridge", "IPv6 sysctls", "firewall", "addresses", "MAC table manager", "link up", "static routes", "IP forwarding", "dnsmasq", "systemd-resolved", "bandwidth" }),
            "libvirt's order");
        foreach (string failing in names)
        {
            _backend.BeforeStep = name =>
            {
                if (name == failing) throw new LibvirtError(VirErrorCode.InternalError, VirErrorDomain.Network, $"injected failure before '{name}'");
            };
            var e = Assert.Throws<LibvirtError>(() => _driver.Create(net))!;
            Assert.That(e.Message, Is.EqualTo($"internal error: injected failure before '{failing}'"));
            AssertNothingIsLeft($"failed before '{failing}'");
        }
        lock (_log) Assert.That(_log.Where(l => l.Contains("undoing", StringComparison.Ordinal)), Is.Empty, "every undo worked");

        // the same network starts when nothing fails, and its destroy leaves nothing either
        _backend.BeforeStep = null;
        _driver.Create(net);
        Assert.That(Links(), Does.Contain("vnfail0"));
        Assert.That(Rules(), Does.Contain("192.0.2.0/24"));
        Assert.That(Tools.Run(_ip, ["netns", "exec", _ns, "tc", "class", "show", "dev", "vnfail0"]).Stdout, Does.Contain("class htb 1:2 parent 1:1"), "the bandwidth step ran");
        _driver.Destroy(net);
        AssertNothingIsLeft("destroy");
    }

    [Test]
    public void AStatusFileThatCannotBeWrittenUndoesTheWholeStart()
    {
        var net = _driver.DefineXml(Nat, 0);
        Directory.CreateDirectory(StatusFile); // the rename onto it fails
        var e = Assert.Throws<LibvirtError>(() => _driver.Create(net))!;
        Assert.That(e.Message, Does.StartWith($"cannot save status file '{StatusFile}'"));
        Directory.Delete(StatusFile);
        AssertNothingIsLeft("a failed status write");
    }
}
