using System.Diagnostics;
using System.Text;
using VirtNetworkd.Errors;
using VirtNetworkd.NetworkDriver.Xml;
using VirtNetworkd.NetworkDriver.Xml.Update;

namespace VirtNetworkd.NetworkDriver.Tests;

/// <summary>Untrusted XML is refused quickly and without side effects.</summary>
[TestFixture]
public sealed class HostileXmlTests
{
    private static LibvirtError ParseFails(string xml) => Assert.Throws<LibvirtError>(() => NetworkXml.Parse(xml))!;

    [Test]
    public void BillionLaughsIsRefusedBeforeAnyExpansion()
    {
        var sb = new StringBuilder("<?xml version='1.0'?>\n<!DOCTYPE network [\n<!ENTITY lol0 'lol'>\n");
        for (int i = 1; i <= 12; i++)
            sb.Append($"<!ENTITY lol{i} '{string.Concat(Enumerable.Repeat($"&lol{i - 1};", 10))}'>\n");
        sb.Append("]>\n<network><name>&lol12;</name></network>");
        var sw = Stopwatch.StartNew();
        LibvirtError e = ParseFails(sb.ToString());
        Assert.That(sw.Elapsed, Is.LessThan(TimeSpan.FromSeconds(2)));
        Assert.That(e.Code, Is.EqualTo(VirErrorCode.XmlDetail));
        Assert.That(e.Domain, Is.EqualTo(VirErrorDomain.Network));
        Assert.That(e.Message, Does.StartWith("at line 3: entity declarations are not supported\n"));
    }

    [Test]
    public void ExternalEntityIsRefused()
    {
        LibvirtError e = ParseFails("<!DOCTYPE network [<!ENTITY x SYSTEM 'file:///etc/passwd'>]><network><name>&x;</name></network>");
        Assert.That(e.Code, Is.EqualTo(VirErrorCode.XmlDetail));
    }

    [Test]
    public void UndefinedEntityIsRefused()
    {
        LibvirtError e = ParseFails("<network><name>&x;</name></network>");
        Assert.That(e.Code, Is.EqualTo(VirErrorCode.XmlDetail));
        Assert.That(e.Message, Does.StartWith("at line 1: "));
    }

    [Test]
    public void HugeDocumentIsRefusedQuickly()
    {
        string huge = "<network><name>n</name><description>" + new string('a', 5 * 1024 * 1024) + "</description></network>";
        var sw = Stopwatch.StartNew();
        LibvirtError e = ParseFails(huge);
        Assert.That(sw.Elapsed, Is.LessThan(TimeSpan.FromSeconds(1)));
        Assert.That(e.Code, Is.EqualTo(VirErrorCode.XmlDetail));
        Assert.That(e.Message, Does.Contain("larger than the maximum"));
    }

    [Test]
    public void HugeInMultiByteCharactersIsRefused()
    {
        // under the limit in UTF-16 code units, over it in UTF-8 bytes
        string big = "<network><name>n</name><description>" + new string('\u20ac', 1_500_000) + "</description></network>";
        Assert.That(ParseFails(big).Message, Does.Contain("larger than the maximum"));
    }

    [Test]
    public void DocumentJustUnderTheLimitIsParsed()
    {
        string desc = new string('a', 4 * 1024 * 1024 - 200);
        NetworkDef def = NetworkXml.Parse($"<network><name>n</name><description>{desc}</description></network>");
        Assert.That(def.Description!.Length, Is.EqualTo(desc.Length));
    }

    [Test]
    public void DeepNestingIsRefused()
    {
        int depth = 100_000;
        string xml = "<network><name>n</name><metadata>" + string.Concat(Enumerable.Repeat("<a:x xmlns:a='urn:a'>", depth))
                     + string.Concat(Enumerable.Repeat("</a:x>", depth)) + "</metadata></network>";
        var sw = Stopwatch.StartNew();
        LibvirtError e = ParseFails(xml);
        Assert.That(sw.Elapsed, Is.LessThan(TimeSpan.FromSeconds(2)));
        Assert.That(e.Code, Is.EqualTo(VirErrorCode.XmlDetail));
        Assert.That(e.Message, Does.Contain("Excessive depth in document: 256"));
    }

