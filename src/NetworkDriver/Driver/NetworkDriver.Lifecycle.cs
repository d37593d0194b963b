using VirtNetworkd.Errors;
using VirtNetworkd.NetworkDriver.Backend;
using VirtNetworkd.NetworkDriver.Xml;
using VirtNetworkd.NetworkDriver.Xml.Net;
using VirtNetworkd.NetworkDriver.Xml.Validation;

namespace VirtNetworkd.NetworkDriver.Driver;

public sealed partial class NetworkDriver
{
    // ---------------------------------------------------------------- object list (virnetworkobj.c)

    /// <summary>
    /// virNetworkObjAssignDefLocked with its uniqueness rules. Returns the network with its lock
    /// held (the caller releases it), whether it is new (then it stays out of the published list
    /// until the caller publishes it), and how it was before. With <paramref name="checkBridge"/>
    /// (define and create, not load) a new network's bridge must still be free.
    /// </summary>
    private (NetworkObj Obj, bool Created, Saved? Before) AssignDef(NetworkDef def, bool live, bool checkLive, bool checkBridge = false)
    {
        while (true)
        {
            NetworkObj? obj;
            lock (_lock)
            {
                obj = _byUuid.GetValueOrDefault(def.Uuid);
                if (obj is null)
                {
                    if (_byName.TryGetValue(def.Name, out NetworkObj? other))
                        throw Err(VirErrorCode.OperationFailed,
                            $"network '{def.Name}' already exists with uuid {VirUuid.Format(other.Uuid)}");
                    if (checkBridge && IsL3(def) && def.Bridge is { } bridge && BridgeTaken(bridge))
                        throw Err(VirErrorCode.InternalError, $"bridge name '{bridge}' already in use.");
                    obj = new NetworkObj(def) { Persistent = !live, Provisional = true };
                    // a lock no other thread can know of yet: entering it cannot wait
                    obj.Gate.Enter();
                    _byUuid.Add(def.Uuid, obj);
                    _byName.Add(def.Name, obj);
                    _sortedObjs = null;
                    return (obj, true, null);
                }
            }
            obj.Gate.Enter();
            if (obj.Removed)
            {
                obj.Gate.Exit();
                continue;
            }
            try
            {
                if (obj.Name != def.Name)
                    throw Err(VirErrorCode.OperationFailed,
                        $"network '{obj.Name}' is already defined with uuid {VirUuid.Format(obj.Uuid)}");
                if (checkLive && obj.Active)
                    throw Err(VirErrorCode.OperationInvalid, $"network is already active as '{obj.Name}'");
            }
            catch
            {
                obj.Gate.Exit();
                throw;
            }
            Saved before = Save(obj);
            UpdateAssignDef(obj, def, live);
            return (obj, false, before);
        }
    }

    /// <summary>
    /// Under the bookkeeping lock, as a new network joins the maps: whether another network,
    /// published or still being defined, has claimed this bridge since the name was validated
    /// against the snapshot (two defines racing for the same automatic name).
    /// </summary>
    private bool BridgeTaken(string bridge)
    {
        foreach (NetworkObj o in _byName.Values)
        {
            NetworkDef def = o.View?.Def ?? o.Def;
            if (def.Bridge == bridge || o.View?.NewDef?.Bridge == bridge) return true;
        }
        return false;
    }

    /// <summary>virNetworkObjUpdateAssignDef.</summary>
    private static void UpdateAssignDef(NetworkObj obj, NetworkDef? def, bool live)
    {
        if (live)
        {
            if (obj.Persistent && obj.NewDef is null) obj.NewDef = obj.Def;
            obj.Def = def!;
        }
        else
        {
            if (obj.Active) obj.NewDef = def;
            else if (!obj.Persistent) obj.NewDef = def;
            else if (def is not null) { obj.NewDef = null; obj.Def = def; }
            obj.Persistent = def is not null;
        }
    }

