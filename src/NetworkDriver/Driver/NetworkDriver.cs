using System.Globalization;
using VirtNetworkd.Errors;
using VirtNetworkd.NetworkDriver.Xml;
using VirtNetworkd.NetworkDriver.Xml.Net;
using VirtNetworkd.NetworkDriver.Xml.Validation;

namespace VirtNetworkd.NetworkDriver.Driver;

/// <summary>
/// libvirt's network driver (bridge_driver.c over virnetworkobj.c): the list of networks, their
/// persistent and live definitions, files on disk, lifecycle and events. One lock serialises
/// every call; events are raised with the lock held, after the change is on disk, so their
/// order is the order of the changes (handlers must not block; they may call back in).
/// </summary>
public sealed partial class NetworkDriver
{
    private const int MaxBridgeId = 256;

    private readonly Lock _lock = new();
    private readonly Dictionary<Guid, NetworkObj> _byUuid = [];
    private readonly Dictionary<string, NetworkObj> _byName = new(StringComparer.Ordinal);
    private readonly INetworkBackend _backend;
    /// <summary>Bumped by every call that may change a network (definition, state, autostart); formatted XML is cached per generation.</summary>
    private long _generation;

    /// <summary>Changes whenever a network may have changed: what was computed at an equal generation is still true.</summary>
    public long Generation { get { lock (_lock) return _generation; } }

    public NetworkDriver(string configDir, string autostartDir, string stateDir, bool privileged, INetworkBackend backend)
    {
        ArgumentNullException.ThrowIfNull(configDir);
        ArgumentNullException.ThrowIfNull(autostartDir);
        ArgumentNullException.ThrowIfNull(stateDir);
        ArgumentNullException.ThrowIfNull(backend);
        Store = new NetworkStore(configDir, autostartDir, stateDir);
        Privileged = privileged;
        _backend = backend;
        DeviceExists = backend.DeviceExists;
    }

    public NetworkStore Store { get; }
    public bool Privileged { get; }

    /// <summary>virNetDevExists, used when picking an automatic bridge name. Defaults to the backend's.</summary>
    public Func<string, bool> DeviceExists { get; set; }

    /// <summary>Checks a PCI address for SR-IOV VF-ness during validation; null uses sysfs.</summary>
    public Func<PciAddress, (bool IsVf, string SysfsPath)>? IsVirtualFunction { get; set; }

    /// <summary>VIR_NETWORK_EVENT_ID_LIFECYCLE.</summary>
    public event EventHandler<NetworkLifecycleEventArgs>? Lifecycle;

    /// <summary>VIR_NETWORK_EVENT_ID_METADATA_CHANGE.</summary>
    public event EventHandler<NetworkMetadataChangeEventArgs>? MetadataChange;

    // ---------------------------------------------------------------- errors

    internal static LibvirtError Err(VirErrorCode code, string detail) => new(code, VirErrorDomain.Network, detail);

    internal static void CheckFlags(uint flags, uint allowed, string function)
    {
        if ((flags & ~allowed) != 0)
            throw LibvirtError.InvalidArg(VirErrorDomain.Network,
                $"unsupported flags (0x{(flags & ~allowed).ToString("x", CultureInfo.InvariantCulture)}) in function {function}",
                function, "flags");
    }

    /// <summary>Runs a file operation, turning I/O failures into VIR_ERR_SYSTEM_ERROR as virReportSystemError does.</summary>
    internal static void Io(Action action, string what)
    {
        try { action(); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new LibvirtError(VirErrorCode.SystemError, VirErrorDomain.Network, $"{what}: {e.Message}");
        }
    }

    private static LibvirtError NotActive(string name) => Err(VirErrorCode.OperationInvalid, $"network '{name}' is not active");

    /// <summary>Writes the status file of a running network: its live definition (or <paramref name="live"/>, about to become it) and QoS bookkeeping.</summary>
    private void SaveStatusOrThrow(NetworkObj obj, NetworkDef? live = null)
    {
        NetworkDef def = live ?? obj.Def;
        Io(() => Store.SaveStatus(def, obj.ClassIds.ToString(), obj.FloorSum, obj.Taints),
            $"cannot write status file '{Store.StatusFile(obj.Name)}'");
    }

    // ---------------------------------------------------------------- lookup

    /// <summary>networkObjFromNetwork: by UUID, naming both in the error.</summary>
    private NetworkObj Get(NetworkRef net)
    {
        if (_byUuid.TryGetValue(net.Uuid, out NetworkObj? obj)) return obj;
        throw Err(VirErrorCode.NoNetwork,
            $"no network with matching uuid '{VirUuid.Format(net.Uuid)}' ({net.Name})");
    }

    private static NetworkRef Ref(NetworkObj obj) => new(obj.Name, obj.Uuid);

    public NetworkRef LookupByName(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        lock (_lock)
        {
            if (_byName.TryGetValue(name, out NetworkObj? obj)) return Ref(obj);
            throw Err(VirErrorCode.NoNetwork, $"no network with matching name '{name}'");
        }
    }

    public NetworkRef LookupByUuid(Guid uuid)
    {
        lock (_lock)
        {
            if (_byUuid.TryGetValue(uuid, out NetworkObj? obj)) return Ref(obj);
            throw Err(VirErrorCode.NoNetwork, $"no network with matching uuid '{VirUuid.Format(uuid)}'");
        }
    }

    // ---------------------------------------------------------------- listing

    public const uint ListInactive = 1, ListActive = 2, ListPersistent = 4, ListTransient = 8,
        ListAutostart = 16, ListNoAutostart = 32;

