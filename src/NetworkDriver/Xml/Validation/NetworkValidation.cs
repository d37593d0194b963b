using System.Globalization;
using VirtNetworkd.Errors;
using VirtNetworkd.NetworkDriver.Xml.Parse;

namespace VirtNetworkd.NetworkDriver.Xml.Validation;

/// <summary>
/// The checks libvirt's network driver makes when a network is defined or created
/// (networkValidate in bridge_driver.c, libvirt 10.8: vlan tags are not yet allowed on plain
/// Linux bridges). What networkValidate also does but is the driver's own business is left out:
/// picking or checking the bridge name against other networks (networkBridgeNameValidate) and
/// generating a bridge MAC address (virNetworkSetBridgeMacAddr).
/// </summary>
public static class NetworkValidation
{
    private static LibvirtError Err(VirErrorCode code, string detail) => new(code, VirErrorDomain.Network, detail);

    /// <summary>
    /// Throws libvirt's error when <paramref name="def"/> may not be defined.
    /// <paramref name="isVirtualFunction"/> answers whether a PCI device is an SR-IOV virtual
    /// function and gives its sysfs path (default: <see cref="SysfsIsVirtualFunction"/>).
    /// </summary>
    public static void ValidateForDefine(NetworkDef def, Func<PciAddress, (bool IsVf, string SysfsPath)>? isVirtualFunction = null)
    {
        ArgumentNullException.ThrowIfNull(def);
        isVirtualFunction ??= SysfsIsVirtualFunction;
        XmlProps.CheckIllegalChars("name", def.Name, "\n");

        ForwardType type = def.Forward.Type;
        string mode = type.ToXml();
        bool bandwidthAllowed = false;
        switch (type)
        {
            case ForwardType.None:
            case ForwardType.Nat:
            case ForwardType.Route:
            case ForwardType.Open:
                bandwidthAllowed = true;
                break;
            default:
                if (type == ForwardType.Bridge && def.Bridge is not null) bandwidthAllowed = true;
                if (def.Mac is not null)
                    throw Err(VirErrorCode.ConfigUnsupported, $"Unsupported <mac> element in network {def.Name} with forward mode='{mode}'");
                if (def.Ips.Count > 0)
                    throw Err(VirErrorCode.ConfigUnsupported, $"Unsupported <ip> element in network {def.Name} with forward mode='{mode}'");
                if (def.Dns.Txts.Count > 0 || def.Dns.Hosts.Count > 0 || def.Dns.Srvs.Count > 0)
                    throw Err(VirErrorCode.ConfigUnsupported, $"Unsupported <dns> element in network {def.Name} with forward mode='{mode}'");
                if (def.Domain is not null)
                    throw Err(VirErrorCode.ConfigUnsupported, $"Unsupported <domain> element in network {def.Name} with forward mode='{mode}'");
                break;
        }

        if (def.Bandwidth is not null && !bandwidthAllowed)
            throw Err(VirErrorCode.ConfigUnsupported,
                $"Unsupported network-wide <bandwidth> element in network {def.Name} with forward mode='{mode}'");
        ValidateBandwidth(def.Bandwidth);

        // <pf>, <interface> and <address> pools are mutually exclusive
        bool usesInterface = false, usesAddress = false;
        foreach (ForwardIfDef iface in def.Forward.Interfaces)
        {
            switch (iface.Type)
            {
                case HostdevDeviceType.Netdev:
                    usesInterface = true;
                    if (type == ForwardType.Hostdev)
                        throw Err(VirErrorCode.ConfigUnsupported,
                            $"hostdev network '{def.Name}' lists '{iface.Dev}' in the device pool, but hostdev networks require all devices to be listed by PCI address, not network device name");
                    break;
                case HostdevDeviceType.Pci:
                {
                    usesAddress = true;
                    if (type != ForwardType.Hostdev)
                        throw Err(VirErrorCode.ConfigUnsupported,
                            $"network '{def.Name}' has forward mode '{mode}' but lists a device by PCI address in the device pool. This is only supported for networks with forward mode 'hostdev'");
                    (bool isVf, string sysfsPath) = isVirtualFunction(iface.Pci);
                    if (!isVf)
                        throw Err(VirErrorCode.ConfigUnsupported,
                            $"device '{sysfsPath}' in network '{def.Name}' is not an SR-IOV Virtual Function");
                    break;
                }
            }
        }
        if ((def.Forward.Pfs.Count > 0 ? 1 : 0) + (usesInterface ? 1 : 0) + (usesAddress ? 1 : 0) > 1)
            throw Err(VirErrorCode.ConfigUnsupported,
                $"<address>, <interface>, and <pf> elements of <forward> in network {def.Name} are mutually exclusive");

        // dhcp on at most one IPv4 and one IPv6 address
        bool ipv4dhcp = false, ipv6dhcp = false;
        foreach (IpDef ip in def.Ips)
        {
            if (ip.Ranges.Count == 0 && ip.Hosts.Count == 0) continue;
            if (ip.Address.IsIPv4)
            {
                if (ipv4dhcp)
                    throw Err(VirErrorCode.ConfigUnsupported,
                        "Multiple IPv4 dhcp sections found -- dhcp is supported only for a single IPv4 address on each network");
                ipv4dhcp = true;
            }
            else if (ip.Address.IsIPv6)
            {
                if (ipv6dhcp)
                    throw Err(VirErrorCode.ConfigUnsupported,
                        "Multiple IPv6 dhcp sections found -- dhcp is supported only for a single IPv6 address on each network");
                ipv6dhcp = true;
            }
        }

        // Transparent vlan tagging works with hostdev/passthrough pools and Open vSwitch
        // bridges (plain Linux bridges only since libvirt 11.0, not adopted).
        bool vlanAllowed = type is ForwardType.Hostdev or ForwardType.Passthrough ||
                           (type == ForwardType.Bridge && def.VirtualPort?.Type == VirtualPortType.OpenVSwitch);
        bool vlanUsed = !def.Vlan.IsEmpty;
        bool badVlanUse = false;
        PortGroupDef? defaultPortGroup = null;
        var remaining = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (PortGroupDef p in def.PortGroups) remaining[p.Name] = remaining.GetValueOrDefault(p.Name) + 1;
        for (int i = 0; i < def.PortGroups.Count; i++)
        {
            PortGroupDef pg = def.PortGroups[i];
            if (vlanUsed || !pg.Vlan.IsEmpty)
            {
                if (pg.VirtualPort is not null)
                {
                    if (type != ForwardType.Bridge || pg.VirtualPort.Type != VirtualPortType.OpenVSwitch) badVlanUse = true;
                }
                else if (!vlanAllowed)
                {
                    badVlanUse = true;
                }
            }
            if (pg.IsDefault)
            {
                if (defaultPortGroup is not null)
                    throw Err(VirErrorCode.ConfigUnsupported,
                        $"network '{def.Name}' has multiple default <portgroup> elements ({defaultPortGroup.Name} and {pg.Name}), but only one default is allowed");
                defaultPortGroup = pg;
            }
            // is the name used again further on? (counted, not compared pairwise)
            remaining[pg.Name]--;
            if (remaining[pg.Name] > 0)
                throw Err(VirErrorCode.ConfigUnsupported,
                    $"multiple <portgroup> elements with the same name ({pg.Name}) in network '{def.Name}'");
            if (pg.Bandwidth is not null && !bandwidthAllowed)
                throw Err(VirErrorCode.ConfigUnsupported,
                    $"Unsupported <bandwidth> element in network '{def.Name}' in portgroup '{pg.Name}' with forward mode='{mode}'");
        }
        if (badVlanUse || (vlanUsed && !vlanAllowed && defaultPortGroup is null))
            throw Err(VirErrorCode.ConfigUnsupported,
                $"<vlan> element specified for network {def.Name}, whose type doesn't support vlan configuration");

        if (type == ForwardType.Hostdev)
        {
            foreach (PortGroupDef pg in def.PortGroups)
            {
                if (pg.Bandwidth is not null)
                    throw Err(VirErrorCode.ConfigUnsupported,
                        $"unsupported <bandwidth> element in <portgroup name='{pg.Name}'> of network '{def.Name}' with forward mode='{mode}'");
            }
        }
    }

