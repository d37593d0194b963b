using VirtNetworkd.Errors;
using VirtNetworkd.NetworkDriver.Xml;
using VirtNetworkd.NetworkDriver.Xml.Update;

namespace VirtNetworkd.NetworkDriver.Tests;

/// <summary>Clone, status formatting, metadata access and net-update error paths.</summary>
[TestFixture]
public sealed class ModelTests
{
    private const string Uuid = "81ff0d90-c91e-6742-64da-4a736edb9a9b";

    public static IEnumerable<TestCaseData> RoundTripCases() =>
        NetworkXml2XmlTests.AllCases().Where(c => !c.ExpectParseFailure)
            .Select(c => new TestCaseData(c).SetName("round trip " + c.Name));

    /// <summary>Every canonical output parses back to a definition that prints the same, and Clone changes nothing.</summary>
    [TestCaseSource(nameof(RoundTripCases))]
    public void FormatParseFormatIsStableAndCloneIsFaithful(NetworkXml2XmlTests.Case c)
    {
        NetworkDef def = NetworkXml.Parse(File.ReadAllText(Path.Combine(c.TestsDir, "networkxml2xmlin", c.Name + ".xml")));
        string once = NetworkXml.Format(def);
        Assert.That(NetworkXml.Format(NetworkXml.Parse(once)), Is.EqualTo(once));
        Assert.That(NetworkXml.Format(def.Clone()), Is.EqualTo(once));
        Assert.That(NetworkXml.Format(NetworkXml.Reparse(def)), Is.EqualTo(once));
    }

    [Test]
    public void CloneIsDeep()
    {
        NetworkDef def = NetworkXml.Parse(File.ReadAllText(Path.Combine(LibvirtVectors.Tests90, "networkxml2xmlin", "nat-network-dns-hosts.xml")));
        string before = NetworkXml.Format(def);
        NetworkDef copy = def.Clone();
        copy.Dns.Hosts[0].Names.Add("extra");
        copy.Ips[0].Hosts.Clear();
        copy.Forward.Interfaces[0].Dev = "eth9";
        copy.Name = "other";
        Assert.That(NetworkXml.Format(def), Is.EqualTo(before));
    }

    [Test]
    public void StatusFormattingShowsConnectionsUnlessInactive()
    {
        NetworkDef def = NetworkXml.Parse($"<network><name>n</name><uuid>{Uuid}</uuid><forward mode='bridge'><interface dev='eth0'/><interface dev='eth1'/></forward></network>");
        def.Connections = 3;
        def.Forward.Interfaces[1].Connections = 2;
        string live = NetworkXml.Format(def);
        Assert.That(live, Does.StartWith("<network connections='3'>\n"));
        Assert.That(live, Does.Contain("    <interface dev='eth1' connections='2'/>\n"));
        string inactive = NetworkXml.Format(def, NetworkFormatFlags.Inactive);
        Assert.That(inactive, Does.StartWith("<network>\n"));
        Assert.That(inactive, Does.Not.Contain("connections"));
    }

    [Test]
    public void PfPoolInterfacesAreStatusOnly()
    {
        NetworkDef def = NetworkXml.Parse($"<network><name>n</name><uuid>{Uuid}</uuid><forward mode='passthrough'><pf dev='eth0'/></forward></network>");
        // the driver fills the pool from the PF's virtual functions when the network starts
        def.Forward.Interfaces.Add(new ForwardIfDef { Type = HostdevDeviceType.Netdev, Dev = "eth0v0" });
        Assert.That(NetworkXml.Format(def), Does.Contain("<pf dev='eth0'/>\n    <interface dev='eth0v0'/>"));
        Assert.That(NetworkXml.Format(def, NetworkFormatFlags.Inactive), Does.Not.Contain("interface"));
    }

