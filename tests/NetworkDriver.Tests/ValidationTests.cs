using VirtNetworkd.Errors;
using VirtNetworkd.NetworkDriver.Xml;
using VirtNetworkd.NetworkDriver.Xml.Validation;

namespace VirtNetworkd.NetworkDriver.Tests;

/// <summary>The define-time checks of bridge_driver.c networkValidate.</summary>
[TestFixture]
public sealed class ValidationTests
{
    private static (bool, string) NotVf(PciAddress a) => (false, "/sys/bus/pci/devices/" + a);
    private static (bool, string) IsVf(PciAddress a) => (true, "/sys/bus/pci/devices/" + a);

    private static LibvirtError Invalid(string body, Func<PciAddress, (bool, string)>? vf = null)
    {
        NetworkDef def = NetworkXml.Parse($"<network><name>n</name>{body}</network>");
        return Assert.Throws<LibvirtError>(() => NetworkValidation.ValidateForDefine(def, vf ?? IsVf))!;
    }

    private static void Valid(string body, Func<PciAddress, (bool, string)>? vf = null)
    {
        NetworkDef def = NetworkXml.Parse($"<network><name>n</name>{body}</network>");
        Assert.DoesNotThrow(() => NetworkValidation.ValidateForDefine(def, vf ?? IsVf));
    }

    [TestCase("<forward mode='bridge'/><bridge name='br0'/><mac address='52:54:00:00:00:01'/>",
              "Unsupported <mac> element in network n with forward mode='bridge'")]
    [TestCase("<forward mode='bridge'/><bridge name='br0'/><ip address='10.0.0.1'/>",
              "Unsupported <ip> element in network n with forward mode='bridge'")]
    [TestCase("<forward mode='private' dev='eth0'/><dns><txt name='a' value='b'/></dns>",
              "Unsupported <dns> element in network n with forward mode='private'")]
    [TestCase("<forward mode='vepa' dev='eth0'/><domain name='x'/>",
              "Unsupported <domain> element in network n with forward mode='vepa'")]
    [TestCase("<forward mode='passthrough' dev='eth0'/><bandwidth><inbound average='1'/></bandwidth>",
              "Unsupported network-wide <bandwidth> element in network n with forward mode='passthrough'")]
    [TestCase("<forward mode='hostdev'><interface dev='eth0'/></forward>",
              "hostdev network 'n' lists 'eth0' in the device pool, but hostdev networks require all devices to be listed by PCI address, not network device name")]
    [TestCase("<forward mode='passthrough'><address type='pci' bus='3' slot='0' function='1'/></forward>",
              "network 'n' has forward mode 'passthrough' but lists a device by PCI address in the device pool. This is only supported for networks with forward mode 'hostdev'")]
    [TestCase("<ip address='10.0.0.1' prefix='24'><dhcp><range start='10.0.0.2' end='10.0.0.3'/></dhcp></ip><ip address='10.1.0.1' prefix='24'><dhcp><host mac='52:54:00:00:00:01' ip='10.1.0.2'/></dhcp></ip>",
              "Multiple IPv4 dhcp sections found -- dhcp is supported only for a single IPv4 address on each network")]
    [TestCase("<ip family='ipv6' address='2001:db8::1' prefix='64'><dhcp><range start='2001:db8::2' end='2001:db8::3'/></dhcp></ip><ip family='ipv6' address='2001:db9::1' prefix='64'><dhcp><range start='2001:db9::2' end='2001:db9::3'/></dhcp></ip>",
              "Multiple IPv6 dhcp sections found -- dhcp is supported only for a single IPv6 address on each network")]
    [TestCase("<vlan><tag id='3'/></vlan>",
              "<vlan> element specified for network n, whose type doesn't support vlan configuration")]
    [TestCase("<forward mode='bridge'/><bridge name='br0'/><vlan><tag id='3'/></vlan>",
              "<vlan> element specified for network n, whose type doesn't support vlan configuration")]
    [TestCase("<forward mode='bridge'/><bridge name='br0'/><virtualport type='openvswitch'/><portgroup name='a'><vlan><tag id='1'/></vlan><virtualport type='802.1Qbh'/></portgroup>",
              "<vlan> element specified for network n, whose type doesn't support vlan configuration")]
    [TestCase("<portgroup name='a' default='yes'/><portgroup name='b' default='yes'/>",
              "network 'n' has multiple default <portgroup> elements (a and b), but only one default is allowed")]
    [TestCase("<portgroup name='a'/><portgroup name='a'/>",
              "multiple <portgroup> elements with the same name (a) in network 'n'")]
    [TestCase("<forward mode='bridge' dev='eth0'/><portgroup name='a'><bandwidth><inbound average='1'/></bandwidth></portgroup>",
              "Unsupported <bandwidth> element in network 'n' in portgroup 'a' with forward mode='bridge'")]
    public void ConfigUnsupported(string body, string message)
    {
        LibvirtError e = Invalid(body);
        Assert.That((e.Code, e.Domain, e.Message), Is.EqualTo((VirErrorCode.ConfigUnsupported, VirErrorDomain.Network, "unsupported configuration: " + message)));
    }

