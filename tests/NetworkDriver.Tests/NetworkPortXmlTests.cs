using VirtNetworkd.Errors;
using VirtNetworkd.NetworkDriver.Xml;

namespace VirtNetworkd.NetworkDriver.Tests;

/// <summary>
/// libvirt's tests/virnetworkportxml2xmltest.c: each file of tests/virnetworkportxml2xmldata in
/// its table is parsed and formatted back to itself.
/// </summary>
[TestFixture]
public sealed class NetworkPortXmlTests
{
    public static IEnumerable<string> AllCases()
    {
        string src = LibvirtVectors.ReadC(Path.Combine(LibvirtVectors.Tests90, "virnetworkportxml2xmltest.c"));
        return LibvirtVectors.Invocations(src, ["DO_TEST"]).Select(i => LibvirtVectors.Str(i.Args[0])).ToList();
    }

    public static IEnumerable<TestCaseData> Cases() =>
        AllCases().Select(n => new TestCaseData(n).SetName("virnetworkportxml2xml " + n));

    public static string? Run(string name)
    {
        string xml = File.ReadAllText(Path.Combine(LibvirtVectors.Tests90, "virnetworkportxml2xmldata", name + ".xml"));
        try
        {
            string actual = NetworkPortXml.Format(NetworkPortXml.Parse(xml));
            return actual == xml ? null : $"output differs:\n--- expected\n{xml}--- actual\n{actual}";
        }
        catch (LibvirtError e)
        {
            return "unexpected failure: " + e.Message;
        }
    }

    [TestCaseSource(nameof(Cases))]
    public void Vector(string name)
    {
        string? failure = Run(name);
        Assert.That(failure, Is.Null, failure);
    }

    [Test]
    public void Summary()
    {
        var cases = AllCases().ToList();
        var failed = cases.Where(c => Run(c) is not null).ToList();
        TestContext.Progress.WriteLine($"virnetworkportxml2xml: {cases.Count - failed.Count}/{cases.Count} passed");
        Assert.That(failed, Is.Empty);
        Assert.That(cases.Count, Is.GreaterThanOrEqualTo(7));
    }

    [TestCase("<networkport><owner><name>x</name><uuid>d54df46f-1ab5-4a22-8618-4560ef5fac2c</uuid></owner><mac address='52:54:00:7b:35:93'/></networkport>",
              VirErrorCode.InternalError, "internal error: network port has no uuid")]
    [TestCase("<networkport><uuid>5d744f21-ba4a-4d6e-bdb2-30a35ff3207d</uuid><mac address='52:54:00:7b:35:93'/></networkport>",
              VirErrorCode.InternalError, "internal error: network port has no owner name")]
    [TestCase("<networkport><uuid>5d744f21-ba4a-4d6e-bdb2-30a35ff3207d</uuid><owner><name>x</name><uuid>bogus</uuid></owner><mac address='52:54:00:7b:35:93'/></networkport>",
              VirErrorCode.InternalError, "internal error: Unable to parse UUID 'bogus'")]
    [TestCase("<networkport><uuid>5d744f21-ba4a-4d6e-bdb2-30a35ff3207d</uuid><owner><name>x</name><uuid>d54df46f-1ab5-4a22-8618-4560ef5fac2c</uuid></owner></networkport>",
              VirErrorCode.InternalError, "internal error: network port has no mac")]
    [TestCase("<networkport><uuid>5d744f21-ba4a-4d6e-bdb2-30a35ff3207d</uuid><owner><name>x</name><uuid>d54df46f-1ab5-4a22-8618-4560ef5fac2c</uuid></owner><mac address='52:54:00:7b:35:93'/><plug type='bridge'/></networkport>",
              VirErrorCode.XmlError, "XML error: Missing network port bridge name")]
    [TestCase("<networkport><uuid>5d744f21-ba4a-4d6e-bdb2-30a35ff3207d</uuid><owner><name>x</name><uuid>d54df46f-1ab5-4a22-8618-4560ef5fac2c</uuid></owner><mac address='52:54:00:7b:35:93'/><plug type='tap'/></networkport>",
              VirErrorCode.XmlError, "XML error: Invalid value for attribute 'type' in element 'plug': 'tap'.")]
    [TestCase("<networkport><uuid>5d744f21-ba4a-4d6e-bdb2-30a35ff3207d</uuid><owner><name>x</name><uuid>d54df46f-1ab5-4a22-8618-4560ef5fac2c</uuid></owner><mac address='52:54:00:7b:35:93'/><plug type='hostdev-pci'/></networkport>",
              VirErrorCode.XmlError, "XML error: Missing network port PCI address")]
    [TestCase("<network/>", VirErrorCode.XmlError, "XML error: expecting root element of 'networkport', not 'network'")]
    public void Errors(string xml, VirErrorCode code, string message)
    {
        var e = Assert.Throws<LibvirtError>(() => NetworkPortXml.Parse(xml))!;
        Assert.That((e.Code, e.Message), Is.EqualTo((code, message)));
    }
}
