using System.Net;
using VirtNetworkd.Errors;
using VirtNetworkd.NetworkDriver.Backend.Linux;
using VirtNetworkd.NetworkDriver.Backend.Netlink;
using VirtNetworkd.NetworkDriver.Xml;

namespace VirtNetworkd.NetworkDriver.Tests.Backend;

/// <summary>networkCheckRouteCollision over a routing-table dump.</summary>
public sealed class RouteCollisionTests
{
    private static readonly Dictionary<int, string> Names = new() { [2] = "eth0", [3] = "docker0" };

    private static RouteInfo V4(string dst, byte len, int oif, uint table = Nl.RtTableMain, byte type = Nl.RtnUnicast) =>
        new(Nl.AfInet, len, IPAddress.Parse(dst), oif, table, type, null);

    private static NetworkDef Def(string extra) => NetworkXml.Parse($"<network><name>n</name><bridge name='vbr9'/>{extra}</network>");

    [Test]
    public void ASubnetRoutedElsewhereIsInUse()
    {
        var def = Def("<ip address='172.17.0.1' netmask='255.255.0.0'/>");
        var e = Assert.Throws<LibvirtError>(() => RouteCollision.Check(def, [V4("0.0.0.0", 0, 2), V4("172.17.0.0", 16, 3)], Names))!;
        Assert.That(e.Message, Is.EqualTo("internal error: Network is already in use by interface docker0"));
    }

    [Test]
    public void OtherPrefixesTablesAndTypesDoNotCollide()
    {
        var def = Def("<ip address='192.168.122.1' prefix='24'/>");
        RouteCollision.Check(def, [
            V4("192.168.0.0", 16, 2),                    // a wider route: not the same network
            V4("192.168.122.0", 24, 2, table: 255),      // the local table
            V4("192.168.122.0", 24, 2, type: 2),          // not unicast
            V4("10.0.0.0", 8, 2),
        ], Names);
    }

    [Test]
    public void AStaticRouteOfTheNetworkCollidesToo()
    {
        var def = Def("<ip address='192.168.122.1' prefix='24'/><route address='10.20.0.0' prefix='16' gateway='192.168.122.2'/>");
        var e = Assert.Throws<LibvirtError>(() => RouteCollision.Check(def, [V4("10.20.0.0", 16, 2)], Names))!;
        Assert.That(e.Message, Is.EqualTo("internal error: Route address '10.20.0.0' conflicts with IP address for 'eth0'"));
    }

    [Test]
    public void IPv6SubnetsAreCheckedAsWell()
    {
        var def = Def("<ip family='ipv6' address='2001:db8:ca2:2::1' prefix='64'/>");
        var route = new RouteInfo(Nl.AfInet6, 64, IPAddress.Parse("2001:db8:ca2:2::"), 3, Nl.RtTableMain, Nl.RtnUnicast, null);
        Assert.Throws<LibvirtError>(() => RouteCollision.Check(def, [route], Names));
        RouteCollision.Check(def, [route with { DestinationLength = 48, Destination = IPAddress.Parse("2001:db8:ca2::") }], Names);
    }
}
