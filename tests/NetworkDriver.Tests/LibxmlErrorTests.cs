using VirtNetworkd.Errors;
using VirtNetworkd.NetworkDriver.Xml;
using VirtNetworkd.NetworkDriver.Xml.Update;

namespace VirtNetworkd.NetworkDriver.Tests;

/// <summary>
/// XML syntax errors read as libvirt 10.8 prints them: libxml2's first fatal error, as
/// catchXMLError (src/util/virxml.c, 11.3 form) lays it out: "at line N: MESSAGE", the line
/// holding the parser's position, a caret under it. Every expected string was produced by the
/// real libxml2 (2.9.14, ctypes: xmlCtxtReadDoc with a SAX error callback that reproduces
/// catchXMLError) and checked against the reference daemons (virsh net-define / net-update).
/// </summary>
[TestFixture]
public sealed class LibxmlErrorTests
{
    private static LibvirtError DefineFails(string xml) => Assert.Throws<LibvirtError>(() => NetworkXml.Parse(xml))!;

    [TestCase("<network>\n  <name>x</name>\n  <bridge name='hsbe0'>\n",
              "at line 4: Premature end of data in tag bridge line 3\n  <bridge name='hsbe0'>\n-----------------------^")]
    [TestCase("<network>\n  <name>bad</name>\n",
              "at line 3: Premature end of data in tag network line 1\n  <name>bad</name>\n------------------^")]
    [TestCase("<network><name>x</name>",
              "at line 1: Premature end of data in tag network line 1\n<network><name>x</name>\n-----------------------^")]
    [TestCase("<network><name>x</name></net>",
              "at line 1: Opening and ending tag mismatch: network line 1 and net\n<network><name>x</name></net>\n-----------------------------^")]
    [TestCase("<network>\n  <name>x</nam>\n</network>",
              "at line 2: Opening and ending tag mismatch: name line 2 and nam\n  <name>x</nam>\n---------------^")]
    [TestCase("<network>\n  <bridge name='b'>\n</network>\n",
              "at line 3: Opening and ending tag mismatch: bridge line 2 and network\n</network>\n----------^")]
    [TestCase("<network><name>x</name></network>\n<network/>",
              "at line 2: Extra content at the end of the document\n<network/>\n^")]
    [TestCase("<network><name>x</name></network>trailing",
              "at line 1: Extra content at the end of the document\n<network><name>x</name></network>trailing\n---------------------------------^")]
    [TestCase("",
              "at line 1: Document is empty\n")]
    [TestCase("   ",
              "at line 1: Start tag expected, '<' not found\n   \n---^")]
    [TestCase("hello",
              "at line 1: Start tag expected, '<' not found\nhello\n^")]
    [TestCase("\n\n",
              "at line 3: Start tag expected, '<' not found\n")]
    [TestCase("<network><name>&foo;</name></network>",
              "at line 1: Entity 'foo' not defined\n<network><name>&foo;</name></network>\n--------------------^")]
    [TestCase("<network><name>a & b</name></network>",
              "at line 1: xmlParseEntityRef: no name\n<network><name>a & b</name></network>\n------------------^")]
    [TestCase("<network><name>a&amp</name></network>",
              "at line 1: EntityRef: expecting ';'\n<network><name>a&amp</name></network>\n--------------------^")]
    [TestCase("<network><name>x</name><bridge name='&x;'/></network>",
              "at line 1: Entity 'x' not defined\n<network><name>x</name><bridge name='&x;'/></network>\n----------------------------------------^")]
    [TestCase("<network><name>x</name><bridge name='a<b'/></network>",
              "at line 1: Unescaped '<' not allowed in attributes values\n<network><name>x</name><bridge name='a<b'/></network>\n--------------------------------------^")]
    [TestCase("<network><name>x</name><bridge name=br0/></network>",
              "at line 1: AttValue: \" or ' expected\n<network><name>x</name><bridge name=br0/></network>\n------------------------------------^")]
    [TestCase("<network><name>x</name><bridge name='br0'stp='on'/></network>",
              "at line 1: attributes construct error\n<network><name>x</name><bridge name='br0'stp='on'/></network>\n-----------------------------------------^")]
    [TestCase("<network><name>x</name><bridge name='br0' name='br1'/></network>",
              "at line 1: Attribute name redefined\n<network><name>x</name><bridge name='br0' name='br1'/></network>\n----------------------------------------------------^")]
    [TestCase("<network><name>x</name><bridge name/></network>",
              "at line 1: Specification mandates value for attribute name\n<network><name>x</name><bridge name/></network>\n-----------------------------------^")]
    [TestCase("<network><name>x</name><bridge name='br0/></network>",
              "at line 1: Unescaped '<' not allowed in attributes values\n<network><name>x</name><bridge name='br0/></network>\n------------------------------------------^")]
    [TestCase("<network><name>x</name><bridge 1='x'/></network>",
              "at line 1: error parsing attribute name\n<network><name>x</name><bridge 1='x'/></network>\n-------------------------------^")]
    [TestCase("<network\n",
              "at line 2: Couldn't find end of Start Tag network line 1\n<network\n--------^")]
    [TestCase("<network><name>]]></name></network>",
              "at line 1: Sequence ']]>' not allowed in content\n<network><name>]]></name></network>\n---------------^")]
    [TestCase("<network><name>a\u0001b</name></network>",
              "at line 1: PCDATA invalid Char value 1\n<network><name>a\u0001b</name></network>\n----------------^")]
    [TestCase("<network><!-- c",
              "at line 1: Comment not terminated\n<network><!-- c\n---------------^")]
    [TestCase("<network></ network>",
              "at line 1: expected '>'\n<network></ network>\n------------^")]
    [TestCase("<1network/>",
              "at line 1: StartTag: invalid element name\n<1network/>\n-^")]
    public void NetworkDefinitionErrorsUseLibxml2sWords(string xml, string expected)
    {
        LibvirtError e = DefineFails(xml);
        Assert.That((e.Code, e.Domain, e.Message), Is.EqualTo((VirErrorCode.XmlDetail, VirErrorDomain.Network, expected)));
    }

