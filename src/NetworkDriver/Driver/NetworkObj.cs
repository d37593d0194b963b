using VirtNetworkd.NetworkDriver.Backend;
using VirtNetworkd.NetworkDriver.Xml;

namespace VirtNetworkd.NetworkDriver.Driver;

/// <summary>Where a network is in its life. Starting and Stopping last while the backend works, with the network's lock held.</summary>
public enum NetworkState
{
    Inactive,
    Starting,
    Active,
    Stopping,
}

/// <summary>
/// One network as the driver keeps it (virNetworkObj): the running or only definition
/// <see cref="Def"/>, and for an active persistent network the next-boot definition
/// <see cref="NewDef"/>. Every field is read and written only by the thread that holds
/// <see cref="Gate"/> (libvirt's per-object lock), which it keeps across backend calls and file
/// writes for this network; what other threads see is the last <see cref="View"/> published.
/// </summary>
internal sealed class NetworkObj
{
    public NetworkObj(NetworkDef def) => Def = def;

    /// <summary>Serialises the commands on this network. Taken before, never while holding, the driver's bookkeeping lock.</summary>
    public Lock Gate { get; } = new();

    /// <summary>Set (under the gate and the bookkeeping lock) once the network left the driver's maps: a thread that waited on the gate must look it up again.</summary>
    public bool Removed { get; set; }

    /// <summary>Being created by the gate holder and not yet in the driver's published list.</summary>
    public bool Provisional { get; set; }

    public NetworkDef Def { get; set; }
    public NetworkDef? NewDef { get; set; }
    public NetworkState State { get; set; }

    /// <summary>virNetworkObjIsActive: true from the end of a start to the end of a stop.</summary>
    public bool Active => State is NetworkState.Active or NetworkState.Stopping;

    public bool Persistent { get; set; }
    public bool Autostart { get; set; }
    /// <summary>What the backend did to start the network; null while it is not active.</summary>
    public BackendRecord? Record { get; set; }
    /// <summary>QoS bookkeeping kept in the status file: class IDs in use and the sum of the ports' inbound floors.</summary>
    public ClassIdMap ClassIds { get; set; } = ClassIdMap.Default();
    public ulong FloorSum { get; set; }
    /// <summary>The ports of a running network (virNetworkObj's ports), by port UUID.</summary>
    public Dictionary<Guid, NetworkPortDef> Ports { get; } = [];
    /// <summary>Set when <see cref="Ports"/> changed since the last view, so the next view copies them again.</summary>
    public bool PortsChanged { get; set; }
    public List<string> Taints { get; } = [];

    /// <summary>The immutable view of this network that queries read; replaced (never changed) by the gate holder.</summary>
    public NetworkView? View { get; set; }

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