    [Test]
    public void DnsmasqOptionsNamespace()
    {
        NetworkDef def = NetworkXml.Parse(
            $"<network xmlns:d='http://libvirt.org/schemas/network/dnsmasq/1.0'><name>n</name><uuid>{Uuid}</uuid>" +
            "<d:options><d:option value='a=1'/></d:options><d:options><d:option value=\"b='2'\"/></d:options></network>");
        Assert.That(def.DnsmasqOptions, Is.EqualTo(new[] { "a=1", "b='2'" }));
        Assert.That(NetworkXml.Format(def), Is.EqualTo(
            "<network xmlns:dnsmasq='http://libvirt.org/schemas/network/dnsmasq/1.0'>\n" +
            $"  <name>n</name>\n  <uuid>{Uuid}</uuid>\n  <bridge stp='on' delay='0'/>\n" +
            "  <dnsmasq:options>\n    <dnsmasq:option value='a=1'/>\n    <dnsmasq:option value='b=&apos;2&apos;'/>\n  </dnsmasq:options>\n</network>\n"));

        var e = Assert.Throws<LibvirtError>(() => NetworkXml.Parse(
            "<network xmlns:dnsmasq='http://libvirt.org/schemas/network/dnsmasq/1.0'><name>n</name><dnsmasq:options><dnsmasq:option/></dnsmasq:options></network>"))!;
        Assert.That(e.Message, Is.EqualTo("internal error: No dnsmasq options value specified"));
    }

    [Test]
    public void MetadataElementAccess()
    {
        NetworkDef def = NetworkXml.Parse(
            $"<network><name>n</name><uuid>{Uuid}</uuid><metadata><app:foo xmlns:app='http://app/'><app:bar x='1'>t</app:bar><baz/></app:foo></metadata></network>");
        Assert.That(NetworkMetadata.GetElementXml(def, "http://app/"), Is.EqualTo("<foo>\n  <bar x=\"1\">t</bar>\n  <baz/>\n</foo>"));
        Assert.That(NetworkMetadata.GetElementXml(def, "http://other/"), Is.Null);

        NetworkMetadata.SetElementXml(def, "<settings><level>3</level></settings>", "my", "http://my/");
        NetworkMetadata.SetElementXml(def, "<other/>", "app", "http://app/");
        Assert.That(NetworkXml.Format(def), Does.Contain(
            "  <metadata>\n" +
            "    <my:settings xmlns:my=\"http://my/\">\n      <my:level>3</my:level>\n    </my:settings>\n" +
            "    <app:other xmlns:app=\"http://app/\"/>\n" +
            "  </metadata>\n"));
        Assert.That(NetworkMetadata.GetElementXml(def, "http://my/"), Is.EqualTo("<settings>\n  <level>3</level>\n</settings>"));

        NetworkMetadata.SetElementXml(def, null, null, "http://my/");
        NetworkMetadata.SetElementXml(def, null, null, "http://app/");
        Assert.That(def.Metadata, Is.Null);

        var e = Assert.Throws<LibvirtError>(() => NetworkMetadata.SetElementXml(def, "<a/>", "not a name", "http://x/"))!;
        Assert.That(e.Message, Is.EqualTo("internal error: failed to validate prefix for a new XML namespace"));
        Assert.Throws<LibvirtError>(() => NetworkMetadata.SetElementXml(def, "<a", "k", "http://x/"));
    }

    private static NetworkDef Nat() => NetworkXml.Parse(File.ReadAllText(Path.Combine(LibvirtVectors.Tests90, "networkxml2xmlin", "nat-network.xml")));

    private static LibvirtError UpdateFails(NetworkDef def, NetworkUpdateCommand cmd, NetworkUpdateSection section, int parentIndex, string xml)
    {
        string before = NetworkXml.Format(def);
        var e = Assert.Throws<LibvirtError>(() => NetworkUpdate.Apply(def, (int)cmd, (int)section, parentIndex, xml, 0))!;
        Assert.That(NetworkXml.Format(def), Is.EqualTo(before), "a failed update must leave the definition alone");
        return e;
    }

