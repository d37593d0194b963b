using VirtNetworkd.NetworkDriver.Backend.Resolved;
using VirtNetworkd.NetworkDriver.Xml;

namespace VirtNetworkd.NetworkDriver.Tests.Backend;

/// <summary>What networkStartNetworkVirtual registers with systemd-resolved, and when.</summary>
public sealed class ResolvedNameServerTests
{
    private static ResolvedNameServer? For(string domain, string ips) =>
        ResolvedNameServer.For(NetworkXml.Parse($"<network><name>n</name><bridge name='vbr9'/>{domain}{ips}</network>"));

    private const string Register = "<domain name='example.test' localOnly='yes' register='yes'/>";

    [Test]
    public void TheFirstIpWhateverItsFamilyIsTheNameServer()
    {
        var v4 = For(Register, "<ip address='192.0.2.1' prefix='24'/><ip family='ipv6' address='2001:db8::1' prefix='64'/>");
        Assert.That((v4!.Domain, v4.Address.ToString(), v4.Family), Is.EqualTo(("example.test", "192.0.2.1", 2)));
        var v6 = For(Register, "<ip family='ipv6' address='2001:db8::1' prefix='64'/><ip address='192.0.2.1' prefix='24'/>");
        Assert.That((v6!.Address.ToString(), v6.Family), Is.EqualTo(("2001:db8::1", 10)));
    }

    [Test]
    public void WithoutRegisterYesADomainOrAnIpNothingIsRegistered()
    {
        const string Ip = "<ip address='192.0.2.1' prefix='24'/>";
        Assert.That(For("<domain name='example.test' localOnly='yes'/>", Ip), Is.Null);
        Assert.That(For("<domain name='example.test' localOnly='yes' register='no'/>", Ip), Is.Null);
        Assert.That(For("", Ip), Is.Null);
        Assert.That(For(Register, ""), Is.Null);
    }
}
