using System.Net.Sockets;
using VirtNetworkd.Errors;
using VirtNetworkd.NetworkDriver.Xml;
using VirtNetworkd.NetworkDriver.Xml.Net;

namespace VirtNetworkd.NetworkDriver.Tests;

/// <summary>UUID, MAC and IP address handling with libvirt's (and glibc's) semantics.</summary>
[TestFixture]
public sealed class PrimitivesTests
{
    // ------------------------------------------------------------------ UUID

    [TestCase("81ff0d90-c91e-6742-64da-4a736edb9a9b")]
    [TestCase("81ff0d90c91e674264da4a736edb9a9b")]
    [TestCase("81FF0D90-C91E-6742-64DA-4A736EDB9A9B")]
    [TestCase("  81ff0d90 c91e 6742 64da 4a736edb9a9b \n")]
    [TestCase("81-ff-0d-90-c9-1e-67-42-64-da-4a-73-6e-db-9a-9b")]
    public void UuidIsParsedWithOrWithoutDashes(string text)
    {
        Assert.That(VirUuid.TryParse(text, out Guid g), Is.True);
        Assert.That(VirUuid.Format(g), Is.EqualTo("81ff0d90-c91e-6742-64da-4a736edb9a9b"));
    }

    [TestCase("")]
    [TestCase("81ff0d90-c91e-6742-64da-4a736edb9a9")]
    [TestCase("81ff0d90-c91e-6742-64da-4a736edb9a9b0")]
    [TestCase("81ff0d90-c91e-6742-64da-4a736edb9a9g")]
    [TestCase("8-1ff0d90c91e674264da4a736edb9a9b")]
    [TestCase("{81ff0d90-c91e-6742-64da-4a736edb9a9b}")]
    public void BadUuidsAreRefused(string text) => Assert.That(VirUuid.TryParse(text, out _), Is.False);

    [Test]
    public void UuidBytesAreInTextOrder()
    {
        Guid g = VirUuid.Parse("00112233-4455-6677-8899-aabbccddeeff");
        Assert.That(VirUuid.ToBytes(g), Is.EqualTo(Convert.FromHexString("00112233445566778899aabbccddeeff")));
        Assert.That(VirUuid.FromBytes(VirUuid.ToBytes(g)), Is.EqualTo(g));
    }

    [Test]
    public void NetworkUuidErrors()
    {
        var e = Assert.Throws<LibvirtError>(() => NetworkXml.Parse("<network><name>n</name><uuid>nope</uuid></network>"))!;
        Assert.That((e.Code, e.Message), Is.EqualTo((VirErrorCode.InternalError, "internal error: malformed uuid element")));
        NetworkDef def = NetworkXml.Parse("<network><name>n</name><uuid>81ff0d90c91e674264da4a736edb9a9b</uuid></network>");
        Assert.That(def.UuidSpecified, Is.True);
        Assert.That(NetworkXml.Parse("<network><name>n</name></network>").UuidSpecified, Is.False);
    }

    // ------------------------------------------------------------------ MAC

    [TestCase("52:54:00:ab:cd:ef", "52:54:00:ab:cd:ef")]
    [TestCase("52:54:0:AB:c:EF", "52:54:00:ab:0c:ef")]
    [TestCase("2:4:6:8:a:c", "02:04:06:08:0a:0c")]
    [TestCase("52:54:00:ab:cd:ef ", "52:54:00:ab:cd:ef")]
    [TestCase("52:54:00:ab:cd:ef\tjunk", "52:54:00:ab:cd:ef")]
    public void MacIsParsedAsLibvirtDoes(string text, string formatted)
    {
        Assert.That(MacAddr.TryParse(text, out MacAddr m), Is.True);
        Assert.That(m.ToString(), Is.EqualTo(formatted));
    }

    [TestCase("")]
    [TestCase("52:54:00:ab:cd")]
    [TestCase("52:54:00:ab:cd:ef:01")]
    [TestCase("52:54:00:ab:cd:efx")]
    [TestCase("052:54:00:ab:cd:ef")]
    [TestCase("52-54-00-ab-cd-ef")]
    [TestCase(" 52:54:00:ab:cd:ef")]
    [TestCase("+52:54:00:ab:cd:ef")]
    [TestCase("0x52:54:00:ab:cd:ef")]
    public void BadMacsAreRefused(string text) => Assert.That(MacAddr.TryParse(text, out _), Is.False);