    [TestCase(NetworkUpdateSection.Bridge, "bridge")]
    [TestCase(NetworkUpdateSection.Domain, "domain")]
    [TestCase(NetworkUpdateSection.Ip, "ip")]
    [TestCase(NetworkUpdateSection.Forward, "forward")]
    [TestCase(NetworkUpdateSection.ForwardPf, "forward pf")]
    public void SectionsThatCannotBeUpdated(NetworkUpdateSection section, string name)
    {
        LibvirtError e = UpdateFails(Nat(), NetworkUpdateCommand.Modify, section, -1, "<x/>");
        Assert.That((e.Code, e.Message), Is.EqualTo((VirErrorCode.OperationUnsupported,
            $"Operation not supported: can't update '{name}' section of network 'default'")));
    }

    [TestCase(0)]
    [TestCase(13)]
    [TestCase(-1)]
    public void UnknownSection(int section)
    {
        var e = Assert.Throws<LibvirtError>(() => NetworkUpdate.Apply(Nat(), 1, section, -1, "<x/>", 0))!;
        Assert.That(e.Message, Is.EqualTo("Operation not supported: can't update unrecognized section of network"));
    }

    [TestCase(NetworkUpdateSection.DnsTxt, "<txt name='a' value='b'/>")]
    [TestCase(NetworkUpdateSection.PortGroup, "<portgroup name='p'/>")]
    [TestCase(NetworkUpdateSection.ForwardInterface, "<interface dev='e'/>")]
    [TestCase(NetworkUpdateSection.DnsHost, "<host ip='10.0.0.1'><hostname>x</hostname></host>")]
    public void UnknownCommand(NetworkUpdateSection section, string xml)
    {
        var e = Assert.Throws<LibvirtError>(() => NetworkUpdate.Apply(Nat(), 7, (int)section, -1, xml, 0))!;
        Assert.That(e.Message, Is.EqualTo("Operation not supported: unrecognized network update command code 7"));
    }

    [Test]
    public void WrongElement()
    {
        LibvirtError e = UpdateFails(Nat(), NetworkUpdateCommand.AddLast, NetworkUpdateSection.DnsTxt, -1, "<srv service='a' protocol='tcp'/>");
        Assert.That((e.Code, e.Message), Is.EqualTo((VirErrorCode.XmlError,
            "XML error: unexpected element <srv>, expecting <txt>, while updating network 'default'")));
    }

    [Test]
    public void DhcpParentIndex()
    {
        LibvirtError e = UpdateFails(Nat(), NetworkUpdateCommand.AddLast, NetworkUpdateSection.IpDhcpHost, 9, "<host name='x' ip='192.168.122.50'/>");
        Assert.That(e.Message, Is.EqualTo(
            "Requested operation is not valid: couldn't update dhcp host entry - no <ip> element found at index 9 in network 'default'"));

        e = UpdateFails(NetworkXml.Parse("<network><name>n</name></network>"), NetworkUpdateCommand.AddLast,
            NetworkUpdateSection.IpDhcpRange, -1, "<range start='10.0.0.2' end='10.0.0.3'/>");
        Assert.That(e.Message, Is.EqualTo("Requested operation is not valid: couldn't update dhcp host entry - no <ip> element found in network 'n'"));

        // -1 finds the <ip> that already has dhcp
        NetworkDef def = Nat();
        NetworkUpdate.Apply(def, (int)NetworkUpdateCommand.AddLast, (int)NetworkUpdateSection.IpDhcpHost, -1, "<host name='x' ip='192.168.122.50'/>", 0);
        Assert.That(def.Ips[0].Hosts, Has.Count.EqualTo(3));

        // only one IPv4 <ip> may have dhcp
        e = UpdateFails(def, NetworkUpdateCommand.AddLast, NetworkUpdateSection.IpDhcpHost, 1, "<host name='y' ip='192.168.123.50'/>");
        Assert.That(e.Message, Is.EqualTo("Requested operation is not valid: dhcp is supported only for a single IPv4 address on each network"));

        e = UpdateFails(def, NetworkUpdateCommand.AddLast, NetworkUpdateSection.IpDhcpHost, 2, "<host id='0:1' ip='192.168.123.50'/>");
        Assert.That(e.Message, Is.EqualTo(
            "Requested operation is not valid: the address family of a host entry IP must match the address family of the dhcp element's parent"));

        e = UpdateFails(def, NetworkUpdateCommand.Modify, NetworkUpdateSection.IpDhcpRange, 0, "<range start='192.168.122.2' end='192.168.122.254'/>");
        Assert.That(e.Message, Is.EqualTo("Operation not supported: dhcp ranges cannot be modified, only added or deleted"));
    }

