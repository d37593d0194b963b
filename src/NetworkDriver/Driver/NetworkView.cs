using System.Collections.Frozen;
using VirtNetworkd.NetworkDriver.Xml;

namespace VirtNetworkd.NetworkDriver.Driver;

/// <summary>
/// What queries see of one network: copies taken when the network last changed, never
/// modified afterwards, so any thread reads them without a lock.
/// </summary>
internal sealed class NetworkView
{
    private NetworkView(NetworkObj obj, IReadOnlyDictionary<Guid, NetworkPortDef> ports)
    {
        Ref = new NetworkRef(obj.Name, obj.Uuid);
        State = obj.State;
        Persistent = obj.Persistent;
        Autostart = obj.Autostart;
        Def = obj.Def.Clone();
        NewDef = obj.NewDef?.Clone();
        Ports = ports;
    }

    /// <summary>A view of <paramref name="obj"/> as it is now (called by its gate holder); ports are copied only when they changed since <paramref name="previous"/>.</summary>
    public static NetworkView Of(NetworkObj obj, NetworkView? previous)
    {
        IReadOnlyDictionary<Guid, NetworkPortDef> ports = previous is not null && !obj.PortsChanged
            ? previous.Ports
            : obj.Ports.Count == 0 ? FrozenDictionary<Guid, NetworkPortDef>.Empty
            : obj.Ports.ToFrozenDictionary(p => p.Key, p => p.Value.Clone());
        obj.PortsChanged = false;
        return new NetworkView(obj, ports);
    }

    public NetworkRef Ref { get; }
    public string Name => Ref.Name;
    public Guid Uuid => Ref.Uuid;
    public NetworkState State { get; }
    public bool Active => State is NetworkState.Active or NetworkState.Stopping;
    public bool Persistent { get; }
    public bool Autostart { get; }
    public NetworkDef Def { get; }
    public NetworkDef? NewDef { get; }
    public NetworkDef PersistentDef => NewDef ?? Def;
    public IReadOnlyDictionary<Guid, NetworkPortDef> Ports { get; }

    private readonly string?[] _xml = new string?[2];

    /// <summary>networkGetXMLDesc's text, formatted once per view (flag 1: the persistent definition).</summary>
    public string Xml(uint flags)
    {
        ref string? slot = ref _xml[flags & 1];
        string? text = Volatile.Read(ref slot);
        if (text is not null) return text;
        NetworkDef def = (flags & 1) != 0 && NewDef is not null ? NewDef : Def;
        text = NetworkXml.Format(def, (NetworkFormatFlags)flags);
        return Interlocked.CompareExchange(ref slot, text, null) ?? text;
    }
}

/// <summary>Every published network at one generation, sorted by name, with its lookup maps; replaced as a whole after each change.</summary>
internal sealed class DriverSnapshot
{
    public static readonly DriverSnapshot Empty = new(0, []);

    public DriverSnapshot(long generation, NetworkView[] sorted)
    {
        Generation = generation;
        Sorted = sorted;
        ByName = new Dictionary<string, NetworkView>(sorted.Length, StringComparer.Ordinal);
        ByUuid = new Dictionary<Guid, NetworkView>(sorted.Length);
        foreach (NetworkView v in sorted)
        {
            ByName[v.Name] = v;
            ByUuid[v.Uuid] = v;
            if (v.Active) ActiveCount++;
        }
    }

    public long Generation { get; }
    public NetworkView[] Sorted { get; }
    public Dictionary<string, NetworkView> ByName { get; }
    public Dictionary<Guid, NetworkView> ByUuid { get; }
    public int ActiveCount { get; }
}
