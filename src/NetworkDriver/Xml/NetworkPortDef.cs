using VirtNetworkd.NetworkDriver.Xml.Net;

namespace VirtNetworkd.NetworkDriver.Xml;

/// <summary>A network port (libvirt's virNetworkPortDef, &lt;networkport&gt; XML).</summary>
public sealed class NetworkPortDef
{
    public Guid Uuid { get; set; }
    /// <summary>&lt;owner&gt;&lt;name&gt;: the domain owning the port.</summary>
    public string OwnerName { get; set; } = "";
    public Guid OwnerUuid { get; set; }
    /// <summary>&lt;group&gt;: the portgroup.</summary>
    public string? Group { get; set; }
    public MacAddr Mac { get; set; }
    public VirtualPortProfile? VirtualPort { get; set; }
    public BandwidthDef? Bandwidth { get; set; }
    /// <summary>&lt;bandwidth classID=…&gt;; 0 = none.</summary>
    public uint ClassId { get; set; }
    public VlanDef Vlan { get; set; } = new();
    /// <summary>&lt;rxfilters trustGuest=…/&gt;.</summary>
    public TristateBool TrustGuestRxFilters { get; set; }
    /// <summary>&lt;port isolated=…/&gt;.</summary>
    public TristateBool IsolatedPort { get; set; }
    public NetworkPortPlug Plug { get; set; } = new();

    public NetworkPortDef Clone() => new()
    {
        Uuid = Uuid,
        OwnerName = OwnerName,
        OwnerUuid = OwnerUuid,
        Group = Group,
        Mac = Mac,
        VirtualPort = VirtualPort?.Clone(),
        Bandwidth = Bandwidth?.Clone(),
        ClassId = ClassId,
        Vlan = Vlan.Clone(),
        TrustGuestRxFilters = TrustGuestRxFilters,
        IsolatedPort = IsolatedPort,
        Plug = Plug.Clone(),
    };
}

/// <summary>&lt;plug&gt;: how the port is connected; which members apply depends on <see cref="Type"/>.</summary>
public sealed class NetworkPortPlug
{
    public NetworkPortPlugType Type { get; set; }
    /// <summary>network/bridge: bridge='…'.</summary>
    public string? Bridge { get; set; }
    /// <summary>network/bridge: macTableManager='…'.</summary>
    public MacTableManager MacTableManager { get; set; }
    /// <summary>direct: dev='…'.</summary>
    public string? LinkDev { get; set; }
    /// <summary>direct: mode='…'.</summary>
    public MacvlanMode Mode { get; set; }
    /// <summary>hostdev-pci: managed='…'.</summary>
    public TristateBool Managed { get; set; }
    /// <summary>hostdev-pci: &lt;driver/&gt;.</summary>
    public PciDriverInfo Driver { get; set; } = new();
    /// <summary>hostdev-pci: &lt;address/&gt;.</summary>
    public PciAddress Address { get; set; }

    public NetworkPortPlug Clone() => new()
    {
        Type = Type,
        Bridge = Bridge,
        MacTableManager = MacTableManager,
        LinkDev = LinkDev,
        Mode = Mode,
        Managed = Managed,
        Driver = Driver.Clone(),
        Address = Address,
    };
}