    [Test]
    public void NestingUpToTheLimitIsAccepted()
    {
        int depth = 256 - 2; // network, metadata, then the children
        string xml = "<network><name>n</name><metadata>" + string.Concat(Enumerable.Repeat("<a:x xmlns:a='urn:a'>", depth))
                     + string.Concat(Enumerable.Repeat("</a:x>", depth)) + "</metadata></network>";
        Assert.That(NetworkXml.Parse(xml).Metadata, Is.Not.Null);
    }

    [Test]
    public void ManyAttributesAndElementsStayBounded()
    {
        // a large but legal document parses in reasonable time
        var sb = new StringBuilder("<network><name>n</name><uuid>81ff0d90-c91e-6742-64da-4a736edb9a9b</uuid><dns>");
        for (int i = 0; i < 20000; i++) sb.Append($"<txt name='t{i}' value='v'/>");
        sb.Append("</dns></network>");
        var sw = Stopwatch.StartNew();
        NetworkDef def = NetworkXml.Parse(sb.ToString());
        Assert.That(def.Dns.Txts, Has.Count.EqualTo(20000));
        Assert.That(sw.Elapsed, Is.LessThan(TimeSpan.FromSeconds(5)));
    }

    [TestCase("/")]
    [TestCase("../../etc/passwd")]
    [TestCase("a/b")]
    public void NamesWithSlashAreRefused(string name)
    {
        LibvirtError e = ParseFails($"<network><name>{name}</name></network>");
        Assert.That((e.Code, e.Domain, e.Message), Is.EqualTo((VirErrorCode.XmlDetail, VirErrorDomain.Xml, "invalid char in name: /")));
    }

    [Test]
    public void MalformedXmlReportsLibvirtsLayout()
    {
        LibvirtError e = ParseFails("<network>\n  <name>x</nam>\n</network>");
        Assert.That(e.Code, Is.EqualTo(VirErrorCode.XmlDetail));
        Assert.That(e.Domain, Is.EqualTo(VirErrorDomain.Network));
        string[] lines = e.Message.Split('\n');
        Assert.That(lines, Has.Length.EqualTo(3));
        Assert.That(lines[0], Does.StartWith("at line 2: "));
        Assert.That(lines[1], Is.EqualTo("  <name>x</nam>"));
        Assert.That(lines[2], Does.EndWith("^"));
    }

    [Test]
    public void WrongRootElement()
    {
        LibvirtError e = ParseFails("<domain><name>x</name></domain>");
        Assert.That((e.Code, e.Domain, e.Message),
            Is.EqualTo((VirErrorCode.XmlError, VirErrorDomain.Xml, "XML error: expecting root element of 'network', not 'domain'")));
    }

    [Test]
    public void EmptyDocument()
    {
        Assert.That(ParseFails("").Code, Is.EqualTo(VirErrorCode.XmlDetail));
        Assert.That(ParseFails("   ").Code, Is.EqualTo(VirErrorCode.XmlDetail));
    }

    [Test]
    public void WithoutAContextLineTheMessageStandsAlone()
    {
        // 9.0 printed "…: Document is empty\n(null)\n^"; the 11.3 reference (with the fix for
        // CVE-2026-61478) prints the message alone
        Assert.That(ParseFails("").Message, Is.EqualTo("at line 1: Document is empty\n"));
        // at the end of input 10.8 shows the last line, not "(null)" as 9.0 did
        Assert.That(ParseFails("<network>\n  <name>bad</name>\n").Message,
            Is.EqualTo("at line 3: Premature end of data in tag network line 1\n  <name>bad</name>\n------------------^"));
    }

