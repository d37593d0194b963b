using VirtNetworkd.NetworkDriver.Backend.Linux;

namespace VirtNetworkd.NetworkDriver.Tests.Backend;

/// <summary>virNetDevIPCheckIPv6Forwarding's reading of /proc/net/ipv6_route (lines as a kernel printed them).</summary>
public sealed class IPv6ForwardingCheckTests
{
    private const string Routes = """
        fe800000000000000000000000000000 40 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000001 00000000 00000001      vxa
        00000000000000000000000000000000 00 00000000000000000000000000000000 00 fe8000000000000038125dfffe9c0f60 00000400 00000001 00000000 00450003 enp0s31f6
        00000000000000000000000000000000 00 00000000000000000000000000000000 00 00000000000000000000000000000000 ffffffff 00000001 00000000 00200200       lo

        """;

    [Test]
    public void AnAutoconfiguredRouteOnAnInterfaceAcceptingRouterAdvertisementsIsUnsafe()
    {
        Assert.That(IPv6ForwardingCheck.FirstUnsafeInterface(Routes, iface => iface is null ? 0 : 1), Is.EqualTo("enp0s31f6"),
            "the whole name, not libvirt's first 8 characters");
    }

    [TestCase(2, 1, ExpectedResult = null, Description = "accept_ra=2 keeps the routes while forwarding")]
    [TestCase(0, 1, ExpectedResult = "enp0s31f6", Description = "the interface's default defers to all/accept_ra")]
    [TestCase(0, 0, ExpectedResult = null)]
    [TestCase(-1, 1, ExpectedResult = null, Description = "unreadable: libvirt lets it pass")]
    public string? TheInterfacesAcceptRaDecides(int iface, int all) =>
        IPv6ForwardingCheck.FirstUnsafeInterface(Routes, name => name is null ? all : iface);

    [Test]
    public void RoutesWithoutRtfAddrconfAreNotLookedAt()
    {
        var asked = new List<string?>();
        Assert.That(IPv6ForwardingCheck.FirstUnsafeInterface(Routes.Replace("00450003", "00000003", StringComparison.Ordinal), n => { asked.Add(n); return 1; }), Is.Null);
        Assert.That(asked, Is.EqualTo(new string?[] { null }));
    }
}
