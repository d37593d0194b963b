using VirtNetworkd.Errors;
using VirtNetworkd.NetworkDriver.Xml;
using VirtNetworkd.NetworkDriver.Xml.Dom;
using VirtNetworkd.NetworkDriver.Xml.Validation;

namespace VirtNetworkd.NetworkDriver.Tests;

/// <summary>
/// libvirt's tests/virschematest.c for network.rng and networkport.rng: every XML file of the
/// folders it lists must pass the schema check (files named "*-invalid.*" must fail it).
/// </summary>
[TestFixture]
public sealed class SchemaTests
{
    public sealed record Case(string Schema, string RelativePath, string FullPath)
    {
        public override string ToString() => RelativePath;
    }

    public static IEnumerable<Case> AllCases()
    {
        string root = Path.GetDirectoryName(LibvirtVectors.Tests90)!;
        (string Schema, string Dir, string Pattern)[] entries =
        [
            ("network.rng", "src/network", "*.xml"),
            ("network.rng", "tests/networkxml2xmlin", "*.xml"),
            ("network.rng", "tests/networkxml2xmlout", "*.xml"),
            ("network.rng", "tests/networkxml2confdata", "*.xml"),
            ("network.rng", "examples/xml/test", "testnet*.xml"),
            ("network.rng", "tests/networkxml2xmlupdateout", "*.xml"),
            ("network.rng", "tests/networkxml2firewalldata", "*.xml"),
            ("networkport.rng", "tests/virnetworkportxml2xmldata", "*.xml"),
        ];
        foreach (var (schema, dir, pattern) in entries)
        {
            string d = Path.Combine(root, dir);
            if (!Directory.Exists(d)) continue;
            foreach (string f in Directory.GetFiles(d, pattern).Order(StringComparer.Ordinal))
                yield return new Case(schema, dir + "/" + Path.GetFileName(f), f);
        }
    }

    public static IEnumerable<TestCaseData> Cases() =>
        AllCases().Select(c => new TestCaseData(c).SetName($"virschematest {c.Schema} {c.RelativePath}"));

    public static string? Run(Case c)
    {
        bool shouldFail = c.RelativePath.Contains("-invalid.", StringComparison.Ordinal);
        try
        {
            string xml = File.ReadAllText(c.FullPath);
            if (c.Schema == "network.rng")
                NetworkSchema.Validate(SafeXmlParser.Parse(xml, "network", VirErrorDomain.Network));
            else
                NetworkSchema.ValidatePort(SafeXmlParser.Parse(xml, "networkport", VirErrorDomain.Network));
        }
        catch (LibvirtError e)
        {
            return shouldFail ? null : e.Message;
        }
        return shouldFail ? "validated, but it is an invalid document" : null;
    }

    [TestCaseSource(nameof(Cases))]
    public void Vector(Case c)
    {
        string? failure = Run(c);
        Assert.That(failure, Is.Null, failure);
    }

    [Test]
    public void Summary()
    {
        var cases = AllCases().ToList();
        var failed = cases.Where(c => Run(c) is not null).ToList();
        TestContext.Progress.WriteLine($"virschematest (network.rng, networkport.rng): {cases.Count - failed.Count}/{cases.Count} passed");
        Assert.That(failed, Is.Empty);
        Assert.That(cases.Count, Is.GreaterThan(90));
    }

    [TestCase("<network><name>x</name><foo/></network>", "Element network has extra content: foo\n")]
    [TestCase("<network><name>x</name><bridge name='a' bogus='1'/></network>",
              "Invalid attribute bogus for element bridge\nExtra element bridge in interleave\nElement network failed to validate content\n")]
    [TestCase("<network><uuid>81ff0d90-c91e-6742-64da-4a736edb9a9b</uuid></network>",
              "Expecting an element name, got nothing\nElement network failed to validate content\n")]
    [TestCase("<network><name>x</name><mac address='01:00:00:00:00:01'/></network>",
              "Element mac failed to validate attributes\nExtra element mac in interleave\nElement network failed to validate content\n")]
    public void InvalidDocuments(string xml, string detail)
    {
        var e = Assert.Throws<LibvirtError>(() => NetworkXml.Parse(xml, NetworkParseFlags.Validate))!;
        Assert.That((e.Code, e.Domain), Is.EqualTo((VirErrorCode.XmlInvalidSchema, VirErrorDomain.Xml)));
        Assert.That(e.Message, Is.EqualTo(
            "XML document failed to validate against schema: Unable to validate doc against /usr/share/libvirt/schemas/network.rng\n" + detail));
    }

    [TestCase("<network><name>x</name><title>t</title><description>d</description><domain name='a.b' localOnly='yes' register='yes'/><forward mode='open'/><bridge name='v0' zone='z'/></network>")]
    [TestCase("<network><name>x</name><forward mode='hostdev'><driver model='vfio-pci-igb'/><pf dev='eth0'/></forward></network>")]
    [TestCase("<network><name>x</name><bandwidth><inbound average='18014398509481984'/></bandwidth></network>")]
    public void Libvirt108Documents(string xml) =>
        Assert.DoesNotThrow(() => NetworkXml.Parse(xml, NetworkParseFlags.Validate));

    [Test]
    public void SpeedAboveTheSchemaLimitFailsOnlyWithValidate()
    {
        const string xml = "<network><name>x</name><bandwidth><inbound average='18014398509481985'/></bandwidth></network>";
        Assert.DoesNotThrow(() => NetworkXml.Parse(xml));
        Assert.That(Assert.Throws<LibvirtError>(() => NetworkXml.Parse(xml, NetworkParseFlags.Validate))!.Code,
            Is.EqualTo(VirErrorCode.XmlInvalidSchema));
    }

    [Test]
    public void PortSchema()
    {
        var e = Assert.Throws<LibvirtError>(() => NetworkPortXml.Parse(
            "<networkport><uuid>5d744f21-ba4a-4d6e-bdb2-30a35ff3207d</uuid><mac address='52:54:00:7b:35:93'/></networkport>", validate: true))!;
        Assert.That(e.Code, Is.EqualTo(VirErrorCode.XmlInvalidSchema));
        Assert.That(e.Message, Does.Contain("/usr/share/libvirt/schemas/networkport.rng"));
    }
}