    [TestCase("<host mac='00:16:3e:77:e2:ed' name='foo' ip='192.168.122.10'",
              "at line 1: attributes construct error\n<host mac='00:16:3e:77:e2:ed' name='foo' ip='192.168.122.10'\n------------------------------------------------------------^")]
    [TestCase("<host mac='00:16:3e:77:e2:ed' name='foo'ip='10.0.0.2'/>",
              "at line 1: attributes construct error\n<host mac='00:16:3e:77:e2:ed' name='foo'ip='10.0.0.2'/>\n----------------------------------------^")]
    [TestCase("<host>", "at line 1: Premature end of data in tag host line 1\n<host>\n------^")]
    public void UpdateSnippetErrorsUseLibxml2sWords(string snippet, string expected)
    {
        NetworkDef def = NetworkXml.Parse("<network><name>n</name><ip address='10.0.0.1' prefix='24'/></network>");
        var e = Assert.Throws<LibvirtError>(() => NetworkUpdate.Apply(def, (int)NetworkUpdateCommand.AddLast,
            (int)NetworkUpdateSection.IpDhcpHost, -1, snippet, 0))!;
        Assert.That((e.Code, e.Domain, e.Message), Is.EqualTo((VirErrorCode.XmlDetail, VirErrorDomain.Network, expected)));
    }

    [TestCase("<a>", "at line 1: Premature end of data in tag a line 1\n<a>\n---^")]
    [TestCase("<a><b></a>", "at line 1: Opening and ending tag mismatch: b line 1 and a\n<a><b></a>\n----------^")]
    public void MetadataErrorsUseLibxml2sWords(string xml, string expected)
    {
        NetworkDef def = NetworkXml.Parse("<network><name>n</name></network>");
        var e = Assert.Throws<LibvirtError>(() => NetworkMetadata.SetElementXml(def, xml, "k", "urn:k"))!;
        Assert.That((e.Code, e.Domain, e.Message), Is.EqualTo((VirErrorCode.XmlDetail, VirErrorDomain.Network, expected)));
    }

    [Test]
    public void AByteOrderMarkBeforeTheRootIsAccepted()
    {
        Assert.That(NetworkXml.Parse("\ufeff<network><name>n</name></network>").Name, Is.EqualTo("n"));
        Assert.That(NetworkXml.Parse("\ufeff<?xml version='1.0' encoding='UTF-8'?>\n<network><name>n</name></network>").Name, Is.EqualTo("n"));
    }

    [TestCase("<!DOCTYPE network>\n<network><name>n</name></network>")]
    [TestCase("<?xml version='1.0'?>\n<!-- c -->\n<!DOCTYPE network SYSTEM 'network.dtd'>\n<network><name>n</name></network>")]
    [TestCase("<!DOCTYPE network [\n  <!ELEMENT network ANY>\n  <!-- a comment -->\n]>\n<network><name>n</name></network>")]
    public void ADoctypeWithoutEntitiesIsAccepted(string xml)
    {
        Assert.That(NetworkXml.Parse(xml).Name, Is.EqualTo("n"));
    }

    [Test]
    public void ADoctypeChangesNothingInTheDocument()
    {
        // libvirt parses without XML_PARSE_DTDATTR: an ATTLIST default adds no attribute
        const string body = "<network><name>n</name><bridge name='b'/></network>";
        NetworkDef plain = NetworkXml.Parse(body);
        NetworkDef withDtd = NetworkXml.Parse("<!DOCTYPE network [<!ATTLIST bridge stp CDATA 'off' delay CDATA '9'>]>\n" + body);
        Assert.That(NetworkXml.Format(withDtd), Is.EqualTo(NetworkXml.Format(plain)));
    }

    [Test]
    public void ErrorsAfterADoctypeKeepTheirLines()
    {
        LibvirtError e = DefineFails("<!DOCTYPE network [\n<!ELEMENT network ANY>\n]>\n<network>\n  <name>x</nam>\n</network>");
        Assert.That(e.Message, Is.EqualTo("at line 5: Opening and ending tag mismatch: name line 5 and nam\n  <name>x</nam>\n---------------^"));
    }

    [TestCase("<!DOCTYPE network [<!ENTITY x 'y'>]><network><name>&x;</name></network>",
              "at line 1: entity declarations are not supported\n<!DOCTYPE network [<!ENTITY x 'y'>]><network><name>&x;</name></network>\n-------------------^")]
    [TestCase("<!DOCTYPE network [\n  <!ENTITY % p SYSTEM 'file:///etc/passwd'>\n  %p;\n]>\n<network/>",
              "at line 2: entity declarations are not supported\n  <!ENTITY % p SYSTEM 'file:///etc/passwd'>\n--^")]
    public void ADoctypeDeclaringEntitiesIsRefused(string xml, string expected)
    {
        LibvirtError e = DefineFails(xml);
        Assert.That((e.Code, e.Domain, e.Message), Is.EqualTo((VirErrorCode.XmlDetail, VirErrorDomain.Network, expected)));
    }
}