    /// <summary>Undoes <see cref="AssignDef"/> after a failure: a new network leaves the maps, an existing one gets its old state back.</summary>
    private void UndoAssignDef(NetworkObj obj, bool created, Saved? before)
    {
        if (created) Remove(obj);
        else
        {
            Restore(obj, before!);
            Publish(obj);
        }
    }

    private sealed record Saved(NetworkDef Def, NetworkDef? NewDef, bool Persistent, NetworkState State);

    private static Saved Save(NetworkObj o) => new(o.Def, o.NewDef, o.Persistent, o.State);

    private static void Restore(NetworkObj o, Saved s)
    {
        o.Def = s.Def; o.NewDef = s.NewDef; o.Persistent = s.Persistent; o.State = s.State;
    }

    /// <summary>Publishes the outcome of a command; a network it created joins the published list.</summary>
    private void PublishCommitted(NetworkObj obj)
    {
        obj.Provisional = false;
        Publish(obj);
    }

    // ---------------------------------------------------------------- automatic values

    /// <summary>virNetworkObjBridgeInUse over the published networks: another one (live or pending config) uses this bridge.</summary>
    private bool BridgeInUse(string bridge, string skipName)
    {
        foreach (NetworkView o in Snapshot.Sorted)
            if (o.Name != skipName && (o.Def.Bridge == bridge || (o.NewDef is not null && o.NewDef.Bridge == bridge))) return true;
        return false;
    }

    /// <summary>
    /// networkBridgeNameValidate + networkFindUnusedBridgeName. As in libvirt, checked against
    /// the networks as they are now, before the new definition is assigned.
    /// </summary>
    private void ValidateBridgeName(NetworkDef def)
    {
        if (def.Bridge is not null && !def.Bridge.Contains("%d", StringComparison.Ordinal))
        {
            if (BridgeInUse(def.Bridge, def.Name))
                throw Err(VirErrorCode.InternalError, $"bridge name '{def.Bridge}' already in use.");
            return;
        }
        string template = "virbr%d";
        if (def.Bridge is not null)
        {
            int p = def.Bridge.IndexOf('%', StringComparison.Ordinal);
            if (p >= 0 && p == def.Bridge.LastIndexOf('%') && p + 1 < def.Bridge.Length && def.Bridge[p + 1] == 'd')
                template = def.Bridge;
        }
        for (int id = 0; id <= MaxBridgeId; id++)
        {
            string name = template.Replace("%d", id.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);
            if (!BridgeInUse(name, def.Name) && !DeviceExists(name))
            {
                def.Bridge = name;
                return;
            }
        }
        throw Err(VirErrorCode.InternalError, $"Bridge generation exceeded max id {MaxBridgeId}");
    }

    /// <summary>virNetworkSetBridgeMacAddr: 52:54:00 plus three random bytes.</summary>
    private static void SetBridgeMac(NetworkDef def)
    {
        if (def.Mac is not null) return;
        Span<byte> b = [0x52, 0x54, 0x00, 0, 0, 0];
        System.Security.Cryptography.RandomNumberGenerator.Fill(b[3..]);
        def.Mac = MacAddr.FromBytes(b);
    }

    private static bool IsL3(NetworkDef def) =>
        def.Forward.Type is ForwardType.None or ForwardType.Nat or ForwardType.Route or ForwardType.Open;

    /// <summary>Parse plus networkValidate: UUID, bridge name and MAC are filled in. Takes no lock.</summary>
    private NetworkDef ParseAndValidate(string xml, bool validate)
    {
        ArgumentNullException.ThrowIfNull(xml);
        NetworkDef def = NetworkXml.Parse(xml, validate ? NetworkParseFlags.Validate : NetworkParseFlags.None);
        if (!def.UuidSpecified && def.Uuid == Guid.Empty) def.Uuid = Guid.NewGuid();
        if (IsL3(def))
        {
            ValidateBridgeName(def);
            SetBridgeMac(def);
        }
        NetworkValidation.ValidateForDefine(def, IsVirtualFunction);
        return def;
    }

    // ---------------------------------------------------------------- define / create / start / stop / undefine