    [Test]
    public void UpdateXmlIsParsedJustAsCarefully()
    {
        NetworkDef def = NetworkXml.Parse("<network><name>n</name><ip address='10.0.0.1' prefix='24'/></network>");
        var e = Assert.Throws<LibvirtError>(() => NetworkUpdate.Apply(def, (int)NetworkUpdateCommand.AddLast,
            (int)NetworkUpdateSection.IpDhcpHost, -1, "<!DOCTYPE x [<!ENTITY a 'b'>]><host name='&a;' ip='10.0.0.2'/>", 0))!;
        Assert.That(e.Code, Is.EqualTo(VirErrorCode.XmlDetail));
        Assert.That(def.Ips[0].Hosts, Is.Empty);
    }

    [Test]
    public void ControlCharactersInTextAreNotEmitted()
    {
        // A character reference to a control character is not even well-formed XML 1.0.
        Assert.That(ParseFails("<network><name>a&#1;b</name></network>").Code, Is.EqualTo(VirErrorCode.XmlDetail));
    }

    private static void Fast(Action a, double seconds = 3)
    {
        var sw = Stopwatch.StartNew();
        a();
        Assert.That(sw.Elapsed, Is.LessThan(TimeSpan.FromSeconds(seconds)));
    }

    [Test]
    public void ManyForwardInterfacesAreCheckedInLinearTime()
    {
        var sb = new StringBuilder("<network><name>n</name><forward mode='bridge'>");
        for (int i = 0; i < 150_000; i++) sb.Append($"<interface dev='e{i}'/>");
        sb.Append("<interface dev='e7'/></forward></network>");
        Fast(() => Assert.That(ParseFails(sb.ToString()).Message, Is.EqualTo("XML error: interface 'e7' can only be listed once in network n")));
    }

    [Test]
    public void ManyRoutesAndAddressesAreCheckedInLinearTime()
    {
        var sb = new StringBuilder("<network><name>n</name>");
        for (int i = 0; i < 40_000; i++) sb.Append($"<ip address='10.{i >> 8 & 255}.{i & 255}.1' prefix='24'/>");
        for (int i = 0; i < 20_000; i++) sb.Append($"<route address='192.168.{i & 255}.0' prefix='24' gateway='10.{i >> 8 & 255}.{i & 255}.2'/>");
        sb.Append("</network>");
        Fast(() => Assert.That(NetworkXml.Parse(sb.ToString()).Routes, Has.Count.EqualTo(20_000)));
    }

    [Test]
    public void ManyNamespaceDeclarationsStayCheap()
    {
        var sb = new StringBuilder("<network");
        for (int i = 0; i < 50_000; i++) sb.Append($" xmlns:p{i}='urn:{i}'");
        sb.Append("><name>n</name><metadata>");
        for (int i = 0; i < 50_000; i++) sb.Append($"<p{i}:x/>");
        sb.Append("</metadata></network>");
        Fast(() => Assert.That(NetworkXml.Parse(sb.ToString()).Metadata!.Children, Has.Count.EqualTo(50_000)));
    }

    [Test]
    public void ManyPortgroupsAreValidatedInLinearTime()
    {
        var sb = new StringBuilder("<network><name>n</name>");
        for (int i = 0; i < 60_000; i++) sb.Append($"<portgroup name='g{i}'/>");
        sb.Append("</network>");
        NetworkDef def = NetworkXml.Parse(sb.ToString());
        Fast(() => Xml.Validation.NetworkValidation.ValidateForDefine(def));
    }

    [Test]
    public void ManyUnkeptMetadataChildrenAreDroppedInLinearTime()
    {
        var sb = new StringBuilder("<network><name>n</name><metadata>");
        for (int i = 0; i < 200_000; i++) sb.Append("<x/>");
        sb.Append("<a:k xmlns:a='urn:a'/></metadata></network>");
        Fast(() => Assert.That(NetworkXml.Parse(sb.ToString()).Metadata!.Children, Has.Count.EqualTo(1)));
    }
}
