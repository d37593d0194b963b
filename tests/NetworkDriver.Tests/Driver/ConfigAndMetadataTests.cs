using VirtNetworkd.NetworkDriver.Driver;
using VirtNetworkd.Errors;

namespace VirtNetworkd.NetworkDriver.Tests.Driver;

[TestFixture]
public sealed class ConfigAndMetadataTests : DriverTestBase
{
    private const string Ip = "<ip address='192.168.50.1' netmask='255.255.255.0'><dhcp><range start='192.168.50.2' end='192.168.50.9'/></dhcp></ip>";
    private const string Host = "<host mac='52:54:00:00:00:11' ip='192.168.50.11'/>";
    // VIR_NETWORK_UPDATE_COMMAND_ADD_LAST = 3, VIR_NETWORK_SECTION_IP_DHCP_HOST = 4
    private const int AddLast = 3, DhcpHost = 4;

    [Test]
    public void UpdateInactiveChangesConfigFile()
    {
        NetworkRef r = Drv.DefineXml(Xml("n1", U1, Ip), 0);
        Drv.Update(r, AddLast, DhcpHost, -1, Host, 0);
        Assert.That(Drv.GetXmlDesc(r, 0), Does.Contain("52:54:00:00:00:11"));
        Assert.That(File.ReadAllText(Path.Combine(ConfigDir, "n1.xml")), Does.Contain("52:54:00:00:00:11"));
        Throws(() => Drv.Update(r, AddLast, DhcpHost, -1, Host, 1))
            .Is(VirErrorCode.OperationInvalid, "Requested operation is not valid: network is not running");
        Throws(() => Drv.Update(r, AddLast, DhcpHost, -1, Host, 4))
            .Is(VirErrorCode.InvalidArg, "unsupported flags (0x4) in function networkUpdate");
    }

    [Test]
    public void UpdateActiveLiveAndConfig()
    {
        NetworkRef r = Drv.DefineXml(Xml("n1", U1, Ip), 0);
        Drv.Create(r);
        Drv.Update(r, AddLast, DhcpHost, -1, Host, 0); // current = live
        Assert.That(Drv.GetXmlDesc(r, 0), Does.Contain("52:54:00:00:00:11"));
        Assert.That(Drv.GetXmlDesc(r, 1), Does.Not.Contain("52:54:00:00:00:11"));
        Assert.That(File.ReadAllText(Path.Combine(StateDir, "n1.xml")), Does.Contain("52:54:00:00:00:11"));
        Drv.Update(r, AddLast, DhcpHost, -1, "<host mac='52:54:00:00:00:12' ip='192.168.50.12'/>", 2);
        Assert.That(Drv.GetXmlDesc(r, 1), Does.Contain("52:54:00:00:00:12"));
        Assert.That(Drv.GetXmlDesc(r, 0), Does.Not.Contain("52:54:00:00:00:12"));
        Assert.That(File.ReadAllText(Path.Combine(ConfigDir, "n1.xml")), Does.Contain("52:54:00:00:00:12"));
        // a failing update changes nothing
        string live = Drv.GetXmlDesc(r, 0), cfg = Drv.GetXmlDesc(r, 1);
        Assert.Throws<LibvirtError>(() => Drv.Update(r, AddLast, DhcpHost, -1, Host, 3));
        Assert.That(Drv.GetXmlDesc(r, 0), Is.EqualTo(live));
        Assert.That(Drv.GetXmlDesc(r, 1), Is.EqualTo(cfg));
        Drv.Destroy(r);
        Assert.That(Drv.GetXmlDesc(r, 0), Does.Contain("52:54:00:00:00:12"));
    }

    [Test]
    public void UpdateTransientConfigIsRefused()
    {
        NetworkRef r = Drv.CreateXml(Xml("t", U1, Ip), 0);
        Throws(() => Drv.Update(r, AddLast, DhcpHost, -1, Host, 2))
            .Is(VirErrorCode.OperationInvalid, "Requested operation is not valid: cannot change persistent config of a transient network");
    }

    [Test]
    public void MetadataTitleDescriptionElement()
    {
        NetworkRef r = Drv.DefineXml(Xml("n1", U1), 0);
        Throws(() => Drv.GetMetadata(r, 1, null, 0))
            .Is(VirErrorCode.NoNetworkMetadata, "metadata not found: Requested metadata element is not present");
        Drv.SetMetadata(r, 1, "My title", null, null, 0);
        Drv.SetMetadata(r, 0, "My desc", null, null, 0);
        Drv.SetMetadata(r, 2, "<foo a='1'><bar/></foo>", "k", "http://example.org/x", 0);
        Assert.That(Drv.GetMetadata(r, 1, null, 0), Is.EqualTo("My title"));
        Assert.That(Drv.GetMetadata(r, 0, null, 2), Is.EqualTo("My desc"));
        Assert.That(Drv.GetMetadata(r, 2, "http://example.org/x", 0), Is.EqualTo("<foo a=\"1\">\n  <bar/>\n</foo>"));
        string file = File.ReadAllText(Path.Combine(ConfigDir, "n1.xml"));
        Assert.That(file, Does.Contain("<title>My title</title>"));
        Assert.That(file, Does.Contain("<k:foo xmlns:k=\"http://example.org/x\" a=\"1\">"));
        // empty title removes; null element removes
        Drv.SetMetadata(r, 1, "", null, null, 0);
        Assert.Throws<LibvirtError>(() => Drv.GetMetadata(r, 1, null, 0));
        Drv.SetMetadata(r, 2, null, null, "http://example.org/x", 0);
        Throws(() => Drv.GetMetadata(r, 2, "http://example.org/x", 0))
            .Is(VirErrorCode.NoNetworkMetadata, "metadata not found: Requested metadata element is not present");
        Assert.That(Events, Is.EqualTo(new[] { "n1:Defined:0", "n1:meta:1:", "n1:meta:0:", "n1:meta:2:http://example.org/x", "n1:meta:1:", "n1:meta:2:http://example.org/x" }));
    }

