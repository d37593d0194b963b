using System.Globalization;
using VirtNetworkd.Errors;
using VirtNetworkd.NetworkDriver.Backend;
using VirtNetworkd.NetworkDriver.Xml;
using VirtNetworkd.NetworkDriver.Xml.Net;

namespace VirtNetworkd.NetworkDriver.Driver;

/// <summary>
/// libvirt's network driver (bridge_driver.c over virnetworkobj.c): the list of networks, their
/// persistent and live definitions, files on disk, lifecycle and events.
/// <para>
/// Locking: each network has its own lock (<see cref="NetworkObj.Gate"/>), held by a command on
/// that network across backend calls and file writes; the driver-wide lock guards only the
/// name/UUID maps and the published snapshot, never across anything slow, and is never taken
/// before a network's lock is requested (network lock first, then bookkeeping, briefly).
/// Queries take no lock at all: they read the immutable <see cref="DriverSnapshot"/> published
/// (volatile write) after each change. Events are raised after the change is published, outside
/// every lock, on the calling thread, in the order of the changes (<see cref="EventSequencer"/>).
/// </para>
/// </summary>
public sealed partial class NetworkDriver
{
    private const int MaxBridgeId = 256;

    /// <summary>Bookkeeping only: <see cref="_byUuid"/>, <see cref="_byName"/>, the generation and the snapshot.</summary>
    private readonly Lock _lock = new();
    private readonly Dictionary<Guid, NetworkObj> _byUuid = [];
    private readonly Dictionary<string, NetworkObj> _byName = new(StringComparer.Ordinal);
    private readonly INetworkBackend _backend;
    private readonly EventSequencer _events = new();
    private DriverSnapshot _snapshot = DriverSnapshot.Empty;
    private long _generation;

    /// <summary>Changes whenever a network may have changed: what was computed at an equal generation is still true.</summary>
    public long Generation => Snapshot.Generation;

    private DriverSnapshot Snapshot => Volatile.Read(ref _snapshot);

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
        backend.Fault += OnBackendFault;
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

    private static LibvirtError NoNetwork(NetworkRef net) =>
        Err(VirErrorCode.NoNetwork, $"no network with matching uuid '{VirUuid.Format(net.Uuid)}' ({net.Name})");

    /// <summary>Writes the status file of a running network: its live definition (or <paramref name="live"/>, about to become it), QoS bookkeeping and the backend's record.</summary>
    private void SaveStatusOrThrow(NetworkObj obj, NetworkDef? live = null, BackendRecord? record = null)
    {
        NetworkDef def = live ?? obj.Def;
        Io(() => Store.SaveStatus(def, obj.ClassIds.ToString(), obj.FloorSum, obj.Taints, record ?? obj.Record ?? BackendRecord.Empty),
            $"cannot write status file '{Store.StatusFile(obj.Name)}'");
    }

    // ---------------------------------------------------------------- the network lock and the snapshot

    /// <summary>
    /// networkObjFromNetwork for a command: finds the network and takes its lock. A network
    /// removed while we waited is looked up again, so a caller never acts on a removed object.
    /// </summary>
    private NetworkObj Enter(NetworkRef net)
    {
        while (true)
        {
            NetworkObj? obj;
            lock (_lock) obj = _byUuid.GetValueOrDefault(net.Uuid);
            if (obj is null) throw NoNetwork(net);
            obj.Gate.Enter();
            if (!obj.Removed) return obj;
            obj.Gate.Exit();
        }
    }

    /// <summary>Makes the gate holder's changes to <paramref name="obj"/> visible to queries.</summary>
    private void Publish(NetworkObj obj)
    {
        NetworkView view = NetworkView.Of(obj, obj.View);
        lock (_lock)
        {
            obj.View = view;
            Republish();
        }
    }

    /// <summary>Takes a network out of the maps (its gate held); waiters on the gate then find it gone.</summary>
    private void Remove(NetworkObj obj)
    {
        lock (_lock)
        {
            if (obj.Removed) return;
            obj.Removed = true;
            // the names may already belong to a network defined after this one left
            if (_byUuid.GetValueOrDefault(obj.Uuid) == obj) _byUuid.Remove(obj.Uuid);
            if (_byName.GetValueOrDefault(obj.Name) == obj) _byName.Remove(obj.Name);
            _sortedObjs = null;
            Republish();
        }
    }

    // under _lock
    private void Republish()
    {
        if (_sortedObjs is null)
        {
            _sortedObjs = [.. _byName.Values];
            Array.Sort(_sortedObjs, (a, b) => string.CompareOrdinal(a.Name, b.Name));
        }
        var views = new List<NetworkView>(_sortedObjs.Length);
        foreach (NetworkObj o in _sortedObjs)
            if (!o.Provisional && o.View is { } v) views.Add(v);
        Volatile.Write(ref _snapshot, new DriverSnapshot(++_generation, [.. views]));
    }

