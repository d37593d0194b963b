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

    [Test]
    public void MacTableManagerLibvirtTurnsOnTheBridgesVlanFiltering()
    {
        var libvirt = Start("<network><name>mtm</name><forward mode='nat'/><bridge name='vnbr7' macTableManager='libvirt'/><ip address='10.9.7.1' prefix='24'/></network>");
        Start("<network><name>kern</name><forward mode='nat'/><bridge name='vnbr8'/><ip address='10.9.6.1' prefix='24'/></network>");
        int Filtering(string bridge) => IpJson("-d", "link", "show", bridge)[0].GetProperty("linkinfo").GetProperty("info_data").GetProperty("vlan_filtering").GetInt32();
        Assert.That(Filtering("vnbr8"), Is.EqualTo(0), "the kernel's own MAC table manager: left as the kernel made it");
        // what this kernel can do, asked of iproute2 on a bridge of its own
        Assert.That(Ip("link", "add", "vnprobe0", "type", "bridge").ExitCode, Is.Zero);
        bool supported = Ip("link", "set", "vnprobe0", "type", "bridge", "vlan_filtering", "1").ExitCode == 0;
        TestContext.Out.WriteLine($"bridge VLAN filtering in this kernel: {supported}");
        if (supported)
        {
            Assert.That(Filtering("vnbr7"), Is.EqualTo(1));
            Assert.That(libvirt.Warnings, Is.Empty);
        }
        else
        {
            Assert.That(Ip("link", "show", "vnbr7").ExitCode, Is.Zero, "the network starts without it");
            Assert.That(libvirt.Warnings, Has.One.Contains("the kernel has no bridge VLAN filtering"));
        }
    }

    /// <summary>A router in namespace R advertises itself on a veth to ours: the kernel adds a
    /// default route with RTF_ADDRCONF, as on a host whose IPv6 comes from router advertisements.</summary>
    private string AddRouterAdvertisedDefaultRoute()
    {
        string router = "vndra" + Guid.NewGuid().ToString("N")[..8];
        Assert.That(Tools.Run(_ip, ["netns", "add", router]).ExitCode, Is.Zero);
        _extraNamespaces.Add(router);
        // no duplicate address detection: the link-local addresses are usable at once
        Assert.That(Tools.Run(_ip, ["netns", "exec", router, "sysctl", "-qw", "net.ipv6.conf.default.accept_dad=0"]).ExitCode, Is.Zero);
        _host.WriteSysctl("net/ipv6/conf/default/accept_dad", "0", ignoreMissing: false);
        Assert.That(Ip("link", "add", "vnup0", "type", "veth", "peer", "name", "vnrouter0", "netns", router).ExitCode, Is.Zero);
        Assert.That(Ip("link", "set", "vnup0", "up").ExitCode, Is.Zero);
        Assert.That(Tools.Run(_ip, ["-n", router, "link", "set", "vnrouter0", "up"]).ExitCode, Is.Zero);
        const string advertise = """
            import socket, struct, sys
            s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, 255)
            index = socket.if_nametoindex('vnrouter0')
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_IF, index)
            # router advertisement: hop limit 64, router lifetime 1800 s
            s.sendto(struct.pack('!BBHBBHII', 134, 0, 0, 64, 0, 1800, 0, 0), ('ff02::1', 0, 0, index))
            """;
        for (int i = 0; i < 50; i++)
        {
            // the sender's link-local address appears once its link has carrier
            Tools.Run(_ip, ["netns", "exec", router, "/usr/bin/python3", "-c", advertise]);
            if (Ip("-6", "route", "show", "default").Stdout.Contains("proto ra", StringComparison.Ordinal)) return router;
            Thread.Sleep(100);
        }
        Assert.Fail("no router-advertised default route appeared");
        return router;
    }

    private readonly List<string> _extraNamespaces = [];

    [TearDown]
    public void RemoveExtraNamespaces()
    {
        foreach (var ns in _extraNamespaces) Tools.Run(_ip, ["netns", "del", ns]);
        _extraNamespaces.Clear();
    }

    private const string Nat6 = """
        <network><name>nat6</name><forward mode='nat'/><bridge name='vnbr9'/>
        <ip address='192.0.2.1' netmask='255.255.255.0'/><ip family='ipv6' address='2001:db8:9::1' prefix='64'/></network>
        """;

    [Test]
    public void IPv6ForwardingIsRefusedWhileARouterAdvertisedRouteWouldBeFlushed()
    {
        AddRouterAdvertisedDefaultRoute();
        Assert.That(_host.ReadSysctl("net/ipv6/conf/vnup0/accept_ra"), Is.EqualTo("1"));
        var e = Assert.Throws<LibvirtError>(() => Start(Nat6))!;
        Assert.That(e.Message, Is.EqualTo("internal error: Check the host setup: interface vnup0 has kernel autoconfigured IPv6 routes and enabling forwarding without accept_ra set to 2 will cause the kernel to flush them, breaking networking."));
        Assert.That(Links(), Is.EqualTo(new[] { "lo", "vnup0" }), "the bridge is gone again");
        Assert.That(_host.ReadSysctl("net/ipv4/ip_forward"), Is.EqualTo("0"), "no forwarding turned on, not even IPv4's");
        Assert.That(_host.ReadSysctl("net/ipv6/conf/all/forwarding"), Is.EqualTo("0"));

        // an IPv4-only network does not turn IPv6 forwarding on: no check
        var v4 = Start("<network><name>nat4</name><forward mode='nat'/><bridge name='vnbr10'/><ip address='10.9.5.1' prefix='24'/></network>");
        VirtualNetworkSteps.Stop(_host, v4.Record);

        // accept_ra=2 keeps the advertised routes while forwarding: the start goes on, the route stays
        _host.WriteSysctl("net/ipv6/conf/vnup0/accept_ra", "2", ignoreMissing: false);
        var c = Start(Nat6);
        Assert.That(_host.ReadSysctl("net/ipv6/conf/all/forwarding"), Is.EqualTo("1"));
        Assert.That(Ip("-6", "route", "show", "default").Stdout, Does.Contain("proto ra"));
        VirtualNetworkSteps.Stop(_host, c.Record);
    }
}