    /// <summary>virNetDevBandwidthValidate: the limits of tc.</summary>
    public static void ValidateBandwidth(BandwidthDef? def)
    {
        if (def is null) return;
        CheckRate(def.Inbound);
        CheckRate(def.Outbound);
    }

    private static void CheckRate(BandwidthRate? rate)
    {
        if (rate is null) return;
        const ulong speedLimit = 1UL << 54;
        const ulong sizeLimit = uint.MaxValue >> 10;
        Check(rate.Average, speedLimit, "average");
        Check(rate.Peak, speedLimit, "peak");
        Check(rate.Burst, sizeLimit, "burst");
        Check(rate.Floor, speedLimit, "floor");
    }

    private static void Check(ulong value, ulong limit, string name)
    {
        if (value > limit)
            throw new LibvirtError(VirErrorCode.Overflow, VirErrorDomain.None,
                string.Create(CultureInfo.InvariantCulture, $"value '{value}' is too big for '{name}' parameter, maximum is '{limit}'"));
    }

    /// <summary>
    /// virPCIIsVirtualFunction on /sys/bus/pci/devices/DDDD:BB:SS.F: a VF has a "physfn" link.
    /// The path is built from numbers only, never from XML text.
    /// </summary>
    public static (bool IsVf, string SysfsPath) SysfsIsVirtualFunction(PciAddress address)
    {
        string path = "/sys/bus/pci/devices/" + address.ToString();
        return (Path.Exists(Path.Combine(path, "physfn")), path);
    }
}
