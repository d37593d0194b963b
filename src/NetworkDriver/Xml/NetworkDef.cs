using VirtNetworkd.NetworkDriver.Xml.Dom;
using VirtNetworkd.NetworkDriver.Xml.Net;

namespace VirtNetworkd.NetworkDriver.Xml;

/// <summary>
/// A virtual network definition (libvirt's virNetworkDef): what &lt;network&gt; XML says, after
/// the parse-time checks of network_conf.c. Values libvirt assigns automatically (a generated
/// UUID, bridge name or MAC) are the driver's business and are not filled in here, except that a
/// missing &lt;uuid&gt; leaves <see cref="UuidSpecified"/> false.
/// </summary>
public sealed class NetworkDef
{
    public string Name { get; set; } = "";

    /// <summary>The UUID; <see cref="Guid.Empty"/> with <see cref="UuidSpecified"/> false when the XML had none.</summary>
    public Guid Uuid { get; set; }
    public bool UuidSpecified { get; set; }

    /// <summary>&lt;title&gt; (9.7): one line.</summary>
    public string? Title { get; set; }
    /// <summary>&lt;description&gt; (9.7).</summary>
    public string? Description { get; set; }

    /// <summary>
    /// The &lt;metadata&gt; element as kept by libvirt: only children that have a namespace, one per
    /// namespace; null when absent or when it had no element child (an empty &lt;metadata/&gt; is
    /// neither stored nor printed). See <see cref="NetworkMetadata"/> for the get/set helpers.
    /// </summary>
    public DomElement? Metadata { get; set; }

    /// <summary>Guest interfaces connected (status only; printed unless INACTIVE).</summary>
    public int Connections { get; set; }

    /// <summary>&lt;bridge name=…&gt; (may be a template containing "%d").</summary>
    public string? Bridge { get; set; }
    /// <summary>&lt;bridge zone=…&gt;: firewalld zone.</summary>
    public string? BridgeZone { get; set; }
    public MacTableManager MacTableManager { get; set; }
    /// <summary>&lt;bridge delay=…&gt; (forward delay).</summary>
    public ulong Delay { get; set; }
    /// <summary>&lt;bridge stp=…&gt;: on unless "off".</summary>
    public bool Stp { get; set; } = true;

    /// <summary>&lt;domain name=…&gt;.</summary>
    public string? Domain { get; set; }
    public TristateBool DomainLocalOnly { get; set; }
    /// <summary>&lt;domain register=…&gt; (10.1): requires localOnly='yes'.</summary>
    public TristateBool DomainRegister { get; set; }

    /// <summary>&lt;mtu size=…&gt;; 0 = unset.</summary>
    public uint Mtu { get; set; }

    /// <summary>&lt;mac address=…&gt; of the bridge; null when not specified (libvirt's mac_specified).</summary>
    public MacAddr? Mac { get; set; }

    /// <summary>&lt;network ipv6='yes'&gt;: guest-to-guest IPv6 without a gateway address.</summary>
    public bool Ipv6NoGateway { get; set; }

    public ForwardDef Forward { get; set; } = new();
    public List<IpDef> Ips { get; set; } = [];
    public List<IpRouteDef> Routes { get; set; } = [];
    public DnsDef Dns { get; set; } = new();
    public VirtualPortProfile? VirtualPort { get; set; }
    public List<PortGroupDef> PortGroups { get; set; } = [];
    public BandwidthDef? Bandwidth { get; set; }
    public VlanDef Vlan { get; set; } = new();
    public TristateBool TrustGuestRxFilters { get; set; }
    /// <summary>&lt;port isolated=…&gt;.</summary>
    public TristateBool IsolatedPort { get; set; }

    /// <summary>
    /// The dnsmasq:options namespace data (xmlns:dnsmasq='http://libvirt.org/schemas/network/dnsmasq/1.0'):
    /// the option values in order; null when there are none.
    /// </summary>
    public List<string>? DnsmasqOptions { get; set; }