    /// <summary>networkDefineXMLFlags; flag 1 = VIR_NETWORK_DEFINE_VALIDATE.</summary>
    public NetworkRef DefineXml(string xml, uint flags)
    {
        CheckFlags(flags, 1, "networkDefineXMLFlags");
        NetworkDef def = ParseAndValidate(xml, (flags & 1) != 0);
        (NetworkObj obj, bool created, Saved? before) = AssignDef(def, live: false, checkLive: false, checkBridge: true);
        QueuedEvent ev;
        try
        {
            try
            {
                Store.SaveConfig(def);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                UndoAssignDef(obj, created, before);
                throw Err(VirErrorCode.SystemError, $"cannot save config file '{Store.ConfigFile(def.Name)}': {e.Message}");
            }
            PublishCommitted(obj);
            ev = Queue(obj, NetworkLifecycleEvent.Defined);
        }
        finally { obj.Gate.Exit(); }
        RaiseQueued(ev);
        return Ref(obj);
    }

    /// <summary>networkCreateXMLFlags; flag 1 = VIR_NETWORK_CREATE_VALIDATE.</summary>
    public NetworkRef CreateXml(string xml, uint flags)
    {
        CheckFlags(flags, 1, "networkCreateXMLFlags");
        NetworkDef def = ParseAndValidate(xml, (flags & 1) != 0);
        (NetworkObj obj, bool created, Saved? before) = AssignDef(def, live: true, checkLive: true, checkBridge: true);
        QueuedEvent ev;
        try
        {
            try
            {
                StartNetwork(obj);
            }
            catch
            {
                UndoAssignDef(obj, created || !obj.Persistent, before);
                throw;
            }
            PublishCommitted(obj);
            ev = Queue(obj, NetworkLifecycleEvent.Started);
        }
        finally { obj.Gate.Exit(); }
        RaiseQueued(ev);
        return Ref(obj);
    }

    /// <summary>networkCreate / networkCreateWithFlags (no flags are defined).</summary>
    public void Create(NetworkRef net, uint flags = 0)
    {
        CheckFlags(flags, 0, "networkCreateWithFlags");
        NetworkObj obj = Enter(net);
        QueuedEvent ev;
        try
        {
            StartNetwork(obj);
            Publish(obj);
            ev = Queue(obj, NetworkLifecycleEvent.Started);
        }
        finally { obj.Gate.Exit(); }
        RaiseQueued(ev);
    }

    /// <summary>
    /// networkStartNetwork: the network is Starting (published, still inactive) while the
    /// backend works, then active with its record and status file; on failure it is as before.
    /// </summary>
    private void StartNetwork(NetworkObj obj)
    {
        if (obj.Active) throw Err(VirErrorCode.OperationInvalid, "network is already active");
        DropAllPorts(obj);
        NetworkDef? savedNew = obj.NewDef;
        NetworkDef savedDef = obj.Def;
        if (obj.Persistent && obj.NewDef is null) obj.NewDef = obj.Def.Clone();
        void Undo()
        {
            obj.Def = savedDef;
            obj.NewDef = savedNew;
            obj.State = NetworkState.Inactive;
            obj.Record = null;
            if (!obj.Provisional) Publish(obj);
        }
        obj.State = NetworkState.Starting;
        if (!obj.Provisional) Publish(obj);
        BackendRecord record;
        try
        {
            // libvirt's early hook, which may set up missing devices; its failure aborts the start
            RunHook(obj, NetworkHookOp.Start);
            if (UsesExternalDevices(obj.Def))
            {
                obj.Def = obj.Def.Clone(); // the interface pool belongs to the live definition only
                CreateInterfacePool(obj.Def);
            }
            record = _backend.Start(obj.Def);
        }
        catch
        {
            // a failed start is shut down as libvirt does, which tells the hook it stopped
            RunHookIgnoringFailure(obj, NetworkHookOp.Stopped, end: true);
            Undo();
            throw;
        }
        if (record.LiveDefinition is { } completed)
        {
            obj.Def = completed;
            record = record with { LiveDefinition = null };
        }
        obj.Record = record;
        obj.FloorSum = 0;
        obj.ClassIds = ClassIdMap.Default();
        try
        {
            RunHook(obj, NetworkHookOp.Started);
            Store.SaveStatus(obj.Def, obj.ClassIds.ToString(), obj.FloorSum, obj.Taints, record);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or LibvirtError)
        {
            _backend.Stop(obj.Def, record);
            RunHookIgnoringFailure(obj, NetworkHookOp.Stopped, end: true);
            Undo();
            if (e is LibvirtError) throw;
            throw Err(VirErrorCode.SystemError, $"cannot save status file '{Store.StatusFile(obj.Name)}': {e.Message}");
        }
        obj.State = NetworkState.Active;
    }

