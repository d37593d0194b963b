using System.Text.Json;
using VirtNetworkd.Errors;
using VirtNetworkd.NetworkDriver.Backend;
using VirtNetworkd.NetworkDriver.Backend.Linux;
using VirtNetworkd.NetworkDriver.Xml;

namespace VirtNetworkd.Integration.Tests;

/// <summary>
/// The kernel steps of a virtual network's start (networkStartNetworkVirtual's order) run for
/// real, inside a network namespace this test creates and removes: what `ip` and /proc/sys show
/// afterwards, and that a failure at any step leaves nothing behind.
/// </summary>
public sealed class VirtualNetworkStepsKernelTests
{
    private string _ns = "";
    private string _ip = "";
    private LinuxHost _host = null!;

    [SetUp]
    public void CreateNamespace()
    {
        _ip = Tools.Require("ip", "iproute2");
        _ns = "vndst" + Guid.NewGuid().ToString("N")[..8];
        Assert.That(Tools.Run(_ip, ["netns", "add", _ns]).ExitCode, Is.Zero);
        _host = new LinuxHost($"/var/run/netns/{_ns}");
    }

    [TearDown]
    public void RemoveNamespace()
    {
        _host.Dispose();
        Tools.Run(_ip, ["netns", "del", _ns]);
    }

    private Tools.Result Ip(params string[] args) => Tools.Run(_ip, new[] { "-n", _ns }.Concat(args));

    private JsonElement IpJson(params string[] args) => JsonDocument.Parse(Ip(new[] { "-j" }.Concat(args).ToArray()).Stdout).RootElement;

    private string[] Links() => IpJson("link", "show").EnumerateArray().Select(l => l.GetProperty("ifname").GetString()!).Order().ToArray();

    private VirtualNetworkStart Start(string xml, params StartStep<VirtualNetworkStart>[] extra)
    {
        var c = new VirtualNetworkStart(_host, NetworkXml.Parse(xml));
        StepRunner.Run([.. VirtualNetworkSteps.Bridge, .. extra], c);
        return c;
    }

    private const string Nat = """
        <network><name>nat</name><forward mode='nat'/><bridge name='vnbr5' stp='on' delay='2'/><mac address='52:54:00:0a:0b:0c'/><mtu size='1400'/>
        <ip address='192.0.2.1' netmask='255.255.255.0'/><ip family='ipv6' address='2001:db8:7::1' prefix='64'/>
        <route address='198.51.100.0' prefix='24' gateway='192.0.2.2'/></network>
        """;

    [Test]
    public void ANatNetworkGetsItsBridgeAddressesRoutesAndSysctls()
    {
        var c = Start(Nat);
        Assert.That((c.Record.Bridge, c.Record.BridgeCreated), Is.EqualTo(("vnbr5", true)));
        var link = IpJson("-d", "link", "show", "vnbr5")[0];
        Assert.That(link.GetProperty("address").GetString(), Is.EqualTo("52:54:00:0a:0b:0c"));
        Assert.That(link.GetProperty("mtu").GetInt32(), Is.EqualTo(1400));
        Assert.That(link.GetProperty("flags").EnumerateArray().Select(f => f.GetString()), Does.Contain("UP"));
        var data = link.GetProperty("linkinfo").GetProperty("info_data");
        Assert.That(data.GetProperty("stp_state").GetInt32(), Is.EqualTo(1));
        Assert.That(data.GetProperty("forward_delay").GetInt32(), Is.EqualTo(200));

        var addrs = IpJson("addr", "show", "dev", "vnbr5")[0].GetProperty("addr_info").EnumerateArray()
            .Where(a => a.GetProperty("scope").GetString() == "global")
            .Select(a => $"{a.GetProperty("local").GetString()}/{a.GetProperty("prefixlen").GetInt32()}"
                + (a.TryGetProperty("broadcast", out var b) ? " brd " + b.GetString() : "")).Order().ToArray();
        Assert.That(addrs, Is.EqualTo(new[] { "192.0.2.1/24 brd 192.0.2.255", "2001:db8:7::1/64" }));
        Assert.That(IpJson("route", "show", "198.51.100.0/24")[0].GetProperty("gateway").GetString(), Is.EqualTo("192.0.2.2"));

        Assert.That(_host.ReadSysctl("net/ipv6/conf/vnbr5/disable_ipv6"), Is.EqualTo("0"));
        Assert.That(_host.ReadSysctl("net/ipv6/conf/vnbr5/accept_ra"), Is.EqualTo("0"));
        Assert.That(_host.ReadSysctl("net/ipv6/conf/vnbr5/autoconf"), Is.EqualTo("0"));
        Assert.That(_host.ReadSysctl("net/ipv4/ip_forward"), Is.EqualTo("1"));
        Assert.That(_host.ReadSysctl("net/ipv6/conf/all/forwarding"), Is.EqualTo("1"));

        VirtualNetworkSteps.Stop(_host, c.Record);
        Assert.That(Links(), Is.EqualTo(new[] { "lo" }), "destroy leaves nothing");
    }

    [Test]
    public void AnIsolatedNetworkWithoutIPv6TurnsItOffAndForwardsNothing()
    {
        Start("<network><name>iso</name><bridge name='vnbr6'/><ip address='10.9.8.1' prefix='24'/></network>");
        Assert.That(_host.ReadSysctl("net/ipv6/conf/vnbr6/disable_ipv6"), Is.EqualTo("1"));
        Assert.That(_host.ReadSysctl("net/ipv4/ip_forward"), Is.EqualTo("0"), "no forward mode: forwarding left alone");
    }

    [Test]
    public void ASubnetAlreadyRoutedElsewhereFailsTheStartBeforeAnythingIsMade()
    {
        // this kernel has no dummy devices: a veth pair stands in for another interface
        Assert.That(Ip("link", "add", "vnother0", "type", "veth", "peer", "name", "vnother1").ExitCode, Is.Zero);
        Assert.That(Ip("addr", "add", "192.0.2.9/24", "dev", "vnother0").ExitCode, Is.Zero);
        Assert.That(Ip("link", "set", "vnother0", "up").ExitCode, Is.Zero);
        var e = Assert.Throws<LibvirtError>(() => Start(Nat))!;
        Assert.That(e.Message, Is.EqualTo("internal error: Network is already in use by interface vnother0"));
        Assert.That(Links(), Is.EqualTo(new[] { "lo", "vnother0", "vnother1" }));
    }

    [Test]
    public void ABridgeNameTakenByAnotherDeviceIsLibvirtsError()
    {
        Assert.That(Ip("link", "add", "vnbr5", "type", "veth", "peer", "name", "vnpeer5").ExitCode, Is.Zero);
        var e = Assert.Throws<LibvirtError>(() => Start(Nat))!;
        Assert.That(e.Message, Is.EqualTo("error creating bridge interface vnbr5: File exists"));
        Assert.That(Ip("-d", "link", "show", "vnbr5").Stdout, Does.Contain("veth"), "the other device is untouched");
    }

    [Test]
    public void AFailureAfterTheLinkIsUpUndoesEveryStep()
    {
        var fail = new StartStep<VirtualNetworkStart>("firewall", _ => throw new LibvirtError(VirErrorCode.InternalError, VirErrorDomain.Network, "injected"));
        var e = Assert.Throws<LibvirtError>(() => Start(Nat, fail))!;
        Assert.That(e.Message, Is.EqualTo("internal error: injected"));
        Assert.That(Links(), Is.EqualTo(new[] { "lo" }), "the bridge, its addresses and routes are gone");
        Assert.That(Ip("route", "show", "198.51.100.0/24").Stdout, Is.Empty);
    }
}