    [Test]
    public void MacProperties()
    {
        Assert.That(MacAddr.Parse("01:00:5e:00:00:01").IsMulticast, Is.True);
        Assert.That(MacAddr.Parse("52:54:00:00:00:01").IsUnicast, Is.True);
        Assert.That(MacAddr.FromBytes(MacAddr.Parse("52:54:00:01:02:03").GetBytes()), Is.EqualTo(MacAddr.Parse("52:54:0:1:2:3")));
        Assert.That(MacAddr.CompareStrings("00:16:3e:0a:00:01", "0:16:3E:A:0:1"), Is.Zero);
        Assert.That(MacAddr.CompareStrings("00:16:3e:0a:00:01", "00:16:3e:0a:00:02"), Is.Not.Zero);
    }

    [Test]
    public void NetworkMacErrors()
    {
        var e = Assert.Throws<LibvirtError>(() => NetworkXml.Parse("<network><name>n</name><mac address='01:02:03:04:05:06'/></network>"))!;
        Assert.That(e.Message, Is.EqualTo("XML error: Invalid multicast bridge mac address '01:02:03:04:05:06' in network 'n'"));
        e = Assert.Throws<LibvirtError>(() => NetworkXml.Parse("<network><name>n</name><mac address='zz'/></network>"))!;
        Assert.That(e.Message, Is.EqualTo("XML error: Invalid bridge mac address 'zz' in network 'n'"));
    }

    // ------------------------------------------------------------------ IP addresses

    [TestCase("192.168.122.1", "192.168.122.1")]
    [TestCase("10", "0.0.0.10")]
    [TestCase("10.1", "10.0.0.1")]
    [TestCase("1.2.3", "1.2.0.3")]
    [TestCase("0x7f.1", "127.0.0.1")]
    [TestCase("010.0.0.1", "8.0.0.1")]
    [TestCase("4294967295", "255.255.255.255")]
    [TestCase("::", "::")]
    [TestCase("::1", "::1")]
    [TestCase("2001:DB8:0:0:1:0:0:1", "2001:db8::1:0:0:1")]
    [TestCase("2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1")]
    [TestCase("1:0:0:2:0:0:0:3", "1:0:0:2::3")]
    [TestCase("::ffff:1.2.3.4", "::ffff:1.2.3.4")]
    [TestCase("::1.2.3.4", "::1.2.3.4")]
    [TestCase("::0.0.1.2", "::102")]
    [TestCase("::ffff:0:1.2.3.4", "::ffff:0:102:304")]
    [TestCase("0:0:0:0:0:ffff:0:0", "::ffff:0.0.0.0")]
    [TestCase("0:0:1::", "0:0:1::")]
    [TestCase("fe80::1%3", "fe80::1%3")]
    public void AddressesAreParsedAndFormattedAsGlibcDoes(string text, string formatted)
    {
        Assert.That(SocketAddr.TryParse(text, out SocketAddr a), Is.True);
        Assert.That(a.Format(), Is.EqualTo(formatted));
    }

    [TestCase("")]
    [TestCase(" 1.2.3.4")]
    [TestCase("1.2.3.4 ")]
    [TestCase("1.2.3.256")]
    [TestCase("4294967296")]
    [TestCase("08.1.1.1")]
    [TestCase("1.2.3.4.5")]
    [TestCase("::1::2")]
    [TestCase("1:2:3:4:5:6:7:8:9")]
    [TestCase("12345::")]
    [TestCase("::01.2.3.4")]
    [TestCase("fe80::1%eth0")]
    [TestCase("host.example.com")]
    public void BadAddressesAreRefused(string text) => Assert.That(SocketAddr.TryParse(text, out _), Is.False);

    [Test]
    public void AddressFamilyRestriction()
    {
        Assert.That(SocketAddr.TryParse("::1", AddressFamily.InterNetwork, out _, out string err), Is.False);
        Assert.That(err, Is.EqualTo("Address family for hostname not supported"));
        var e = Assert.Throws<LibvirtError>(() => SocketAddr.Parse("bogus"))!;
        Assert.That((e.Code, e.Message), Is.EqualTo((VirErrorCode.SystemError, "Cannot parse socket address 'bogus': Name or service not known")));
    }

