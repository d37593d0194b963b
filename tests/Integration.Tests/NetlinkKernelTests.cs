using System.Net;
using System.Text.Json;
using VirtNetworkd.NetworkDriver.Backend.Netlink;
using VirtNetworkd.NetworkDriver.Xml.Net;

namespace VirtNetworkd.Integration.Tests;

/// <summary>
/// Our rtnetlink client against a real kernel, inside a network namespace this test creates and
/// removes (never the host's own): what it makes is what `ip` then reports.
/// </summary>
public sealed class NetlinkKernelTests
{
    private string _ns = "";
    private string _ip = "";

    [SetUp]
    public void CreateNamespace()
    {
        _ip = Tools.Require("ip", "iproute2");
        _ns = "vndnl" + Guid.NewGuid().ToString("N")[..8];
        var r = Tools.Run(_ip, ["netns", "add", _ns]);
        Assert.That(r.ExitCode, Is.Zero, r.ToString());
    }

    [TearDown]
    public void RemoveNamespace() => Tools.Run(_ip, ["netns", "del", _ns]);

    private JsonElement IpJson(params string[] args)
    {
        var r = Tools.Run(_ip, new[] { "-n", _ns, "-j" }.Concat(args));
        Assert.That(r.ExitCode, Is.Zero, r.ToString());
        return JsonDocument.Parse(r.Stdout).RootElement;
    }

    [Test]
    public void BridgeAddressesAndRoutesAreMadeAsIpReportsThem()
    {
        using var nl = new RtNetlinkClient(NetlinkSocket.Open($"/var/run/netns/{_ns}"));
        Assert.That(nl.GetLink("vnbr0"), Is.Null, "a fresh namespace has no such device");
        Assert.That(nl.GetLink("lo"), Is.Not.Null);

        var bridge = nl.CreateBridge("vnbr0", MacAddr.Parse("52:54:00:ab:cd:ef"), 1400, stp: true, forwardDelayCentiseconds: 300);
        Assert.That((bridge.Name, bridge.Kind, bridge.Mtu, bridge.IsUp), Is.EqualTo(("vnbr0", "bridge", 1400u, false)));

        var link = IpJson("-d", "link", "show", "vnbr0")[0];
        Assert.That(link.GetProperty("address").GetString(), Is.EqualTo("52:54:00:ab:cd:ef"));
        Assert.That(link.GetProperty("mtu").GetInt32(), Is.EqualTo(1400));
        var data = link.GetProperty("linkinfo").GetProperty("info_data");
        Assert.That(data.GetProperty("stp_state").GetInt32(), Is.EqualTo(1));
        Assert.That(data.GetProperty("forward_delay").GetInt32(), Is.EqualTo(300));

        nl.SetUp(bridge.Index, up: true);
        Assert.That(nl.GetLink("vnbr0")!.IsUp, Is.True);
        nl.AddAddress(bridge.Index, IPAddress.Parse("192.0.2.1"), 24, IPAddress.Parse("192.0.2.255"));
        nl.AddAddress(bridge.Index, IPAddress.Parse("2001:db8:5::1"), 64, null);
        var addrs = IpJson("addr", "show", "dev", "vnbr0")[0].GetProperty("addr_info").EnumerateArray()
            .Select(a => $"{a.GetProperty("local").GetString()}/{a.GetProperty("prefixlen").GetInt32()}"
                + (a.TryGetProperty("broadcast", out var b) ? " brd " + b.GetString() : "")).ToArray();
        Assert.That(addrs, Does.Contain("192.0.2.1/24 brd 192.0.2.255"));
        Assert.That(addrs, Does.Contain("2001:db8:5::1/64"));
        Assert.That(nl.Addresses(Nl.AfInet).Any(a => a.Index == bridge.Index && a.Local!.Equals(IPAddress.Parse("192.0.2.1"))), Is.True);

        // the kernel's own route for the subnet, seen in our dump (the route-collision check)
        Assert.That(nl.Routes(Nl.AfInet).Any(r => r.OutputInterface == bridge.Index && r.DestinationLength == 24
            && r.Destination!.Equals(IPAddress.Parse("192.0.2.0")) && r.Table == Nl.RtTableMain), Is.True);
        nl.AddRoute(IPAddress.Parse("198.51.100.0"), 24, IPAddress.Parse("192.0.2.254"), bridge.Index, null);
        var route = IpJson("route", "show", "198.51.100.0/24")[0];
        Assert.That(route.GetProperty("gateway").GetString(), Is.EqualTo("192.0.2.254"));
        Assert.That(route.GetProperty("dev").GetString(), Is.EqualTo("vnbr0"));

        var clash = Assert.Throws<NetlinkErrorException>(() => nl.CreateBridge("vnbr0", null, null, null, null))!;
        Assert.That(clash.Errno, Is.EqualTo(NetlinkErrorException.EExist));

        nl.DeleteLink(bridge.Index);
        Assert.That(nl.GetLink("vnbr0"), Is.Null);
        Assert.That(IpJson("link", "show").EnumerateArray().Select(l => l.GetProperty("ifname").GetString()), Is.EqualTo(new[] { "lo" }));
    }

    [Test]
    public void BridgePortsLearnAndFloodAsTold()
    {
        using var nl = new RtNetlinkClient(NetlinkSocket.Open($"/var/run/netns/{_ns}"));
        var bridge = nl.CreateBridge("vnbr1", null, null, null, null);
        var r = Tools.Run(_ip, ["-n", _ns, "link", "add", "vnport0", "type", "veth", "peer", "name", "vnpeer0"]);
        Assert.That(r.ExitCode, Is.Zero, r.ToString());
        var port = nl.GetLink("vnport0")!;
        nl.SetMaster(port.Index, bridge.Index);
        Assert.That(nl.GetLink("vnport0")!.Master, Is.EqualTo(bridge.Index));
        nl.SetPortLearningAndFlood(port.Index, learning: false, flood: false);
        var show = Tools.Run(_ip, ["-n", _ns, "-d", "-j", "link", "show", "vnport0"]);
        var slave = JsonDocument.Parse(show.Stdout).RootElement[0].GetProperty("linkinfo").GetProperty("info_slave_data");
        Assert.That(slave.GetProperty("learning").GetBoolean(), Is.False);
        Assert.That(slave.GetProperty("flood").GetBoolean(), Is.False);
    }
}
