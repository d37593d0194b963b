using VirtNetworkd.Errors;
using VirtNetworkd.NetworkDriver.Xml;
using VirtNetworkd.NetworkDriver.Xml.Update;

namespace VirtNetworkd.NetworkDriver.Tests;

/// <summary>Network XML changes between libvirt 9.0 and 10.8 (LIBVIRT-10.8-TARGET.md).</summary>
[TestFixture]
public sealed class Libvirt108Tests
{
    private const string Uuid = "81ff0d90-c91e-6742-64da-4a736edb9a9b";

    private static LibvirtError Fails(string xml) => Assert.Throws<LibvirtError>(() => NetworkXml.Parse(xml))!;

    [Test]
    public void TitleAndDescriptionFollowUuid()
    {
        NetworkDef def = NetworkXml.Parse(
            $"<network><description>Some &amp; text\nover lines</description><name>n</name><title>A title</title><uuid>{Uuid}</uuid></network>");
        Assert.That(def.Title, Is.EqualTo("A title"));
        Assert.That(NetworkXml.Format(def), Is.EqualTo(
            "<network>\n  <name>n</name>\n" +
            $"  <uuid>{Uuid}</uuid>\n" +
            "  <title>A title</title>\n" +
            "  <description>Some &amp; text\nover lines</description>\n" +
            "  <bridge stp='on' delay='0'/>\n</network>\n"));
    }

    [Test]
    public void TitleWithNewlineIsRefused()
    {
        LibvirtError e = Fails("<network><name>n</name><title>two\nlines</title></network>");
        Assert.That((e.Code, e.Domain, e.Message),
            Is.EqualTo((VirErrorCode.XmlError, VirErrorDomain.Network, "XML error: Network title can't contain newlines")));
    }

    [TestCase("<metadata/>")]
    [TestCase("<metadata>\n  </metadata>")]
    [TestCase("<metadata>only text</metadata>")]
    [TestCase("<metadata><!-- a comment --></metadata>")]
    public void MetadataWithoutElementIsDropped(string metadata)
    {
        NetworkDef def = NetworkXml.Parse($"<network><name>n</name><uuid>{Uuid}</uuid>{metadata}</network>");
        Assert.That(def.Metadata, Is.Null);
        Assert.That(NetworkXml.Format(def), Does.Not.Contain("metadata"));
    }

    [Test]
    public void MetadataKeepsOneElementPerNamespaceOnly()
    {
        NetworkDef def = NetworkXml.Parse(
            $"<network xmlns:q='urn:q'><name>n</name><uuid>{Uuid}</uuid><metadata>" +
            "<plain/><q:a x='1'/><q:b/><r:c xmlns:r='urn:r'><r:d>t</r:d></r:c></metadata></network>");
        string xml = NetworkXml.Format(def);
        Assert.That(xml, Does.Contain(
            "  <metadata xmlns:q=\"urn:q\">\n" +
            "    <q:a x=\"1\"/>\n" +
            "    <r:c xmlns:r=\"urn:r\">\n" +
            "      <r:d>t</r:d>\n" +
            "    </r:c>\n" +
            "  </metadata>\n"));
    }

    [Test]
    public void DomainRegisterNeedsLocalOnly()
    {
        LibvirtError e = Fails("<network><name>n</name><domain name='example.com' register='yes'/></network>");
        Assert.That((e.Code, e.Message), Is.EqualTo((VirErrorCode.ConfigUnsupported,
            "unsupported configuration: attribute 'register=yes' in <domain> element requires 'localOnly=yes' in network n")));

        e = Fails("<network><name>n</name><domain name='example.com' localOnly='no' register='yes'/></network>");
        Assert.That(e.Code, Is.EqualTo(VirErrorCode.ConfigUnsupported));
    }

    [Test]
    public void DomainRegisterIsPrintedAfterLocalOnly()
    {
        NetworkDef def = NetworkXml.Parse($"<network><name>n</name><uuid>{Uuid}</uuid><domain register='yes' name='example.com' localOnly='yes'/></network>");
        Assert.That(def.DomainRegister, Is.EqualTo(TristateBool.Yes));
        Assert.That(NetworkXml.Format(def), Does.Contain("  <domain name='example.com' localOnly='yes' register='yes'/>\n"));

        def = NetworkXml.Parse($"<network><name>n</name><uuid>{Uuid}</uuid><domain name='example.com' register='no'/></network>");
        Assert.That(NetworkXml.Format(def), Does.Contain("  <domain name='example.com' register='no'/>\n"));
    }