    [TestCase("255.255.255.0", 24)]
    [TestCase("255.255.255.255", 32)]
    [TestCase("0.0.0.0", 0)]
    [TestCase("255.255.128.0", 17)]
    [TestCase("255.0.255.0", -1)]
    [TestCase("ffff:ffff:ffff:ffff::", 64)]
    [TestCase("ffff:fffe::", 31)]
    [TestCase("ffff::1", -1)]
    public void NetmaskBits(string mask, int bits) =>
        Assert.That(SocketAddr.Parse(mask).GetNumNetmaskBits(), Is.EqualTo(bits));

    [TestCase(24, "255.255.255.0")]
    [TestCase(0, "0.0.0.0")]
    [TestCase(32, "255.255.255.255")]
    [TestCase(9, "255.128.0.0")]
    public void PrefixToNetmaskIPv4(int prefix, string mask) =>
        Assert.That(SocketAddr.PrefixToNetmask(prefix, AddressFamily.InterNetwork).Format(), Is.EqualTo(mask));

    [Test]
    public void PrefixToNetmaskIPv6AndOutOfRange()
    {
        Assert.That(SocketAddr.PrefixToNetmask(64, AddressFamily.InterNetworkV6).Format(), Is.EqualTo("ffff:ffff:ffff:ffff::"));
        Assert.That(SocketAddr.PrefixToNetmask(33, AddressFamily.InterNetwork).IsValid, Is.False);
        Assert.That(SocketAddr.PrefixToNetmask(129, AddressFamily.InterNetworkV6).IsValid, Is.False);
    }

    [TestCase("10.1.2.3", null, 0, 8)]
    [TestCase("172.16.2.3", null, 0, 16)]
    [TestCase("192.168.2.3", null, 0, 24)]
    [TestCase("224.0.0.1", null, 0, -1)]
    [TestCase("0.0.0.0", null, 0, 0)]
    [TestCase("10.1.2.3", "255.255.0.0", 0, 16)]
    [TestCase("10.1.2.3", null, 20, 20)]
    [TestCase("2001:db8::1", null, 0, 64)]
    [TestCase("::", null, 0, 0)]
    public void IpDefPrefix(string address, string? netmask, int prefix, int expected)
    {
        var ip = new IpDef { Address = SocketAddr.Parse(address), Prefix = (uint)prefix };
        if (netmask is not null) ip.Netmask = SocketAddr.Parse(netmask);
        Assert.That(ip.GetPrefix(), Is.EqualTo(expected));
    }

    [Test]
    public void NetworkAddressAndNetmask()
    {
        var ip = new IpDef { Address = SocketAddr.Parse("192.168.122.1"), Netmask = SocketAddr.Parse("255.255.255.0") };
        Assert.That(ip.GetNetworkAddress().Format(), Is.EqualTo("192.168.122.0"));
        Assert.That(ip.GetNetmask().Format(), Is.EqualTo("255.255.255.0"));
        var ip6 = new IpDef { Address = SocketAddr.Parse("2001:db8:ac10:fd01::1"), Prefix = 64 };
        Assert.That(ip6.GetNetworkAddress().Format(), Is.EqualTo("2001:db8:ac10:fd01::"));
        Assert.That(ip6.GetNetmask().Format(), Is.EqualTo("ffff:ffff:ffff:ffff::"));
        Assert.That(SocketAddr.Parse("192.168.122.1").Broadcast(SocketAddr.Parse("255.255.255.0")).Format(), Is.EqualTo("192.168.122.255"));
    }

    [TestCase("192.168.122.2", "192.168.122.254", 253)]
    [TestCase("192.168.122.10", "192.168.122.10", 1)]
    public void RangeSize(string start, string end, int size) =>
        Assert.That(SocketAddr.GetRange(SocketAddr.Parse(start), SocketAddr.Parse(end), SocketAddr.Parse("192.168.122.1"), 24), Is.EqualTo(size));

    [TestCase("10.0.0.10", "10.0.0.100", "range 10.0.0.10 - 10.0.0.100 is not entirely within network 192.168.122.1/24")]
    [TestCase("192.168.122.0", "192.168.122.10", "start of range 192.168.122.0 - 192.168.122.10 in network 192.168.122.1/24 is the network address")]
    [TestCase("192.168.122.10", "192.168.122.255", "end of range 192.168.122.10 - 192.168.122.255 in network 192.168.122.1/24 is the broadcast address")]
    [TestCase("192.168.122.10", "192.168.122.2", "range 192.168.122.10 - 192.168.122.2 is reversed ")]
    [TestCase("2001:db8::1", "2001:db8::2", "mismatch of address family in range 2001:db8::1 - 2001:db8::2 for network 192.168.122.1")]
    public void RangeErrors(string start, string end, string message)
    {
        var e = Assert.Throws<LibvirtError>(() =>
            SocketAddr.GetRange(SocketAddr.Parse(start), SocketAddr.Parse(end), SocketAddr.Parse("192.168.122.1"), 24))!;
        Assert.That((e.Code, e.Message), Is.EqualTo((VirErrorCode.InternalError, "internal error: " + message)));
    }