    /// <summary>ips[n] of the given family (Unspecified = any), or null (virNetworkDefGetIPByIndex).</summary>
    public IpDef? GetIpByIndex(System.Net.Sockets.AddressFamily family, int n)
    {
        if (n < 0 || n >= Ips.Count) return null;
        if (family == System.Net.Sockets.AddressFamily.Unspecified) return Ips[n];
        foreach (IpDef ip in Ips)
            if (ip.Address.Family == family && n-- <= 0) return ip;
        return null;
    }

    /// <summary>routes[n] of the given family (Unspecified = any), or null (virNetworkDefGetRouteByIndex).</summary>
    public IpRouteDef? GetRouteByIndex(System.Net.Sockets.AddressFamily family, int n)
    {
        if (n < 0 || n >= Routes.Count) return null;
        if (family == System.Net.Sockets.AddressFamily.Unspecified) return Routes[n];
        foreach (IpRouteDef r in Routes)
            if (r.Address.Family == family && n-- <= 0) return r;
        return null;
    }

    /// <summary>virNetworkDefForwardIf: the device name of forward pool entry n, if it is a netdev.</summary>
    public string? ForwardIf(int n) =>
        n >= 0 && n < Forward.Interfaces.Count && Forward.Interfaces[n].Type == HostdevDeviceType.Netdev
            ? Forward.Interfaces[n].Dev : null;

    /// <summary>virPortGroupFindByName: by name, or the default portgroup when <paramref name="name"/> is null.</summary>
    public PortGroupDef? FindPortGroup(string? name)
    {
        foreach (PortGroupDef pg in PortGroups)
        {
            if (name is not null ? pg.Name == name : pg.IsDefault) return pg;
        }
        return null;
    }

    /// <summary>A deep copy.</summary>
    public NetworkDef Clone() => new()
    {
        Name = Name,
        Uuid = Uuid,
        UuidSpecified = UuidSpecified,
        Title = Title,
        Description = Description,
        Metadata = Metadata?.Clone(),
        Connections = Connections,
        Bridge = Bridge,
        BridgeZone = BridgeZone,
        MacTableManager = MacTableManager,
        Delay = Delay,
        Stp = Stp,
        Domain = Domain,
        DomainLocalOnly = DomainLocalOnly,
        DomainRegister = DomainRegister,
        Mtu = Mtu,
        Mac = Mac,
        Ipv6NoGateway = Ipv6NoGateway,
        Forward = Forward.Clone(),
        Ips = Ips.ConvertAll(i => i.Clone()),
        Routes = Routes.ConvertAll(r => r.Clone()),
        Dns = Dns.Clone(),
        VirtualPort = VirtualPort?.Clone(),
        PortGroups = PortGroups.ConvertAll(p => p.Clone()),
        Bandwidth = Bandwidth?.Clone(),
        Vlan = Vlan.Clone(),
        TrustGuestRxFilters = TrustGuestRxFilters,
        IsolatedPort = IsolatedPort,
        DnsmasqOptions = DnsmasqOptions is null ? null : [.. DnsmasqOptions],
    };
}

/// <summary>&lt;forward&gt; (virNetworkForwardDef).</summary>
public sealed class ForwardDef
{
    /// <summary>None when there is no &lt;forward&gt;; a &lt;forward&gt; without mode is NAT.</summary>
    public ForwardType Type { get; set; }
    /// <summary>managed='yes' (hostdev mode).</summary>
    public bool Managed { get; set; }
    /// <summary>&lt;driver name=… model=…/&gt; (hostdev; model since 10.0).</summary>
    public PciDriverInfo Driver { get; set; } = new();
    /// <summary>&lt;pf dev=…/&gt; (at most one).</summary>
    public List<ForwardPfDef> Pfs { get; set; } = [];
    /// <summary>The device pool: &lt;interface dev=…/&gt; or &lt;address type='pci' …/&gt; entries (dev='…' is entry 0).</summary>
    public List<ForwardIfDef> Interfaces { get; set; } = [];
    /// <summary>&lt;nat&gt;&lt;address start=… end=…/&gt;.</summary>
    public SocketAddr NatAddressStart { get; set; }
    public SocketAddr NatAddressEnd { get; set; }
    /// <summary>&lt;nat&gt;&lt;port start=… end=…/&gt;; 0 = unset.</summary>
    public uint NatPortStart { get; set; }
    public uint NatPortEnd { get; set; }
    /// <summary>&lt;nat ipv6=…&gt;.</summary>
    public TristateBool NatIpv6 { get; set; }