    [Test]
    public void MetadataArgumentErrors()
    {
        NetworkRef r = Drv.DefineXml(Xml("n1", U1), 0);
        Throws(() => Drv.GetMetadata(r, 1, null, 3)).Is(VirErrorCode.InvalidArg,
            "Flags 'VIR_NETWORK_UPDATE_AFFECT_LIVE' and 'VIR_NETWORK_UPDATE_AFFECT_CONFIG' are mutually exclusive");
        Throws(() => Drv.GetMetadata(r, 2, null, 0)).Is(VirErrorCode.InvalidArg, "uri in virNetworkGetMetadata must not be NULL");
        Throws(() => Drv.GetMetadata(r, 1, "u", 0)).Is(VirErrorCode.InvalidArg, "uri in virNetworkGetMetadata must be NULL");
        Throws(() => Drv.GetMetadata(r, 7, null, 0)).Is(VirErrorCode.InvalidArg, "invalid argument: unknown metadata type '7'");
        Throws(() => Drv.SetMetadata(r, 1, "a\nb", null, null, 0)).Is(VirErrorCode.InvalidArg, "metadata title can't contain newlines");
        Throws(() => Drv.SetMetadata(r, 2, "<a/>", null, "u", 0)).Is(VirErrorCode.InvalidArg, "key in virNetworkSetMetadata must not be NULL");
        Throws(() => Drv.SetMetadata(r, 2, "<a/>", "k", null, 0)).Is(VirErrorCode.InvalidArg, "uri in virNetworkSetMetadata must not be NULL");
        Throws(() => Drv.SetMetadata(r, 0, "d", "k", null, 0)).Is(VirErrorCode.InvalidArg, "key in virNetworkSetMetadata must be NULL");
        var e = Assert.Throws<LibvirtError>(() => Drv.SetMetadata(r, 0, "d", "k", null, 0))!;
        Assert.That((e.Domain, e.Template, e.Detail), Is.EqualTo((VirErrorDomain.Network, "virNetworkSetMetadata", "key")),
            "as virReportInvalidNullArg: the function and the argument's name in str1/str2");
        Throws(() => Drv.SetMetadata(r, 1, "t", null, null, 1)).Is(VirErrorCode.OperationInvalid, "Requested operation is not valid: network is not running");
        Throws(() => Drv.SetMetadata(r, 1, "t", null, null, 8)).Is(VirErrorCode.InvalidArg, "unsupported flags (0x8) in function networkSetMetadata");
        NetworkRef t = Drv.CreateXml(Xml("t", U2), 0);
        Throws(() => Drv.SetMetadata(t, 1, "t", null, null, 2)).Is(VirErrorCode.OperationInvalid,
            "Requested operation is not valid: cannot change persistent config of a transient network");
        Throws(() => Drv.GetMetadata(t, 1, null, 2)).Is(VirErrorCode.OperationInvalid,
            "Requested operation is not valid: cannot change persistent config of a transient network");
        Assert.That(Events.Where(e => e.Contains(":meta:", StringComparison.Ordinal)), Is.Empty);
    }

    [Test]
    public void MetadataLiveVersusConfigOnActiveNetwork()
    {
        NetworkRef r = Drv.DefineXml(Xml("n1", U1), 0);
        Drv.Create(r);
        Drv.SetMetadata(r, 1, "live", null, null, 1);
        Drv.SetMetadata(r, 1, "cfg", null, null, 2);
        Assert.That(Drv.GetMetadata(r, 1, null, 0), Is.EqualTo("live"));
        Assert.That(Drv.GetMetadata(r, 1, null, 1), Is.EqualTo("live"));
        Assert.That(Drv.GetMetadata(r, 1, null, 2), Is.EqualTo("cfg"));
        Assert.That(File.ReadAllText(Path.Combine(StateDir, "n1.xml")), Does.Contain("<title>live</title>"));
        Assert.That(File.ReadAllText(Path.Combine(ConfigDir, "n1.xml")), Does.Contain("<title>cfg</title>"));
    }

    [Test]
    public void GetMetadataChecksItsFlagsAfterTheLookupAsVirNetworkObjGetMetadata()
    {
        NetworkRef r = Drv.DefineXml(Xml("n1", U1), 0);
        Throws(() => Drv.GetMetadata(r, 1, null, 0x100))
            .Is(VirErrorCode.InvalidArg, "unsupported flags (0x100) in function virNetworkObjGetMetadata");
        var missing = new NetworkRef("nope", Guid.Parse(U2));
        Assert.That(Throws(() => Drv.GetMetadata(missing, 1, null, 0x100)).Error.Code, Is.EqualTo(VirErrorCode.NoNetwork));
        Throws(() => Drv.SetMetadata(r, 1, "t", null, null, 0x100))
            .Is(VirErrorCode.InvalidArg, "unsupported flags (0x100) in function networkSetMetadata");
    }
}
