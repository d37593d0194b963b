using VirtNetworkd.Errors;
using VirtNetworkd.NetworkDriver.Backend.Dnsmasq;
using VirtNetworkd.NetworkDriver.Xml;

namespace VirtNetworkd.NetworkDriver.Tests.Dnsmasq;

/// <summary>
/// Values from the XML never add a line to dnsmasq's files nor a field to a dhcp-host or
/// addn-hosts entry (<see cref="DnsmasqValueCheck"/>); libvirt's own parse-time refusals still
/// come first with libvirt's messages; what libvirt lets through unchanged (quotes, '#', commas
/// in a TXT value) stays byte-identical. Also: the addnhosts text, lease times, the capabilities.
/// </summary>
[TestFixture]
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class DnsmasqConfSafetyTests
{
    private static readonly DnsmasqPaths Paths = new(DnsmasqPaths.DefaultStateDir, DnsmasqPaths.DefaultPidDir);

    private static string Net(string inner, string name = "n", string ip = "<ip address='192.168.122.1' prefix='24'><dhcp><range start='192.168.122.2' end='192.168.122.9'/>{HOSTS}</dhcp></ip>", string hosts = "") =>
        $"<network><name>{name}</name><bridge name='virbr9'/><forward mode='nat'/>{inner}{ip.Replace("{HOSTS}", hosts, StringComparison.Ordinal)}</network>";

    private static DnsmasqFiles Gen(string xml) =>
        DnsmasqConfig.Generate(NetworkXml.Parse(xml), Paths, "/run/libvirt/network/n.pid", DnsmasqConfVectorTests.FakeCaps());

    private static void Refused(string xml, string contains)
    {
        var e = Assert.Throws<LibvirtError>(() => Gen(xml))!;
        Assert.That(e.Code, Is.EqualTo(VirErrorCode.ConfigUnsupported));
        Assert.That(e.Message, Does.Contain(contains));
        Assert.That(e.Message, Does.Not.Contain("\n"));
    }

    [TestCase("<dns><host ip='192.168.122.5'><hostname>a&#10;1.2.3.4 evil</hostname></host></dns>", "name of a DNS host")]
    [TestCase("<dns><host ip='192.168.122.5'><hostname>a b</hostname></host></dns>", "character 0x20")]
    [TestCase("<dns><host ip='192.168.122.5'><hostname>a#b</hostname></host></dns>", "character 0x23")]
    [TestCase("<dns><host ip='192.168.122.5'><hostname>a&#9;b</hostname></host></dns>", "character 0x09")]
    [TestCase("<dns><forwarder domain='a&#10;b' addr='8.8.8.8'/></dns>", "domain of a DNS forwarder")]
    [TestCase("<domain name='ex&#10;ample'/>", "domain name")]
    public void LineBreaksAndSeparatorsAreRefused(string inner, string message) => Refused(Net(inner), message);

    /// <summary>The security fix after 10.8 (in the parser): TXT values and SRV domain/target with CR or LF.</summary>
    [TestCase("<dns><txt name='t' value='a&#10;dhcp-script=/tmp/x'/></dns>", "DNS TXT record named 't' of network n must not contain a carriage return or line feed in its value")]
    [TestCase("<dns><txt name='t' value='a&#13;b'/></dns>", "must not contain a carriage return or line feed")]
    [TestCase("<dns><srv service='s' protocol='tcp' target='t&#10;x' port='1'/></dns>", "DNS SRV record target for service 's'")]
    [TestCase("<dns><srv service='s' protocol='tcp' domain='d&#10;x'/></dns>", "DNS SRV record domain for service 's'")]
    public void TheParserRefusesLineBreaksInTxtAndSrv(string inner, string message)
    {
        var e = Assert.Throws<LibvirtError>(() => Gen(Net(inner)))!;
        Assert.That(e.Code, Is.EqualTo(VirErrorCode.XmlDetail));
        Assert.That(e.Message, Does.Contain(message));
    }

    [Test]
    public void TheGeneratorRefusesThemToo()
    {
        NetworkDef def = NetworkXml.Parse(Net(""));
        def.Dns.Txts.Add(new DnsTxtDef { Name = "t", Value = "a\nport=0" });
        var e = Assert.Throws<LibvirtError>(() => DnsmasqConfig.Generate(def, Paths, null, DnsmasqConfVectorTests.FakeCaps()))!;
        Assert.That(e.Message, Does.Contain("value of a DNS TXT record 'a\\x0aport=0'"));
        def.Dns.Txts.Clear();
        def.Dns.Srvs.Add(new DnsSrvDef { Service = "s", Protocol = "tcp", Target = "x\ry" });
        e = Assert.Throws<LibvirtError>(() => DnsmasqConfig.Generate(def, Paths, null, DnsmasqConfVectorTests.FakeCaps()))!;
        Assert.That(e.Message, Does.Contain("target of a DNS SRV record"));
    }

    [TestCase("<host mac='00:16:3e:77:e2:ed' name='a&#10;dhcp-range=1.1.1.1' ip='192.168.122.10'/>", "name of a DHCP host")]
    [TestCase("<host mac='00:16:3e:77:e2:ed' name='a,ignore' ip='192.168.122.10'/>", "name of a DHCP host 'a,ignore'")]
    public void DhcpHostFieldsCannotBeSplit(string host, string message) => Refused(Net("", hosts: host), message);

    [Test]
    public void TftpBootAndDnsmasqOptionsKeepToOneLine()
    {
        Refused(Net("", ip: "<ip address='192.168.122.1' prefix='24'><tftp root='/a&#10;port=53'/></ip>"), "TFTP root");
        Refused(Net("", ip: "<ip address='192.168.122.1' prefix='24'><dhcp><range start='192.168.122.2' end='192.168.122.9'/><bootp file='f&#10;x'/></dhcp></ip>"), "bootp file");
        string opts = "<dnsmasq:options xmlns:dnsmasq='http://libvirt.org/schemas/network/dnsmasq/1.0'><dnsmasq:option value='a=b&#10;c=d'/></dnsmasq:options>";
        Refused(Net(opts), "dnsmasq:option");
    }

    [Test]
    public void ANameWithACarriageReturnIsRefusedAndLibvirtsOwnRefusalsComeFirst()
    {
        Refused(Net("", name: "a&#13;b"), "network name");
        // libvirt's parser: a TXT name with ' ' or ',' (VIR_ERR_XML_DETAIL), an SRV service with odd characters
        var e = Assert.Throws<LibvirtError>(() => Gen(Net("<dns><txt name='a,b' value='v'/></dns>")))!;
        Assert.That(e.Message, Does.Contain("prohibited character in DNS TXT record name 'a,b'"));
        e = Assert.Throws<LibvirtError>(() => Gen(Net("<dns><srv service='a&#10;b' protocol='tcp'/></dns>")))!;
        Assert.That(e.Message, Does.Contain("invalid character in service attribute"));
    }

    [Test]
    public void WhatLibvirtLetsThroughOnOneLineIsWrittenAsLibvirtWritesIt()
    {
        DnsmasqFiles f = Gen(Net("<dns><txt name='t' value='a, #b &quot;c&quot;'/></dns>"));
        Assert.That(f.Config, Does.Contain("\ntxt-record=t,a, #b \"c\"\n"));
        Assert.That(f.Config, Does.Contain("\npid-file=/run/libvirt/network/n.pid\nexcept-interface=lo\n"));
    }

    [Test]
    public void AddnHostsGroupsNamesByAddressInFirstSeenOrder()
    {
        DnsmasqFiles f = Gen(Net("<dns><host ip='192.168.122.5'><hostname>a</hostname><hostname>b</hostname></host>" +
            "<host ip='2001:db8::5'><hostname>c</hostname></host><host ip='192.168.122.5'><hostname>d</hostname></host></dns>"));
        Assert.That(f.Hosts.AddnHostsText(), Is.EqualTo("192.168.122.5\ta\tb\td\t\n2001:db8::5\tc\t\n"));
        Assert.That(Gen(Net("")).Hosts.AddnHostsText(), Is.Empty);
    }

    [Test]
    public void PathsEscapeTheNameAsLibvirtDoes()
    {
        Assert.That(Paths.HostsFile("a\"b'<&>"), Is.EqualTo("/var/lib/libvirt/dnsmasq/a&quot;b&apos;&lt;&amp;&gt;.hostsfile"));
        Assert.That(Paths.ConfigFile("a\"b"), Is.EqualTo("/var/lib/libvirt/dnsmasq/a\"b.conf"));
        Assert.That(Paths.PidFile("n"), Is.EqualTo("/run/libvirt/network/n.pid"));
        Assert.That(Paths.MacMapFile("virbr0"), Is.EqualTo("/var/lib/libvirt/dnsmasq/virbr0.macs"));
    }

    [TestCase("Dnsmasq version 2.90  Copyright (c) 2000-2024 Simon Kelley\nCompile time options: IPv6\n", 2090000UL)]
    [TestCase("Dnsmasq version 2.67\n", 2067000UL)]
    [TestCase("Dnsmasq version 2.89.3rc1\n", 2089003UL)]
    public void TheVersionIsParsedAsLibvirtParsesIt(string output, ulong version) =>
        Assert.That(DnsmasqCaps.FromVersionOutput("/usr/sbin/dnsmasq", output).Version, Is.EqualTo(version));

    [Test]
    public void OldOrUnparsableVersionsAreRefusedWithLibvirtsMessages()
    {
        var e = Assert.Throws<LibvirtError>(() => DnsmasqCaps.FromVersionOutput("/d", "Dnsmasq version 2.66\n"))!;
        Assert.That(e.Message, Is.EqualTo("unsupported configuration: dnsmasq version >= 2.67 required but 2.66 found"));
        e = Assert.Throws<LibvirtError>(() => DnsmasqCaps.FromVersionOutput("/d", "something else\nmore"))!;
        Assert.That(e.Message, Is.EqualTo("internal error: cannot parse /d version number in 'something else'"));
    }

    [Test]
    public void TheBinaryIsProbedOncePerBinary()
    {
        string dir = Directory.CreateTempSubdirectory("dnsmasq-caps").FullName;
        try
        {
            string bin = Path.Combine(dir, "dnsmasq");
            File.WriteAllText(bin, "#!/bin/sh\necho 'Dnsmasq version 2.90  Copyright'\n");
            File.SetUnixFileMode(bin, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            var probe = new DnsmasqCapsProbe();
            Assert.That(probe.Get(bin).VersionText, Is.EqualTo("2.90"));
            Assert.That(probe.Get(bin).BinaryPath, Is.EqualTo(bin));
            Assert.That(probe.Probes, Is.EqualTo(1));
            File.WriteAllText(bin, "#!/bin/sh\necho 'Dnsmasq version 2.91'\n");
            File.SetLastWriteTimeUtc(bin, DateTime.UtcNow.AddMinutes(1));
            Assert.That(probe.Get(bin).VersionText, Is.EqualTo("2.91"), "a changed binary is probed again");
            Assert.That(probe.Probes, Is.EqualTo(2));
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }
}
