using VirtNetworkd.NetworkDriver.Xml;

namespace VirtNetworkd.NetworkDriver.Driver;

/// <summary>
/// One network as the driver keeps it (virNetworkObj): the running or only definition
/// <see cref="Def"/>, and for an active persistent network the next-boot definition
/// <see cref="NewDef"/>. Only touched with the driver lock held.
/// </summary>
internal sealed class NetworkObj
{
    public NetworkObj(NetworkDef def) => Def = def;

    public NetworkDef Def { get; set; }
    public NetworkDef? NewDef { get; set; }
    public bool Active { get; set; }
    public bool Persistent { get; set; }
    public bool Autostart { get; set; }
    /// <summary>QoS bookkeeping kept in the status file: class IDs in use and the sum of the ports' inbound floors.</summary>
    public ClassIdMap ClassIds { get; set; } = ClassIdMap.Default();
    public ulong FloorSum { get; set; }
    /// <summary>The ports of a running network (virNetworkObj's ports), by port UUID.</summary>
    public Dictionary<Guid, NetworkPortDef> Ports { get; } = [];
    public List<string> Taints { get; } = [];

    /// <summary>GetXmlDesc's texts (flags 0 and INACTIVE), valid while the driver's generation is <see cref="XmlGeneration"/>.</summary>
    public readonly string?[] XmlCache = new string?[2];
    public long XmlGeneration = -1;

    public string Name => Def.Name;
    public Guid Uuid => Def.Uuid;

    /// <summary>The persistent definition: NewDef while running, else Def.</summary>
    public NetworkDef PersistentDef => NewDef ?? Def;

    /// <summary>virNetworkObjSetDefTransient: an active persistent network keeps a copy of its config.</summary>
    public void SetDefTransient()
    {
        if (Active && Persistent && NewDef is null) NewDef = Def.Clone();
    }

    /// <summary>virNetworkObjUnsetDefTransient: on stop the pending config becomes the definition.</summary>
    public void UnsetDefTransient()
    {
        if (NewDef is not null) { Def = NewDef; NewDef = null; }
    }
}