    [Test]
    public void DomainRegisterMustBeYesOrNo()
    {
        LibvirtError e = Fails("<network><name>n</name><domain name='x' localOnly='yes' register='1'/></network>");
        Assert.That((e.Code, e.Domain, e.Message), Is.EqualTo((VirErrorCode.XmlError, VirErrorDomain.Xml,
            "XML error: Invalid value for attribute 'register' in element 'domain': '1'.")));
    }

    [Test]
    public void HostdevDriverModel()
    {
        NetworkDef def = NetworkXml.Parse(
            $"<network><name>h</name><uuid>{Uuid}</uuid><forward mode='hostdev' managed='yes'><driver name='vfio' model='vfio-pci-igb'/><pf dev='eth2'/></forward></network>");
        Assert.That(def.Forward.Driver.Model, Is.EqualTo("vfio-pci-igb"));
        Assert.That(NetworkXml.Format(def, NetworkFormatFlags.Inactive), Does.Contain(
            "  <forward mode='hostdev' managed='yes'>\n    <driver name='vfio' model='vfio-pci-igb'/>\n    <pf dev='eth2'/>\n  </forward>\n"));
    }

    [Test]
    public void HostdevDriverModelAloneKeepsForwardWellFormed()
    {
        NetworkDef def = NetworkXml.Parse($"<network><name>h</name><uuid>{Uuid}</uuid><forward mode='hostdev'><driver model='m'/></forward></network>");
        string xml = NetworkXml.Format(def);
        Assert.That(xml, Does.Contain("  <forward mode='hostdev' managed='no'>\n    <driver model='m'/>\n  </forward>\n"));
        Assert.That(NetworkXml.Parse(xml).Forward.Driver.Model, Is.EqualTo("m"));
    }

    [Test]
    public void HostdevDriverNameDefaultIsRefused()
    {
        LibvirtError e = Fails("<network><name>h</name><forward mode='hostdev'><driver name='default'/></forward></network>");
        Assert.That(e.Message, Is.EqualTo("XML error: Invalid value for attribute 'name' in element 'driver': 'default'."));
    }

    [Test]
    public void BandwidthIsUnsigned64Bit()
    {
        NetworkDef def = NetworkXml.Parse(
            $"<network><name>n</name><uuid>{Uuid}</uuid><bandwidth><inbound average='18014398509481984' peak='18446744073709551615' burst='1'/></bandwidth></network>");
        Assert.That(def.Bandwidth!.Inbound!.Peak, Is.EqualTo(ulong.MaxValue));
        Assert.That(NetworkXml.Format(def), Does.Contain("<inbound average='18014398509481984' peak='18446744073709551615' burst='1'/>"));

        LibvirtError e = Fails("<network><name>n</name><bandwidth><inbound average='18446744073709551616'/></bandwidth></network>");
        Assert.That(e.Message, Is.EqualTo(
            "XML error: Invalid value for attribute 'average' in element 'inbound': '18446744073709551616'. Expected non-negative integer value"));
    }

    [Test]
    public void OpenModeNeedsNoIp()
    {
        NetworkDef def = NetworkXml.Parse($"<network><name>o</name><uuid>{Uuid}</uuid><forward mode='open'/><bridge name='virbr9' zone='trusted'/></network>");
        Assert.That(def.Ips, Is.Empty);
        Assert.That(NetworkXml.Format(def), Is.EqualTo(
            $"<network>\n  <name>o</name>\n  <uuid>{Uuid}</uuid>\n  <forward mode='open'/>\n  <bridge name='virbr9' zone='trusted' stp='on' delay='0'/>\n</network>\n"));
        Assert.DoesNotThrow(() => Xml.Validation.NetworkValidation.ValidateForDefine(def));
    }

    [Test]
    public void RouteAndNatStillNeedIp()
    {
        LibvirtError e = Fails("<network><name>r</name><forward mode='route'/></network>");
        Assert.That(e.Message, Is.EqualTo("XML error: route forwarding requested, but no IP address provided for network 'r'"));
        e = Fails("<network><name>r</name><forward/></network>");
        Assert.That(e.Message, Is.EqualTo("XML error: nat forwarding requested, but no IP address provided for network 'r'"));
    }