    private NetworkObj[]? _sortedObjs;

    /// <summary>networkObjFromNetwork for a query: the network's published view.</summary>
    private NetworkView View(NetworkRef net) =>
        Snapshot.ByUuid.GetValueOrDefault(net.Uuid) ?? throw NoNetwork(net);

    // ---------------------------------------------------------------- lookup

    private static NetworkRef Ref(NetworkObj obj) => new(obj.Name, obj.Uuid);

    public NetworkRef LookupByName(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (Snapshot.ByName.TryGetValue(name, out NetworkView? v)) return v.Ref;
        throw Err(VirErrorCode.NoNetwork, $"no network with matching name '{name}'");
    }

    public NetworkRef LookupByUuid(Guid uuid)
    {
        if (Snapshot.ByUuid.TryGetValue(uuid, out NetworkView? v)) return v.Ref;
        throw Err(VirErrorCode.NoNetwork, $"no network with matching uuid '{VirUuid.Format(uuid)}'");
    }

    /// <summary>Where a network is in its life (Starting and Stopping while the backend works on it).</summary>
    public NetworkState GetState(NetworkRef net) => View(net).State;

    // ---------------------------------------------------------------- listing

    public const uint ListInactive = 1, ListActive = 2, ListPersistent = 4, ListTransient = 8,
        ListAutostart = 16, ListNoAutostart = 32;

    private static bool Matches(NetworkView o, uint flags)
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
        NetworkView[] sorted = Snapshot.Sorted;
        int n = 0;
        foreach (NetworkView o in sorted)
            if (Matches(o, flags)) n++;
        var list = new NetworkRef[n];
        n = 0;
        foreach (NetworkView o in sorted)
            if (Matches(o, flags)) list[n++] = o.Ref;
        return list;
    }

    public int NumOfNetworks() => Snapshot.ActiveCount;

    public int NumOfDefined()
    {
        DriverSnapshot s = Snapshot;
        return s.Sorted.Length - s.ActiveCount;
    }

    /// <summary>Names of active networks, at most <paramref name="maxNames"/>.</summary>
    public IReadOnlyList<string> ListNetworks(int maxNames) => Names(true, maxNames);

    /// <summary>Names of inactive (hence persistent) networks, at most <paramref name="maxNames"/>.</summary>
    public IReadOnlyList<string> ListDefined(int maxNames) => Names(false, maxNames);

    private string[] Names(bool active, int max)
    {
        var names = new List<string>();
        foreach (NetworkView o in Snapshot.Sorted)
        {
            if (names.Count >= max) break;
            if (o.Active == active) names.Add(o.Name);
        }
        return [.. names];
    }

    // ---------------------------------------------------------------- simple queries

    public bool IsActive(NetworkRef net) => View(net).Active;

    public bool IsPersistent(NetworkRef net) => View(net).Persistent;

    public bool GetAutostart(NetworkRef net) => View(net).Autostart;

    public string GetBridgeName(NetworkRef net)
    {
        NetworkView v = View(net);
        return v.Def.Bridge ?? throw Err(VirErrorCode.InternalError, $"network '{v.Name}' does not have a bridge name.");
    }

    /// <summary>networkGetXMLDesc; flag 1 (VIR_NETWORK_XML_INACTIVE) shows the persistent definition.</summary>
    public string GetXmlDesc(NetworkRef net, uint flags)
    {
        CheckFlags(flags, (uint)NetworkFormatFlags.Inactive, "networkGetXMLDesc");
        return View(net).Xml(flags);
    }

    public IReadOnlyList<DhcpLease> GetDhcpLeases(NetworkRef net, string? mac, uint flags, bool needResults = true)
    {
        CheckFlags(flags, 0, "networkGetDHCPLeases");
        if (mac is not null && !MacAddr.TryParse(mac, out _))
            throw Err(VirErrorCode.InvalidMac, $"invalid MAC address: {mac}");
        // as libvirt, the file is read whether the network runs or not
        return _backend.GetDhcpLeases(View(net).Def, mac, needResults);
    }

    // ---------------------------------------------------------------- events

    /// <summary>An event to raise once the caller has let go of every lock (<see cref="RaiseQueued"/>).</summary>
    private readonly record struct QueuedEvent(long Ticket, Action Raise);

    /// <summary>Takes the event's place in line; called with the network's lock held, right after the change is published.</summary>
    private QueuedEvent Queue(NetworkObj obj, NetworkLifecycleEvent ev)
    {
        var args = new NetworkLifecycleEventArgs(Ref(obj), ev, 0);
        return new QueuedEvent(_events.Take(), () => Dispatch(Lifecycle, args));
    }

    private void RaiseQueued(QueuedEvent? ev)
    {
        if (ev is { } e) _events.Raise(e.Ticket, e.Raise);
    }

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
    }
}