    private static bool Matches(NetworkObj o, uint flags)
    {
        if ((flags & (ListActive | ListInactive)) != 0 &&
            !(((flags & ListActive) != 0 && o.Active) || ((flags & ListInactive) != 0 && !o.Active))) return false;
        if ((flags & (ListPersistent | ListTransient)) != 0 &&
            !(((flags & ListPersistent) != 0 && o.Persistent) || ((flags & ListTransient) != 0 && !o.Persistent))) return false;
        if ((flags & (ListAutostart | ListNoAutostart)) != 0 &&
            !(((flags & ListAutostart) != 0 && o.Autostart) || ((flags & ListNoAutostart) != 0 && !o.Autostart))) return false;
        return true;
    }

    /// <summary>networkConnectListAllNetworks, sorted by name.</summary>
    public IReadOnlyList<NetworkRef> ListAll(uint flags)
    {
        CheckFlags(flags, 63, "networkConnectListAllNetworks");
        lock (_lock)
        {
            NetworkObj[] sorted = Sorted();
            int n = 0;
            foreach (NetworkObj o in sorted)
                if (Matches(o, flags)) n++;
            var list = new NetworkRef[n];
            n = 0;
            foreach (NetworkObj o in sorted)
                if (Matches(o, flags)) list[n++] = Ref(o);
            return list;
        }
    }

    /// <summary>Every network, by name; rebuilt only after a network is added or removed.</summary>
    private NetworkObj[] Sorted()
    {
        if (_sorted is null)
        {
            _sorted = [.. _byName.Values];
            Array.Sort(_sorted, (a, b) => string.CompareOrdinal(a.Name, b.Name));
        }
        return _sorted;
    }

    private NetworkObj[]? _sorted;

    public int NumOfNetworks() => CountActive(true);

    public int NumOfDefined() => CountActive(false);

    // not LINQ: Count() would box the dictionary's enumerator on every call
    private int CountActive(bool active)
    {
        lock (_lock)
        {
            if (_countsGeneration != _generation)
            {
                int n = 0;
                foreach (NetworkObj o in Sorted())
                    if (o.Active) n++;
                _activeCount = n;
                _inactiveCount = _byName.Count - n;
                _countsGeneration = _generation;
            }
            return active ? _activeCount : _inactiveCount;
        }
    }

    // counted again only after a change (see _generation)
    private long _countsGeneration = -1;
    private int _activeCount, _inactiveCount;

    /// <summary>Names of active networks, at most <paramref name="maxNames"/>.</summary>
    public IReadOnlyList<string> ListNetworks(int maxNames) => Names(true, maxNames);

    /// <summary>Names of inactive (hence persistent) networks, at most <paramref name="maxNames"/>.</summary>
    public IReadOnlyList<string> ListDefined(int maxNames) => Names(false, maxNames);

    private string[] Names(bool active, int max)
    {
        lock (_lock)
        {
            var names = new List<string>();
            foreach (NetworkObj o in Sorted())
            {
                if (names.Count >= max) break;
                if (o.Active == active) names.Add(o.Name);
            }
            return [.. names];
        }
    }

    // ---------------------------------------------------------------- simple queries

    public bool IsActive(NetworkRef net) { lock (_lock) return Get(net).Active; }

    public bool IsPersistent(NetworkRef net) { lock (_lock) return Get(net).Persistent; }

    public bool GetAutostart(NetworkRef net) { lock (_lock) return Get(net).Autostart; }

    public string GetBridgeName(NetworkRef net)
    {
        lock (_lock)
        {
            NetworkObj obj = Get(net);
            return obj.Def.Bridge ?? throw Err(VirErrorCode.InternalError,
                $"network '{obj.Name}' does not have a bridge name.");
        }
    }

    /// <summary>networkGetXMLDesc; flag 1 (VIR_NETWORK_XML_INACTIVE) shows the persistent definition.</summary>
    public string GetXmlDesc(NetworkRef net, uint flags)
    {
        CheckFlags(flags, (uint)NetworkFormatFlags.Inactive, "networkGetXMLDesc");
        lock (_lock)
        {
            NetworkObj obj = Get(net);
            if (obj.XmlGeneration != _generation)
            {
                Array.Clear(obj.XmlCache);
                obj.XmlGeneration = _generation;
            }
            ref string? cached = ref obj.XmlCache[flags & 1];
            if (cached is null)
            {
                NetworkDef def = (flags & 1) != 0 && obj.NewDef is not null ? obj.NewDef : obj.Def;
                cached = NetworkXml.Format(def, (NetworkFormatFlags)flags);
            }
            return cached;
        }
    }

    public IReadOnlyList<DhcpLease> GetDhcpLeases(NetworkRef net, string? mac, uint flags)
    {
        CheckFlags(flags, 0, "networkGetDHCPLeases");
        if (mac is not null && !MacAddr.TryParse(mac, out _))
            throw Err(VirErrorCode.InvalidMac, $"invalid MAC address: {mac}");
        lock (_lock)
        {
            NetworkObj obj = Get(net);
            if (!obj.Active) return [];
            return _backend.GetDhcpLeases(obj.Def, mac);
        }
    }

    // ---------------------------------------------------------------- events

    private void Raise(NetworkObj obj, NetworkLifecycleEvent ev) =>
        Dispatch(Lifecycle, new NetworkLifecycleEventArgs(Ref(obj), ev, 0));

    /// <summary>Calls every handler; a failing handler neither stops the others nor fails the call that made the change.</summary>
    internal void Dispatch<T>(EventHandler<T>? handlers, T args)
    {
        if (handlers is null) return;
        foreach (EventHandler<T> h in handlers.GetInvocationList().Cast<EventHandler<T>>())
        {
            try { h(this, args); }
#pragma warning disable CA1031 // a subscriber's failure is not the caller's
            catch (Exception) { }
#pragma warning restore CA1031
        }
        // a handler that called back in may have cached what the rest of the change then alters
        _generation++;
    }
}