    [Test]
    public void BridgeOptionsMessageNamesOpenMode()
    {
        LibvirtError e = Fails("<network><name>b</name><forward mode='bridge'/><bridge name='br0' delay='1'/></network>");
        Assert.That(e.Message, Is.EqualTo(
            "XML error: bridge delay/stp/zone options only allowed in open, route, nat, and isolated mode, not in bridge (network 'b')"));
    }

    [TestCase("value='a&#10;b'")]
    [TestCase("value='a&#13;b'")]
    [TestCase("value='&#13;&#10;dhcp-script=/tmp/x'")]
    public void TxtValueWithCrOrLfIsRefused(string value)
    {
        LibvirtError e = Fails($"<network><name>n</name><dns><txt name='t' {value}/></dns></network>");
        Assert.That(e.Code, Is.EqualTo(VirErrorCode.XmlDetail));
        Assert.That(e.Message, Does.Contain("DNS TXT record named 't'"));
    }

    [TestCase("domain='ex&#10;ample'")]
    [TestCase("target='t&#13;'")]
    public void SrvDomainOrTargetWithCrOrLfIsRefused(string attr)
    {
        LibvirtError e = Fails($"<network><name>n</name><dns><srv service='s' protocol='tcp' {attr}/></dns></network>");
        Assert.That(e.Code, Is.EqualTo(VirErrorCode.XmlDetail));
        Assert.That(e.Message, Does.Contain("DNS SRV record"));
    }

    [Test]
    public void CrLfIsAlsoRefusedThroughNetUpdate()
    {
        NetworkDef def = NetworkXml.Parse($"<network><name>n</name><uuid>{Uuid}</uuid></network>");
        Assert.Throws<LibvirtError>(() => NetworkUpdate.Apply(def, (int)NetworkUpdateCommand.AddLast,
            (int)NetworkUpdateSection.DnsTxt, -1, "<txt name='t' value='x&#10;y'/>", 0));
        Assert.Throws<LibvirtError>(() => NetworkUpdate.Apply(def, (int)NetworkUpdateCommand.AddLast,
            (int)NetworkUpdateSection.DnsSrv, -1, "<srv service='s' protocol='tcp' target='x&#10;y'/>", 0));
        Assert.That(def.Dns.Txts, Is.Empty);
        Assert.That(def.Dns.Srvs, Is.Empty);
    }

    [Test]
    public void LiteralNewlinesInAttributesAreNormalisedToSpaces()
    {
        // XML attribute-value normalisation: only character references can carry CR/LF.
        NetworkDef def = NetworkXml.Parse($"<network><name>n</name><uuid>{Uuid}</uuid><dns><txt name='t' value='a\nb'/></dns></network>");
        Assert.That(def.Dns.Txts[0].Value, Is.EqualTo("a b"));
    }

    [Test]
    public void DnsHostAndTxtCanBeModified()
    {
        NetworkDef def = NetworkXml.Parse(
            $"<network><name>n</name><uuid>{Uuid}</uuid><dns><txt name='t' value='old'/><host ip='10.0.0.5'><hostname>a</hostname></host></dns><ip address='10.0.0.1' prefix='24'/></network>");
        NetworkUpdate.Apply(def, (int)NetworkUpdateCommand.Modify, (int)NetworkUpdateSection.DnsTxt, -1, "<txt name='t' value='new'/>", 0);
        NetworkUpdate.Apply(def, (int)NetworkUpdateCommand.Modify, (int)NetworkUpdateSection.DnsHost, -1,
            "<host ip='10.0.0.5'><hostname>b</hostname><hostname>c</hostname></host>", 0);
        Assert.That(def.Dns.Txts[0].Value, Is.EqualTo("new"));
        Assert.That(def.Dns.Hosts[0].Names, Is.EqualTo(new[] { "b", "c" }));

        var e = Assert.Throws<LibvirtError>(() => NetworkUpdate.Apply(def, (int)NetworkUpdateCommand.Modify,
            (int)NetworkUpdateSection.DnsTxt, -1, "<txt name='t'/>", 0))!;
        Assert.That(e.Message, Is.EqualTo("Requested operation is not valid: missing value of modifying DNS TXT record in network n"));

        e = Assert.Throws<LibvirtError>(() => NetworkUpdate.Apply(def, (int)NetworkUpdateCommand.Modify,
            (int)NetworkUpdateSection.DnsSrv, -1, "<srv service='s' protocol='tcp'/>", 0))!;
        Assert.That(e.Message, Is.EqualTo("Operation not supported: DNS SRV records cannot be modified, only added or deleted"));
    }
}
