using VirtNetworkd.Errors;
using VirtNetworkd.NetworkDriver.Xml;

namespace VirtNetworkd.NetworkDriver.Tests;

/// <summary>
/// libvirt's tests/networkxml2xmltest.c: every case of its table, read from the .c file, with
/// tests/networkxml2xmlin → tests/networkxml2xmlout compared byte for byte.
/// </summary>
[TestFixture]
public sealed class NetworkXml2XmlTests
{
    public sealed record Case(string Name, NetworkFormatFlags Flags, bool ExpectParseFailure, string TestsDir)
    {
        public override string ToString() => Name;
    }

    /// <summary>
    /// The messages libvirt reports for the cases its test expects to fail (the .c only checks
    /// that parsing fails; these come from network_conf.c).
    /// </summary>
    private static readonly Dictionary<string, (VirErrorCode Code, string Message)> ExpectedErrors = new()
    {
        ["routed-network-no-dns-extra-elements"] = (VirErrorCode.XmlError, "XML error: Extra data in disabled network 'local'"),
        ["open-network-with-forward-dev"] = (VirErrorCode.XmlError, "XML error: forward dev not allowed for network 'open' with forward mode='open'"),
        ["hostdev-duplicate"] = (VirErrorCode.XmlError, "XML error: PCI device '0000:03:00.3' can only be listed once in network hostdev"),
        ["passthrough-duplicate"] = (VirErrorCode.XmlError, "XML error: interface 'eth3' can only be listed once in network passthrough-duplicate"),
    };

    /// <summary>
    /// Cases taken from libvirt 11.3 because 10.8 behaves differently from 9.0 there. Each has
    /// its reason.
    /// </summary>
    private static readonly Dictionary<string, string> FromLibvirt113 = new()
    {
        // <forward mode='hostdev'><driver model='…'/> exists since libvirt 10.0 (hostdevDriver
        // with optional name and a model); 9.0 rejects the model-only driver element.
        ["hostdev-pf-driver-model"] = "hostdev driver model (10.0)",
    };

    private static IEnumerable<Case> Read(string testsDir, Func<string, bool> include)
    {
        string src = LibvirtVectors.ReadC(Path.Combine(testsDir, "networkxml2xmltest.c"));
        foreach (var (macro, args, _) in LibvirtVectors.Invocations(src, ["DO_TEST", "DO_TEST_FLAGS", "DO_TEST_PARSE_ERROR"]))
        {
            string name = LibvirtVectors.Str(args[0]);
            if (!include(name)) continue;
            NetworkFormatFlags flags = macro == "DO_TEST_FLAGS"
                ? args[1] switch
                {
                    "VIR_NETWORK_XML_INACTIVE" => NetworkFormatFlags.Inactive,
                    "0" => NetworkFormatFlags.None,
                    _ => throw new InvalidOperationException("unknown flags " + args[1]),
                }
                : NetworkFormatFlags.None;
            yield return new Case(name, flags, macro == "DO_TEST_PARSE_ERROR", testsDir);
        }
    }

    public static IEnumerable<Case> AllCases()
    {
        var cases = Read(LibvirtVectors.Tests90, _ => true).ToList();
        cases.AddRange(Read(LibvirtVectors.Tests113, FromLibvirt113.ContainsKey));
        return cases;
    }

    public static IEnumerable<TestCaseData> Cases() =>
        AllCases().Select(c => new TestCaseData(c).SetName("networkxml2xml " + c.Name));

    /// <summary>Runs one case; null when it passes, else why not.</summary>
    public static string? Run(Case c)
    {
        string inXml = File.ReadAllText(Path.Combine(c.TestsDir, "networkxml2xmlin", c.Name + ".xml"));
        NetworkDef def;
        try
        {
            def = NetworkXml.Parse(inXml);
        }
        catch (LibvirtError e)
        {
            if (!c.ExpectParseFailure) return "unexpected parse failure: " + e.Message;
            if (ExpectedErrors.TryGetValue(c.Name, out var exp) && (e.Code != exp.Code || e.Message != exp.Message))
                return $"wrong error: {e.Code} '{e.Message}', expected {exp.Code} '{exp.Message}'";
            return null;
        }
        if (c.ExpectParseFailure) return "parsed, but libvirt fails to parse it";

        string actual = NetworkXml.Format(def, c.Flags);
        string expected = File.ReadAllText(Path.Combine(c.TestsDir, "networkxml2xmlout", c.Name + ".xml"));
        return actual == expected ? null : $"output differs:\n--- expected\n{expected}--- actual\n{actual}";
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
        var failed = cases.Where(c => Run(c) is not null).Select(c => c.Name).ToList();
        TestContext.Progress.WriteLine($"networkxml2xml: {cases.Count - failed.Count}/{cases.Count} passed");
        Assert.That(failed, Is.Empty);
        Assert.That(cases.Count, Is.GreaterThanOrEqualTo(46));
    }
}