    [Test]
    public void RangeLimits()
    {
        var e = Assert.Throws<LibvirtError>(() =>
            SocketAddr.GetRange(SocketAddr.Parse("10.0.0.1"), SocketAddr.Parse("10.2.0.0"), SocketAddr.Parse("10.0.0.1"), 8))!;
        Assert.That(e.Message, Is.EqualTo("internal error: range 10.0.0.1 - 10.2.0.0 is too large (> 65535)"));
        e = Assert.Throws<LibvirtError>(() =>
            SocketAddr.GetRange(SocketAddr.Parse("2001:db8::10"), SocketAddr.Parse("2001:db8::1:0"), SocketAddr.Parse("2001:db8::1"), 64))!;
        Assert.That(e.Message, Is.EqualTo("internal error: range 2001:db8::10 - 2001:db8::1:0 is too large (> 65535)"));
        Assert.That(SocketAddr.GetRange(SocketAddr.Parse("2001:db8::10"), SocketAddr.Parse("2001:db8::ff"), SocketAddr.Parse("2001:db8::1"), 64), Is.EqualTo(240));
    }

    [Test]
    public void EqualityIgnoresScopeAndUnsetNeverEquals()
    {
        Assert.That(SocketAddr.Parse("fe80::1%2") == SocketAddr.Parse("fe80::1"), Is.True);
        Assert.That(default(SocketAddr) == default(SocketAddr), Is.False);
        Assert.That(SocketAddr.Parse("1.2.3.4") == SocketAddr.Parse("::ffff:1.2.3.4"), Is.False);
    }

    [Test]
    public void IPAddressRoundTrip()
    {
        SocketAddr a = SocketAddr.Parse("2001:db8::1");
        Assert.That(SocketAddr.FromIPAddress(a.ToIPAddress()!), Is.EqualTo(a));
        Assert.That(SocketAddr.FromIPv4(0x0A000001).Format(), Is.EqualTo("10.0.0.1"));
    }

    // ------------------------------------------------------------------ numbers

    [TestCase("42", 10, true, 42u)]
    [TestCase(" 42", 10, true, 42u)]
    [TestCase("+42", 10, true, 42u)]
    [TestCase("-1", 10, false, 0u)]
    [TestCase("42 ", 10, false, 0u)]
    [TestCase("4294967295", 10, true, uint.MaxValue)]
    [TestCase("4294967296", 10, false, 0u)]
    [TestCase("0x1f", 0, true, 31u)]
    [TestCase("017", 0, true, 15u)]
    [TestCase("08", 0, false, 0u)]
    [TestCase("0x", 0, false, 0u)]
    [TestCase("", 10, false, 0u)]
    public void UnsignedParsing(string s, int b, bool ok, uint value)
    {
        Assert.That(CNumber.TryParseUIntP(s, b, out uint v), Is.EqualTo(ok));
        if (ok) Assert.That(v, Is.EqualTo(value));
    }

    [Test]
    public void MinusOneWrapsForVirStrToLongUi()
    {
        Assert.That(CNumber.TryParseUInt("-1", 10, out uint v), Is.True);
        Assert.That(v, Is.EqualTo(uint.MaxValue));
        // libvirt's <mtu size='-1'/> is therefore accepted as 4294967295
        NetworkDef def = NetworkXml.Parse("<network><name>n</name><mtu size='-1'/></network>");
        Assert.That(def.Mtu, Is.EqualTo(uint.MaxValue));
    }
}

[TestFixture]
public sealed class NetDevNameTests
{
    [TestCase("virbr0", true)]
    [TestCase("br-lan.10", true)]
    [TestCase("123456789012345", true)]
    [TestCase("1234567890123456", false)]
    [TestCase("", false)]
    [TestCase(".", false)]
    [TestCase("..", false)]
    [TestCase("a/b", false)]
    [TestCase("a:b", false)]
    [TestCase("a b", false)]
    [TestCase("a\nb", false)]
    public void KernelRules(string name, bool valid) => Assert.That(NetDevName.IsValid(name), Is.EqualTo(valid));
}
