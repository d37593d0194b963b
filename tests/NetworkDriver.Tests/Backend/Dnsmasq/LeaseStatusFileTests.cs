using System.Text;
using VirtNetworkd.Errors;
using VirtNetworkd.NetworkDriver.Backend.Dnsmasq;
using VirtNetworkd.NetworkDriver.Xml;

namespace VirtNetworkd.NetworkDriver.Tests.Backend.Dnsmasq;

/// <summary>networkGetDHCPLeases's rules over BRIDGE.status (bridge_driver.c, 10.8).</summary>
public sealed class LeaseStatusFileTests
{
    private const long Now = 1_700_000_000;
    private const string Path0 = "/var/lib/libvirt/dnsmasq/virbr9.status";

    private static NetworkDef Def(string ips = "<ip address='192.168.122.1' netmask='255.255.255.0'/><ip family='ipv6' address='2001:db8::1' prefix='64'/>") =>
        NetworkXml.Parse($"<network><name>n</name><bridge name='virbr9'/>{ips}</network>");

    private static IReadOnlyList<VirtNetworkd.NetworkDriver.Driver.DhcpLease> Read(string json, string? mac = null, NetworkDef? def = null) =>
        LeaseStatusFile.Parse(Encoding.UTF8.GetBytes(json), Path0, def ?? Def(), mac, Now);

    private const string Sample = """
        [
          {"ip-address": "192.168.122.10", "mac-address": "52:54:00:aa:bb:cc", "hostname": "g1", "client-id": "01:52:54:00:aa:bb:cc", "expiry-time": 1700000100},
          {"ip-address": "192.168.122.11", "mac-address": "52:54:00:aa:bb:dd", "expiry-time": 1699999999},
          {"ip-address": "192.168.122.12", "mac-address": "52:54:00:0a:bb:ee", "expiry-time": 0},
          {"iaid": "7", "ip-address": "2001:db8::10", "mac-address": "52:54:00:aa:bb:cc", "client-id": "00:04:aa", "server-duid": "00:01", "expiry-time": 1700000000}
        ]
        """;

    [Test]
    public void LeasesAsLibvirtListsThem()
    {
        var leases = Read(Sample);
        Assert.That(leases.Select(l => l.IpAddr), Is.EqualTo(new[] { "192.168.122.10", "192.168.122.12", "2001:db8::10" }),
            "the expired lease is left out; expiry 0 never expires; one expiring now is kept");
        var v4 = leases[0];
        Assert.That((v4.Iface, v4.ExpiryTime, v4.Type, v4.Mac, v4.Iaid, v4.Prefix, v4.Hostname, v4.ClientId),
            Is.EqualTo(("virbr9", 1700000100L, 0, "52:54:00:aa:bb:cc", (string?)null, 24u, "g1", "01:52:54:00:aa:bb:cc")));
        Assert.That(leases[1].Hostname, Is.Null);
        Assert.That(leases[1].ClientId, Is.Null);
        var v6 = leases[2];
        Assert.That((v6.Type, v6.Iaid, v6.Prefix, v6.ClientId), Is.EqualTo((1, "7", 64u, "00:04:aa")));
    }

    [TestCase("52:54:00:AA:BB:CC", 2)]
    [TestCase("52:54:0:aa:bb:cc", 2)]
    [TestCase("52:54:00:a:bb:ee", 1)]
    [TestCase("52:54:00:aa:bb:dd", 0)]
    [TestCase("52:54:00:00:00:00", 0)]
    public void MacFilterAsVirMacAddrCompare(string mac, int count) => Assert.That(Read(Sample, mac), Has.Count.EqualTo(count));

    [Test]
    public void ThePrefixComesFromTheFirstIpOfTheFamily()
    {
        var def = Def("<ip address='10.1.0.1' prefix='16'/><ip address='10.2.0.1' prefix='8'/>");
        Assert.That(Read(Sample, def: def)[0].Prefix, Is.EqualTo(16u));
        Assert.That(Read(Sample, def: def)[2].Prefix, Is.Zero, "no IPv6 <ip>: prefix 0");
        Assert.That(Read(Sample, def: Def("<ip address='10.1.0.1'/>"))[0].Prefix, Is.EqualTo(8u), "the natural prefix of a class A address");
    }

