using VirtNetworkd.Errors;
using VirtNetworkd.NetworkDriver.Xml;
using VirtNetworkd.NetworkDriver.Xml.Update;

namespace VirtNetworkd.NetworkDriver.Tests;

/// <summary>
/// libvirt's tests/networkxml2xmlupdatetest.c: every case of its table (read from the .c file),
/// applying tests/networkxml2xmlupdatein/*.xml to tests/networkxml2xmlin/*.xml and comparing with
/// tests/networkxml2xmlupdateout/*.xml.
/// </summary>
[TestFixture]
public sealed class NetworkUpdateTests
{
    public sealed record Case(int Index, string Name, string UpdateXml, string NetXml, string? OutXml,
                              int Command, int Section, int ParentIndex, uint FormatFlags, bool ExpectFailure,
                              string TestsDir)
    {
        public override string ToString() => $"{Name} #{Index}";
    }

    private static readonly Dictionary<string, int> Commands = new()
    {
        ["VIR_NETWORK_UPDATE_COMMAND_NONE"] = 0,
        ["VIR_NETWORK_UPDATE_COMMAND_MODIFY"] = 1,
        ["VIR_NETWORK_UPDATE_COMMAND_DELETE"] = 2,
        ["VIR_NETWORK_UPDATE_COMMAND_ADD_LAST"] = 3,
        ["VIR_NETWORK_UPDATE_COMMAND_ADD_FIRST"] = 4,
    };

    private static readonly Dictionary<string, int> Sections = new()
    {
        ["VIR_NETWORK_SECTION_NONE"] = 0,
        ["VIR_NETWORK_SECTION_BRIDGE"] = 1,
        ["VIR_NETWORK_SECTION_DOMAIN"] = 2,
        ["VIR_NETWORK_SECTION_IP"] = 3,
        ["VIR_NETWORK_SECTION_IP_DHCP_HOST"] = 4,
        ["VIR_NETWORK_SECTION_IP_DHCP_RANGE"] = 5,
        ["VIR_NETWORK_SECTION_FORWARD"] = 6,
        ["VIR_NETWORK_SECTION_FORWARD_INTERFACE"] = 7,
        ["VIR_NETWORK_SECTION_FORWARD_PF"] = 8,
        ["VIR_NETWORK_SECTION_PORTGROUP"] = 9,
        ["VIR_NETWORK_SECTION_DNS_HOST"] = 10,
        ["VIR_NETWORK_SECTION_DNS_TXT"] = 11,
        ["VIR_NETWORK_SECTION_DNS_SRV"] = 12,
    };

    /// <summary>
    /// Cases taken from libvirt 11.3 because 10.8 behaves differently from 9.0: DNS HOST and TXT
    /// records can be modified since libvirt 10.6 (9.0 answers "cannot be modified").
    /// </summary>
    private static readonly Dictionary<string, string> FromLibvirt113 = new()
    {
        ["modify-dns-host"] = "DNS HOST modify (10.6)",
        ["modify-dns-host-not-existing"] = "DNS HOST modify (10.6)",
        ["modify-dns-txt-record"] = "DNS TXT modify (10.6)",
        ["modify-missing-dns-txt-record"] = "DNS TXT modify (10.6)",
    };

