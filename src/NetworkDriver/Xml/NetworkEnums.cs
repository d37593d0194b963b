namespace VirtNetworkd.NetworkDriver.Xml;

/// <summary>virTristateBool: absent, "yes", "no".</summary>
public enum TristateBool
{
    Absent = 0,
    Yes = 1,
    No = 2,
}

/// <summary>virTristateSwitch: absent, "on", "off".</summary>
public enum TristateSwitch
{
    Absent = 0,
    On = 1,
    Off = 2,
}

/// <summary>virNetworkForwardType; the XML names are "none", "nat", "route", … (see <see cref="NetworkNames"/>).</summary>
public enum ForwardType
{
    None = 0,
    Nat = 1,
    Route = 2,
    Open = 3,
    Bridge = 4,
    Private = 5,
    Vepa = 6,
    Passthrough = 7,
    Hostdev = 8,
}

/// <summary>virNetworkBridgeMACTableManagerType.</summary>
public enum MacTableManager
{
    Default = 0,
    Kernel = 1,
    Libvirt = 2,
}

/// <summary>virNetworkForwardHostdevDeviceType: what a forward pool entry names.</summary>
public enum HostdevDeviceType
{
    None = 0,
    Pci = 1,
    Netdev = 2,
}

/// <summary>virDeviceHostdevPCIDriverName (forward &lt;driver name=…&gt;).</summary>
public enum PciDriverName
{
    Default = 0,
    Kvm = 1,
    Vfio = 2,
    Xen = 3,
}

/// <summary>virNetworkDHCPLeaseTimeUnitType.</summary>
public enum DhcpLeaseUnit
{
    Seconds = 0,
    Minutes = 1,
    Hours = 2,
}

/// <summary>virNetDevVPortProfile type.</summary>
public enum VirtualPortType
{
    None = 0,
    Ieee8021Qbg = 1,
    Ieee8021Qbh = 2,
    OpenVSwitch = 3,
    MidoNet = 4,
}

/// <summary>virNativeVlanMode.</summary>
public enum NativeVlanMode
{
    Default = 0,
    Tagged = 1,
    Untagged = 2,
}

/// <summary>virNetDevMacVLanMode (network port plug type='direct').</summary>
public enum MacvlanMode
{
    Vepa = 0,
    Private = 1,
    Bridge = 2,
    Passthrough = 3,
}

/// <summary>virNetworkPortPlugType.</summary>
public enum NetworkPortPlugType
{
    None = 0,
    Network = 1,
    Bridge = 2,
    Direct = 3,
    HostdevPci = 4,
}

/// <summary>Flags of <see cref="NetworkXml.Parse"/> (virNetworkDefineFlags / virNetworkCreateFlags).</summary>
[Flags]
public enum NetworkParseFlags : uint
{
    None = 0,
    /// <summary>VIR_NETWORK_DEFINE_VALIDATE / VIR_NETWORK_CREATE_VALIDATE: also check against network.rng.</summary>
    Validate = 1u << 0,
}

/// <summary>Flags of <see cref="NetworkXml.Format"/> (virNetworkXMLFlags).</summary>
[Flags]
public enum NetworkFormatFlags : uint
{
    None = 0,
    /// <summary>VIR_NETWORK_XML_INACTIVE: the persistent form, without run-time counters.</summary>
    Inactive = 1u << 0,
}

/// <summary>The enum ↔ XML name tables libvirt uses (VIR_ENUM_IMPL).</summary>
public static class NetworkNames
{
    internal static readonly string[] TristateBool = ["absent", "yes", "no"];
    internal static readonly string[] TristateSwitch = ["absent", "on", "off"];
    internal static readonly string[] ForwardType = ["none", "nat", "route", "open", "bridge", "private", "vepa", "passthrough", "hostdev"];
    internal static readonly string[] MacTableManager = ["default", "kernel", "libvirt"];
    internal static readonly string[] HostdevDeviceType = ["none", "pci", "netdev"];
    internal static readonly string[] PciDriverName = ["default", "kvm", "vfio", "xen"];
    internal static readonly string[] DhcpLeaseUnit = ["seconds", "minutes", "hours"];
    internal static readonly string[] VirtualPortType = ["none", "802.1Qbg", "802.1Qbh", "openvswitch", "midonet"];
    internal static readonly string[] NativeVlanMode = ["default", "tagged", "untagged"];
    internal static readonly string[] MacvlanMode = ["vepa", "private", "bridge", "passthrough"];
    internal static readonly string[] NetworkPortPlugType = ["none", "network", "bridge", "direct", "hostdev-pci"];

    public static string ToXml(this Xml.TristateBool v) => TristateBool[(int)v];
    public static string ToXml(this Xml.TristateSwitch v) => TristateSwitch[(int)v];
    public static string ToXml(this Xml.ForwardType v) => ForwardType[(int)v];
    public static string ToXml(this Xml.MacTableManager v) => MacTableManager[(int)v];
    public static string ToXml(this Xml.PciDriverName v) => PciDriverName[(int)v];
    public static string ToXml(this Xml.DhcpLeaseUnit v) => DhcpLeaseUnit[(int)v];
    public static string ToXml(this Xml.VirtualPortType v) => VirtualPortType[(int)v];
    public static string ToXml(this Xml.NativeVlanMode v) => NativeVlanMode[(int)v];
    public static string ToXml(this Xml.MacvlanMode v) => MacvlanMode[(int)v];
    public static string ToXml(this Xml.NetworkPortPlugType v) => NetworkPortPlugType[(int)v];

    /// <summary>The VIR_ENUM TypeFromString lookup: index, or -1 (case-sensitive).</summary>
    internal static int Lookup(string[] table, string? value)
    {
        if (value is null) return -1;
        for (int i = 0; i < table.Length; i++)
            if (table[i] == value) return i;
        return -1;
    }
}