    [TestCase("")]
    [TestCase("\0[{\"garbage\"")]
    public void AnEmptyFileHasNoLeases(string text) => Assert.That(Read(text), Is.Empty);

    [TestCase("not json", "internal error: invalid json in file: " + Path0)]
    [TestCase("[1] x", "internal error: invalid json in file: " + Path0)]
    [TestCase("{\"a\":1}", "internal error: Malformed lease_entries array")]
    [TestCase("[1]", "internal error: found lease without mac-address")]
    [TestCase("[{\"mac-address\": 5, \"expiry-time\": 0}]", "internal error: found lease without mac-address")]
    [TestCase("[{\"mac-address\": \"m\"}]", "internal error: found lease without expiry-time")]
    [TestCase("[{\"mac-address\": \"m\", \"expiry-time\": \"0\"}]", "internal error: found lease without expiry-time")]
    [TestCase("[{\"mac-address\": \"m\", \"expiry-time\": 1.5}]", "internal error: found lease without expiry-time")]
    [TestCase("[{\"mac-address\": \"m\", \"expiry-time\": 18446744073709551615}]", "internal error: found lease without expiry-time")]
    [TestCase("[{\"mac-address\": \"m\", \"expiry-time\": 0}]", "internal error: found lease without ip-address")]
    public void AFileNotInLibvirtsFormatIsAnInternalError(string text, string message)
    {
        var e = Assert.Throws<LibvirtError>(() => Read(text))!;
        Assert.That(e.Code, Is.EqualTo(VirErrorCode.InternalError));
        Assert.That(e.Domain, Is.EqualTo(VirErrorDomain.Network));
        Assert.That(e.Message, Is.EqualTo(message));
    }

    [Test]
    public void ACountAsksNoIpAddressOfALeaseAsLibvirt()
    {
        byte[] json = Encoding.UTF8.GetBytes("[{\"mac-address\": \"m\", \"expiry-time\": 0}, {\"mac-address\": \"n\", \"expiry-time\": 0, \"ip-address\": \"192.0.2.9\"}]");
        Assert.That(LeaseStatusFile.Parse(json, Path0, Def(), null, Now, needResults: false), Has.Count.EqualTo(2));
        Assert.That(Assert.Throws<LibvirtError>(() => LeaseStatusFile.Parse(json, Path0, Def(), null, Now, needResults: true))!.Message,
            Is.EqualTo("internal error: found lease without ip-address"));
    }

    [Test]
    public void AFilteredOutOrExpiredLeaseIsNotCheckedFurther() =>
        Assert.That(Read("[{\"mac-address\": \"52:54:00:00:00:01\", \"expiry-time\": 1}, {\"mac-address\": \"x\", \"expiry-time\": \"bad\"}]", "52:54:00:00:00:01"), Is.Empty);

    [Test]
    public void FilesOnDisk()
    {
        string dir = Directory.CreateTempSubdirectory("vn-leases-").FullName;
        try
        {
            Assert.That(LeaseStatusFile.ReadLeases(dir, Def(), null, Now), Is.Empty, "no file: no leases");
            File.WriteAllText(LeaseStatusFile.PathFor(dir, "virbr9"), Sample);
            Assert.That(LeaseStatusFile.ReadLeases(dir, Def(), null, Now), Has.Count.EqualTo(3));

            using (var fs = new FileStream(LeaseStatusFile.PathFor(dir, "virbr9"), FileMode.Create))
                fs.SetLength(LeaseStatusFile.MaxSize + 1);
            var e = Assert.Throws<LibvirtError>(() => LeaseStatusFile.ReadLeases(dir, Def(), null, Now))!;
            Assert.That(e.Code, Is.EqualTo(VirErrorCode.SystemError));
            Assert.That(e.Message, Is.EqualTo($"Unable to read leases file: {dir}/virbr9.status: Value too large for defined data type"));

            File.Delete(LeaseStatusFile.PathFor(dir, "virbr9"));
            Directory.CreateDirectory(LeaseStatusFile.PathFor(dir, "virbr9"));
            Assert.That(Assert.Throws<LibvirtError>(() => LeaseStatusFile.ReadLeases(dir, Def(), null, Now))!.Code, Is.EqualTo(VirErrorCode.SystemError),
                "a folder where the file should be is an error, not a crash");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