    [Test]
    public void HostdevPoolMustBeVirtualFunctions()
    {
        LibvirtError e = Invalid("<forward mode='hostdev'><address type='pci' domain='0' bus='3' slot='0' function='1'/></forward>", NotVf);
        Assert.That(e.Message, Is.EqualTo(
            "unsupported configuration: device '/sys/bus/pci/devices/0000:03:00.1' in network 'n' is not an SR-IOV Virtual Function"));
        Valid("<forward mode='hostdev'><address type='pci' domain='0' bus='3' slot='0' function='1'/></forward>");
    }

    [Test]
    public void PoolKindsAreMutuallyExclusive()
    {
        // parsing keeps only one kind; net-update can add an <interface> next to a <pf>
        NetworkDef def = NetworkXml.Parse("<network><name>n</name><forward mode='passthrough'><pf dev='eth0'/></forward></network>");
        def.Forward.Interfaces.Add(new ForwardIfDef { Type = HostdevDeviceType.Netdev, Dev = "eth1" });
        var e = Assert.Throws<LibvirtError>(() => NetworkValidation.ValidateForDefine(def, IsVf))!;
        Assert.That(e.Message, Is.EqualTo(
            "unsupported configuration: <address>, <interface>, and <pf> elements of <forward> in network n are mutually exclusive"));
    }

    [Test]
    public void HostdevPortgroupBandwidth()
    {
        LibvirtError e = Invalid("<forward mode='hostdev'><pf dev='eth0'/></forward><portgroup name='a'><bandwidth><inbound average='1'/></bandwidth></portgroup>");
        Assert.That(e.Message, Is.EqualTo(
            "unsupported configuration: Unsupported <bandwidth> element in network 'n' in portgroup 'a' with forward mode='hostdev'"));
    }

    [Test]
    public void BandwidthLimits()
    {
        LibvirtError e = Invalid("<bandwidth><inbound average='18014398509481985'/></bandwidth>");
        Assert.That((e.Code, e.Message), Is.EqualTo((VirErrorCode.Overflow,
            "numerical overflow: value '18014398509481985' is too big for 'average' parameter, maximum is '18014398509481984'")));
        e = Invalid("<bandwidth><outbound average='1' burst='4194304'/></bandwidth>");
        Assert.That(e.Message, Is.EqualTo("numerical overflow: value '4194304' is too big for 'burst' parameter, maximum is '4194303'"));
        Valid("<bandwidth><inbound average='18014398509481984' burst='4194303'/></bandwidth>");
    }

    [Test]
    public void NameWithNewline()
    {
        LibvirtError e = Assert.Throws<LibvirtError>(() =>
            NetworkValidation.ValidateForDefine(NetworkXml.Parse("<network><name>a&#10;b</name></network>")))!;
        Assert.That((e.Code, e.Message), Is.EqualTo((VirErrorCode.XmlDetail, "invalid char in name: \n")));
    }

    [TestCase("")]
    [TestCase("<forward/><ip address='10.0.0.1' prefix='24'><dhcp><range start='10.0.0.2' end='10.0.0.9'/></dhcp></ip><ip family='ipv6' address='2001:db8::1' prefix='64'><dhcp><range start='2001:db8::2' end='2001:db8::3'/></dhcp></ip><bandwidth><inbound average='10'/></bandwidth>")]
    [TestCase("<forward mode='bridge'/><bridge name='br0'/><bandwidth><inbound average='1'/></bandwidth>")]
    [TestCase("<forward mode='bridge'/><bridge name='ovsbr0'/><virtualport type='openvswitch'/><vlan><tag id='7'/></vlan>")]
    [TestCase("<forward mode='hostdev'><pf dev='eth0'/></forward><vlan><tag id='7'/></vlan>")]
    [TestCase("<forward mode='passthrough' dev='eth0'/><portgroup name='p' default='yes'><vlan><tag id='1'/></vlan></portgroup>")]
    [TestCase("<forward mode='open'/>")]
    public void ValidNetworks(string body) => Valid(body);
}