    /// <summary>networkShutdownNetwork: Stopping (published, still active) while the backend works; the caller publishes the result.</summary>
    private void ShutdownNetwork(NetworkObj obj)
    {
        if (!obj.Active) return;
        obj.State = NetworkState.Stopping;
        Publish(obj);
        try { Store.DeleteStatus(obj.Name); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        _backend.Stop(obj.Def, obj.Record ?? BackendRecord.Empty);
        RunHookIgnoringFailure(obj, NetworkHookOp.Stopped, end: true);
        SetInactive(obj);
    }

    /// <summary>The bookkeeping of a network that stopped running: no record, no ports, the pending config becomes the definition.</summary>
    private void SetInactive(NetworkObj obj)
    {
        obj.State = NetworkState.Inactive;
        obj.Record = null;
        DropAllPorts(obj);
        obj.UnsetDefTransient();
    }

    /// <summary>After a network stopped: a transient one is gone, a persistent one is published as inactive.</summary>
    private void PublishStopped(NetworkObj obj)
    {
        if (!obj.Persistent) Remove(obj);
        else Publish(obj);
    }

    /// <summary>networkDestroy.</summary>
    public void Destroy(NetworkRef net)
    {
        NetworkObj obj = Enter(net);
        QueuedEvent ev;
        try
        {
            if (!obj.Active) throw NotActive(obj.Name);
            ShutdownNetwork(obj);
            if (!obj.Persistent) _backend.RemoveInactive(obj.Def);
            PublishStopped(obj);
            ev = Queue(obj, NetworkLifecycleEvent.Stopped);
        }
        finally { obj.Gate.Exit(); }
        RaiseQueued(ev);
    }

    /// <summary>networkUndefine.</summary>
    public void Undefine(NetworkRef net)
    {
        NetworkObj obj = Enter(net);
        QueuedEvent ev;
        try
        {
            if (!obj.Persistent) throw Err(VirErrorCode.OperationInvalid, "can't undefine transient network");
            Io(() => Store.DeleteConfig(obj.Name), $"cannot remove config file '{Store.ConfigFile(obj.Name)}'");
            obj.Autostart = false;
            if (obj.Active)
            {
                UpdateAssignDef(obj, null, live: false);
                Publish(obj);
            }
            else
            {
                _backend.RemoveInactive(obj.Def);
                Remove(obj);
            }
            ev = Queue(obj, NetworkLifecycleEvent.Undefined);
        }
        finally { obj.Gate.Exit(); }
        RaiseQueued(ev);
    }

    /// <summary>networkSetAutostart.</summary>
    public void SetAutostart(NetworkRef net, bool autostart)
    {
        NetworkObj obj = Enter(net);
        try
        {
            if (!obj.Persistent) throw Err(VirErrorCode.OperationInvalid, "cannot set autostart for transient network");
            if (obj.Autostart == autostart) return;
            Io(() => Store.SetAutostart(obj.Name, autostart), autostart
                ? $"Failed to create symlink '{Store.AutostartLink(obj.Name)}' to '{Store.ConfigFile(obj.Name)}'"
                : $"Failed to delete symlink '{Store.AutostartLink(obj.Name)}'");
            obj.Autostart = autostart;
            Publish(obj);
        }
        finally { obj.Gate.Exit(); }
    }
}