    [Test]
    public void DhcpHostModifyKeepsMacTextAndMatchesCaseInsensitively()
    {
        NetworkDef def = Nat();
        NetworkUpdate.Apply(def, (int)NetworkUpdateCommand.Modify, (int)NetworkUpdateSection.IpDhcpHost, 0,
            "<host mac='00:16:3E:77:E2:ED' name='a.example.com' ip='192.168.122.99'/>", 0);
        Assert.That(NetworkXml.Format(def), Does.Contain("<host mac='00:16:3E:77:E2:ED' name='a.example.com' ip='192.168.122.99'/>"));
    }

    [Test]
    public void ForwardInterfaceInUse()
    {
        NetworkDef def = Nat();
        def.Forward.Interfaces[0].Connections = 2;
        LibvirtError e = UpdateFails(def, NetworkUpdateCommand.Delete, NetworkUpdateSection.ForwardInterface, -1, "<interface dev='eth1'/>");
        Assert.That(e.Message, Is.EqualTo(
            "Requested operation is not valid: unable to delete interface 'eth1' in network 'default'. It is currently being used by 2 domains."));
        e = UpdateFails(def, NetworkUpdateCommand.Modify, NetworkUpdateSection.ForwardInterface, -1, "<interface dev='eth1'/>");
        Assert.That(e.Message, Is.EqualTo("Operation not supported: forward interface entries cannot be modified, only added or deleted"));
        e = UpdateFails(def, NetworkUpdateCommand.AddLast, NetworkUpdateSection.ForwardInterface, -1, "<interface/>");
        Assert.That(e.Message, Is.EqualTo("XML error: missing dev attribute in <interface> element"));
    }

    [Test]
    public void PortgroupDefaultConflict()
    {
        NetworkDef def = NetworkXml.Parse(File.ReadAllText(Path.Combine(LibvirtVectors.Tests90, "networkxml2xmlin", "openvswitch-net.xml")));
        LibvirtError e = UpdateFails(def, NetworkUpdateCommand.AddFirst, NetworkUpdateSection.PortGroup, -1, "<portgroup name='new' default='yes'/>");
        Assert.That(e.Message, Is.EqualTo(
            "Requested operation is not valid: a different portgroup entry in network 'openvswitch-net' is already set as the default. Only one default is allowed."));
    }

    [Test]
    public void ApplyToCopyLeavesTheOriginalAlone()
    {
        NetworkDef def = Nat();
        string before = NetworkXml.Format(def);
        NetworkDef updated = NetworkUpdate.ApplyToCopy(def, (int)NetworkUpdateCommand.AddFirst, (int)NetworkUpdateSection.DnsTxt, -1,
            "<txt name='x' value='y'/>", 0, NetworkFormatFlags.Inactive);
        Assert.That(NetworkXml.Format(def), Is.EqualTo(before));
        Assert.That(updated.Dns.Txts.Single().Name, Is.EqualTo("x"));
    }

    [Test]
    public void MalformedUpdateXml()
    {
        LibvirtError e = UpdateFails(Nat(), NetworkUpdateCommand.AddLast, NetworkUpdateSection.DnsTxt, -1, "<txt name='a'");
        Assert.That((e.Code, e.Domain), Is.EqualTo((VirErrorCode.XmlDetail, VirErrorDomain.Network)));
    }
}