    public ForwardDef Clone() => new()
    {
        Type = Type,
        Managed = Managed,
        Driver = Driver.Clone(),
        Pfs = Pfs.ConvertAll(p => p.Clone()),
        Interfaces = Interfaces.ConvertAll(i => i.Clone()),
        NatAddressStart = NatAddressStart,
        NatAddressEnd = NatAddressEnd,
        NatPortStart = NatPortStart,
        NatPortEnd = NatPortEnd,
        NatIpv6 = NatIpv6,
    };
}

/// <summary>A forward pool entry (virNetworkForwardIfDef): a netdev name or a PCI address.</summary>
public sealed class ForwardIfDef
{
    public HostdevDeviceType Type { get; set; }
    /// <summary>Device name when <see cref="Type"/> is Netdev.</summary>
    public string? Dev { get; set; }
    /// <summary>PCI address when <see cref="Type"/> is Pci.</summary>
    public PciAddress Pci { get; set; }
    /// <summary>Guest interfaces using this device (status only).</summary>
    public int Connections { get; set; }

    public ForwardIfDef Clone() => new() { Type = Type, Dev = Dev, Pci = Pci, Connections = Connections };
}

/// <summary>&lt;pf dev=…/&gt; (virNetworkForwardPfDef).</summary>
public sealed class ForwardPfDef
{
    public string Dev { get; set; } = "";
    public int Connections { get; set; }

    public ForwardPfDef Clone() => new() { Dev = Dev, Connections = Connections };
}

/// <summary>&lt;driver name=… model=…/&gt; (virDeviceHostdevPCIDriverInfo).</summary>
public sealed class PciDriverInfo
{
    public PciDriverName Name { get; set; }
    public string? Model { get; set; }

    public bool IsEmpty => Name == PciDriverName.Default && Model is null;

    public PciDriverInfo Clone() => new() { Name = Name, Model = Model };
}

/// <summary>A PCI address (virPCIDeviceAddress) as &lt;address domain= bus= slot= function=/&gt;.</summary>
public readonly record struct PciAddress(uint Domain, uint Bus, uint Slot, uint Function)
{
    public TristateSwitch Multifunction { get; init; }
    public uint? ZpciUid { get; init; }
    public uint? ZpciFid { get; init; }

    /// <summary>virPCIDeviceAddressIsEmpty.</summary>
    public bool IsEmpty => Domain == 0 && Bus == 0 && Slot == 0;

    /// <summary>virPCIDeviceAddressEqual: domain, bus, slot and function.</summary>
    public bool SameDevice(PciAddress o) => Domain == o.Domain && Bus == o.Bus && Slot == o.Slot && Function == o.Function;

    /// <summary>"dddd:bb:ss.f" (VIR_PCI_DEVICE_ADDRESS_FMT), as used in sysfs paths.</summary>
    public override string ToString() =>
        string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{Domain:x4}:{Bus:x2}:{Slot:x2}.{Function:x}");
}

/// <summary>&lt;portgroup&gt; (virPortGroupDef).</summary>
public sealed class PortGroupDef
{
    public string Name { get; set; } = "";
    public bool IsDefault { get; set; }
    public VirtualPortProfile? VirtualPort { get; set; }
    public BandwidthDef? Bandwidth { get; set; }
    public VlanDef Vlan { get; set; } = new();
    public TristateBool TrustGuestRxFilters { get; set; }

    public PortGroupDef Clone() => new()
    {
        Name = Name,
        IsDefault = IsDefault,
        VirtualPort = VirtualPort?.Clone(),
        Bandwidth = Bandwidth?.Clone(),
        Vlan = Vlan.Clone(),
        TrustGuestRxFilters = TrustGuestRxFilters,
    };
}