    /// <summary>The error each expected failure gets (the .c only checks that it fails).</summary>
    private static readonly Dictionary<string, (VirErrorCode Code, string Message)> ExpectedErrors = new()
    {
        ["add-host-incomplete"] = (VirErrorCode.XmlError, "XML error: Missing IP address in static host definition for network 'default'"),
        ["add-host-new-incomplete"] = (VirErrorCode.XmlError, "XML error: Missing IP address in static host definition for network 'default'"),
        ["add-host-existing"] = (VirErrorCode.OperationInvalid, "Requested operation is not valid: there is an existing dhcp host entry in network 'default' that matches \"<host mac='00:16:3e:77:e2:ed' name='a.example.com' ip='192.168.122.10'/>\""),
        ["modify-host-missing"] = (VirErrorCode.OperationInvalid, "Requested operation is not valid: couldn't locate an existing dhcp host entry with \"mac='00:16:3e:77:f0:0d'\" \"name='m.example.com'\" \"ip='192.168.122.12'\" in network 'default'"),
        ["modify-host-incomplete"] = (VirErrorCode.XmlError, "XML error: Missing IP address in static host definition for network 'default'"),
        ["delete-host-missing"] = (VirErrorCode.OperationInvalid, "Requested operation is not valid: couldn't locate a matching dhcp host entry in network 'default'"),
        ["add-dhcp-range-outside-net"] = (VirErrorCode.InternalError, "internal error: range 10.0.0.10 - 10.0.0.100 is not entirely within network 192.168.122.1/24"),
        ["delete-dhcp-range"] = (VirErrorCode.OperationInvalid, "Requested operation is not valid: couldn't locate a matching dhcp range entry in network 'default'"),
        ["delete-forward-interface"] = (VirErrorCode.OperationInvalid, "Requested operation is not valid: couldn't find an interface entry in network 'default' matching <interface dev='eth47'>"),
        ["append-duplicate-portgroup"] = (VirErrorCode.OperationInvalid, "Requested operation is not valid: there is an existing portgroup entry in network 'openvswitch-net' that matches \"<portgroup name='alice'>\""),
        ["modify-missing-portgroup"] = (VirErrorCode.OperationInvalid, "Requested operation is not valid: couldn't find a portgroup entry in network 'openvswitch-net' matching <portgroup name='alison'>"),
        ["delete-missing-portgroup"] = (VirErrorCode.OperationInvalid, "Requested operation is not valid: couldn't find a portgroup entry in network 'default' matching <portgroup name='alice'>"),
        ["insert-incomplete-host"] = (VirErrorCode.XmlDetail, "Missing IP address in network 'default' DNS HOST record"),
        ["delete-missing-unparsable-dns-host"] = (VirErrorCode.XmlDetail, "Missing ip and hostname in network 'default' DNS HOST record"),
        ["modify-dns-host-not-existing"] = (VirErrorCode.XmlDetail, "Invalid IP address in network 'default' DNS HOST record"),
        ["append-duplicate-dns-txt-record"] = (VirErrorCode.OperationInvalid, "Requested operation is not valid: there is already a DNS TXT record with name 'example' in network default"),
        ["delete-missing-dns-txt-record"] = (VirErrorCode.OperationInvalid, "Requested operation is not valid: couldn't locate a matching DNS TXT record in network default"),
        ["modify-missing-dns-txt-record"] = (VirErrorCode.OperationInvalid, "Requested operation is not valid: couldn't locate a matching DNS TXT record in network default"),
        ["add-existing-dns-srv-record"] = (VirErrorCode.OperationInvalid, "Requested operation is not valid: there is already at least one DNS SRV record matching all specified fields in network default"),
        ["delete-missing-srv-record-service"] = (VirErrorCode.OperationInvalid, "Requested operation is not valid: couldn't locate a matching DNS SRV record in network default"),
        ["delete-srv-record-invalid"] = (VirErrorCode.OperationInvalid, "Requested operation is not valid: couldn't locate a matching DNS SRV record in network default"),
        ["delete-ambiguous-srv-record-service"] = (VirErrorCode.OperationInvalid, "Requested operation is not valid: multiple DNS SRV records matching all specified fields were found in network default"),
    };

