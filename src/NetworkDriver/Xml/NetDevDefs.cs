namespace VirtNetworkd.NetworkDriver.Xml;

/// <summary>&lt;bandwidth&gt; (virNetDevBandwidth).</summary>
public sealed class BandwidthDef
{
    public BandwidthRate? Inbound { get; set; }
    public BandwidthRate? Outbound { get; set; }

    /// <summary>virNetDevBandwidthHasFloor.</summary>
    public bool HasFloor => Inbound is { Floor: not 0 };

    public BandwidthDef Clone() => new() { Inbound = Inbound?.Clone(), Outbound = Outbound?.Clone() };
}

/// <summary>&lt;inbound&gt;/&lt;outbound&gt; rates (virNetDevBandwidthRate): kbytes/s and kbytes; unsigned 64-bit.</summary>
public sealed class BandwidthRate
{
    public ulong Average { get; set; }
    public ulong Peak { get; set; }
    public ulong Floor { get; set; }
    public ulong Burst { get; set; }

    public BandwidthRate Clone() => new() { Average = Average, Peak = Peak, Floor = Floor, Burst = Burst };
}

/// <summary>&lt;vlan&gt; (virNetDevVlan); no tags = no &lt;vlan&gt;.</summary>
public sealed class VlanDef
{
    public List<uint> Tags { get; set; } = [];
    public bool Trunk { get; set; }
    public NativeVlanMode NativeMode { get; set; }
    public uint NativeTag { get; set; }

    public bool IsEmpty => Tags.Count == 0;

    public VlanDef Clone() => new() { Tags = [.. Tags], Trunk = Trunk, NativeMode = NativeMode, NativeTag = NativeTag };
}

/// <summary>&lt;virtualport&gt; (virNetDevVPortProfile).</summary>
public sealed class VirtualPortProfile
{
    /// <summary>Longest profileid accepted is one less than this (LIBVIRT_IFLA_VF_PORT_PROFILE_MAX).</summary>
    public const int ProfileIdMax = 40;

    public VirtualPortType Type { get; set; }
    public byte? ManagerId { get; set; }
    public uint? TypeId { get; set; }
    public byte? TypeIdVersion { get; set; }
    public Guid? InstanceId { get; set; }
    /// <summary>"" when unset.</summary>
    public string ProfileId { get; set; } = "";
    public Guid? InterfaceId { get; set; }

    public VirtualPortProfile Clone() => new()
    {
        Type = Type,
        ManagerId = ManagerId,
        TypeId = TypeId,
        TypeIdVersion = TypeIdVersion,
        InstanceId = InstanceId,
        ProfileId = ProfileId,
        InterfaceId = InterfaceId,
    };
}