    private static IEnumerable<Case> Read(string testsDir, Func<string, bool> include)
    {
        string src = LibvirtVectors.ReadC(Path.Combine(testsDir, "networkxml2xmlupdatetest.c"));
        var sectionAssignments = System.Text.RegularExpressions.Regex.Matches(src, @"\bsection\s*=\s*(VIR_NETWORK_SECTION_\w+)\s*;")
            .Select(m => (m.Index, Value: Sections[m.Groups[1].Value])).ToList();
        int index = 0;
        foreach (var (macro, a, pos) in LibvirtVectors.Invocations(src, ["DO_TEST", "DO_TEST_FAIL", "DO_TEST_INDEX", "DO_TEST_INDEX_FAIL"]))
        {
            int section = sectionAssignments.Last(s => s.Index < pos).Value;
            string name = LibvirtVectors.Str(a[0]);
            index++;
            if (!include(name)) continue;
            // The .c initialises struct testInfo {…, parentIndex, flags, …} with the macro's
            // (flags, parentIndex) in swapped order: every case really runs with parentIndex 0,
            // and formats with the number meant as parentIndex as its flags (-12435 and -12345
            // have VIR_NETWORK_XML_INACTIVE set). Reproduced as is.
            Case c = macro switch
            {
                "DO_TEST" => new(index, name, LibvirtVectors.Str(a[1]), LibvirtVectors.Str(a[2]), LibvirtVectors.Str(a[3]),
                                 Commands[a[4]], section, 0, unchecked((uint)-12435), false, testsDir),
                "DO_TEST_FAIL" => new(index, name, LibvirtVectors.Str(a[1]), LibvirtVectors.Str(a[2]), null,
                                      Commands[a[3]], section, 0, unchecked((uint)-12345), true, testsDir),
                "DO_TEST_INDEX" => new(index, name, LibvirtVectors.Str(a[1]), LibvirtVectors.Str(a[2]), LibvirtVectors.Str(a[3]),
                                       Commands[a[4]], section, 0, uint.Parse(a[5]), false, testsDir),
                _ => new(index, name, LibvirtVectors.Str(a[1]), LibvirtVectors.Str(a[2]), null,
                         Commands[a[3]], section, 0, uint.Parse(a[4]), true, testsDir),
            };
            yield return c;
        }
    }

    public static IEnumerable<Case> AllCases()
    {
        var cases = Read(LibvirtVectors.Tests90, _ => true).ToList();
        cases.AddRange(Read(LibvirtVectors.Tests113, FromLibvirt113.ContainsKey));
        return cases;
    }

    public static IEnumerable<TestCaseData> Cases() =>
        AllCases().Select(c => new TestCaseData(c).SetName($"networkxml2xmlupdate {c.Name} #{c.Index}{(c.TestsDir == LibvirtVectors.Tests113 ? " (11.3)" : "")}"));

    public static string? Run(Case c)
    {
        NetworkDef def = NetworkXml.Parse(File.ReadAllText(Path.Combine(c.TestsDir, "networkxml2xmlin", c.NetXml + ".xml")));
        string update = File.ReadAllText(Path.Combine(c.TestsDir, "networkxml2xmlupdatein", c.UpdateXml + ".xml"));
        try
        {
            NetworkUpdate.Apply(def, c.Command, c.Section, c.ParentIndex, update, 0);
        }
        catch (LibvirtError e)
        {
            if (!c.ExpectFailure) return "unexpected failure: " + e.Message;
            if (ExpectedErrors.TryGetValue(c.Name, out var exp) && (e.Code != exp.Code || e.Message != exp.Message))
                return $"wrong error: {e.Code} '{e.Message}', expected {exp.Code} '{exp.Message}'";
            return null;
        }
        if (c.ExpectFailure) return "the update succeeded, libvirt refuses it";
        string actual = NetworkXml.Format(def, (NetworkFormatFlags)c.FormatFlags);
        string expected = File.ReadAllText(Path.Combine(c.TestsDir, "networkxml2xmlupdateout", c.OutXml + ".xml"));
        return actual == expected ? null : $"output differs:\n--- expected\n{expected}--- actual\n{actual}";
    }

    [TestCaseSource(nameof(Cases))]
    public void Vector(Case c)
    {
        string? failure = Run(c);
        Assert.That(failure, Is.Null, failure);
    }

    [Test]
    public void EveryExpectedFailureHasItsMessage()
    {
        foreach (Case c in AllCases().Where(c => c.ExpectFailure))
            Assert.That(ExpectedErrors.ContainsKey(c.Name), Is.True, c.Name);
    }

    [Test]
    public void Summary()
    {
        var cases = AllCases().ToList();
        var failed = cases.Where(c => Run(c) is not null).Select(c => c.ToString()).ToList();
        TestContext.Progress.WriteLine($"networkxml2xmlupdate: {cases.Count - failed.Count}/{cases.Count} passed");
        Assert.That(failed, Is.Empty);
        Assert.That(cases.Count, Is.GreaterThanOrEqualTo(40));
    }
}
