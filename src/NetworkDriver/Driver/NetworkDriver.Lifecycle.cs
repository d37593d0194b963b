using VirtNetworkd.Errors;
using VirtNetworkd.NetworkDriver.Xml;
using VirtNetworkd.NetworkDriver.Xml.Net;
using VirtNetworkd.NetworkDriver.Xml.Validation;

namespace VirtNetworkd.NetworkDriver.Driver;

public sealed partial class NetworkDriver
{
    // ---------------------------------------------------------------- object list (virnetworkobj.c)

    /// <summary>virNetworkObjAssignDefLocked with its uniqueness rules; returns the object and whether it is new.</summary>
    private (NetworkObj Obj, bool Created) AssignDef(NetworkDef def, bool live, bool checkLive)
    {
        if (_byUuid.TryGetValue(def.Uuid, out NetworkObj? obj))
        {
            if (obj.Name != def.Name)
                throw Err(VirErrorCode.OperationFailed,
                    $"network '{obj.Name}' is already defined with uuid {VirUuid.Format(obj.Uuid)}");
            if (checkLive && obj.Active)
                throw Err(VirErrorCode.OperationInvalid, $"network is already active as '{obj.Name}'");
            UpdateAssignDef(obj, def, live);
            return (obj, false);
        }
        if (_byName.TryGetValue(def.Name, out NetworkObj? other))
            throw Err(VirErrorCode.OperationFailed,
                $"network '{def.Name}' already exists with uuid {VirUuid.Format(other.Uuid)}");
        obj = new NetworkObj(def) { Persistent = !live };
        _byUuid.Add(def.Uuid, obj);
        _byName.Add(def.Name, obj);
        _sorted = null;
        return (obj, true);
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

    private void Remove(NetworkObj obj)
    {
        _byUuid.Remove(obj.Uuid);
        _byName.Remove(obj.Name);
        _sorted = null;
    }

    private sealed record Snapshot(NetworkDef Def, NetworkDef? NewDef, bool Persistent, bool Active);

    private static Snapshot Save(NetworkObj o) => new(o.Def, o.NewDef, o.Persistent, o.Active);

    private static void Restore(NetworkObj o, Snapshot s)
    {
        o.Def = s.Def; o.NewDef = s.NewDef; o.Persistent = s.Persistent; o.Active = s.Active;
    }

    // ---------------------------------------------------------------- automatic values

    /// <summary>virNetworkObjBridgeInUse: another network (live or pending config) uses this bridge.</summary>
    private bool BridgeInUse(string bridge, string skipName) =>
        _byName.Values.Any(o => o.Name != skipName &&
            (o.Def.Bridge == bridge || (o.NewDef is not null && o.NewDef.Bridge == bridge)));

    /// <summary>networkBridgeNameValidate + networkFindUnusedBridgeName.</summary>
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

    /// <summary>Parse plus networkValidate: UUID, bridge name and MAC are filled in.</summary>
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
        lock (_lock)
        {
            _generation++;
            NetworkDef def = ParseAndValidate(xml, (flags & 1) != 0);
            NetworkObj? existing = _byUuid.GetValueOrDefault(def.Uuid);
            Snapshot? before = existing is null ? null : Save(existing);
            (NetworkObj obj, bool created) = AssignDef(def, live: false, checkLive: false);
            try
            {
                Store.SaveConfig(def);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                if (created) Remove(obj); else Restore(obj, before!);
                throw Err(VirErrorCode.SystemError, $"cannot save config file '{Store.ConfigFile(def.Name)}': {e.Message}");
            }
            Raise(obj, NetworkLifecycleEvent.Defined);
            return Ref(obj);
        }
    }

    /// <summary>networkCreateXMLFlags; flag 1 = VIR_NETWORK_CREATE_VALIDATE.</summary>
    public NetworkRef CreateXml(string xml, uint flags)
    {
        CheckFlags(flags, 1, "networkCreateXMLFlags");
        lock (_lock)
        {
            _generation++;
            NetworkDef def = ParseAndValidate(xml, (flags & 1) != 0);
            NetworkObj? existing = _byUuid.GetValueOrDefault(def.Uuid);
            Snapshot? before = existing is null ? null : Save(existing);
            (NetworkObj obj, bool created) = AssignDef(def, live: true, checkLive: true);
            try
            {
                StartNetwork(obj);
            }
            catch
            {
                if (created || !obj.Persistent) Remove(obj); else Restore(obj, before!);
                throw;
            }
            Raise(obj, NetworkLifecycleEvent.Started);
            return Ref(obj);
        }
    }

    /// <summary>networkCreate / networkCreateWithFlags (no flags are defined).</summary>
    public void Create(NetworkRef net, uint flags = 0)
    {
        CheckFlags(flags, 0, "networkCreateWithFlags");
        lock (_lock)
        {
            _generation++;
            NetworkObj obj = Get(net);
            StartNetwork(obj);
            Raise(obj, NetworkLifecycleEvent.Started);
        }
    }

    /// <summary>networkStartNetwork: backend up, active, status file written.</summary>
    private void StartNetwork(NetworkObj obj)
    {
        if (obj.Active) throw Err(VirErrorCode.OperationInvalid, "network is already active");
        DropAllPorts(obj);
        NetworkDef? savedNew = obj.NewDef;
        NetworkDef savedDef = obj.Def;
        if (obj.Persistent && obj.NewDef is null) obj.NewDef = obj.Def.Clone();
        try
        {
            if (UsesExternalDevices(obj.Def))
            {
                obj.Def = obj.Def.Clone(); // the interface pool belongs to the live definition only
                CreateInterfacePool(obj.Def);
            }
            _backend.Start(obj.Def);
        }
        catch
        {
            obj.Def = savedDef;
            obj.NewDef = savedNew;
            throw;
        }
        obj.Active = true;
        obj.FloorSum = 0;
        obj.ClassIds = ClassIdMap.Default();
        try
        {
            Store.SaveStatus(obj.Def, obj.ClassIds.ToString(), obj.FloorSum, obj.Taints);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _backend.Stop(obj.Def);
            obj.Active = false;
            obj.Def = savedDef;
            obj.NewDef = savedNew;
            throw Err(VirErrorCode.SystemError, $"cannot save status file '{Store.StatusFile(obj.Name)}': {e.Message}");
        }
    }

    /// <summary>networkShutdownNetwork.</summary>
    private void ShutdownNetwork(NetworkObj obj)
    {
        if (!obj.Active) return;
        try { Store.DeleteStatus(obj.Name); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        _backend.Stop(obj.Def);
        obj.Active = false;
        DropAllPorts(obj);
        obj.UnsetDefTransient();
    }

    /// <summary>networkDestroy.</summary>
    public void Destroy(NetworkRef net)
    {
        lock (_lock)
        {
            _generation++;
            NetworkObj obj = Get(net);
            if (!obj.Active) throw NotActive(obj.Name);
            ShutdownNetwork(obj);
            Raise(obj, NetworkLifecycleEvent.Stopped);
            if (!obj.Persistent) Remove(obj);
        }
    }

    /// <summary>networkUndefine.</summary>
    public void Undefine(NetworkRef net)
    {
        lock (_lock)
        {
            _generation++;
            NetworkObj obj = Get(net);
            if (!obj.Persistent) throw Err(VirErrorCode.OperationInvalid, "can't undefine transient network");
            Io(() => Store.DeleteConfig(obj.Name), $"cannot remove config file '{Store.ConfigFile(obj.Name)}'");
            obj.Autostart = false;
            if (obj.Active) UpdateAssignDef(obj, null, live: false);
            else Remove(obj);
            Raise(obj, NetworkLifecycleEvent.Undefined);
        }
    }

    /// <summary>networkSetAutostart.</summary>
    public void SetAutostart(NetworkRef net, bool autostart)
    {
        lock (_lock)
        {
            _generation++;
            NetworkObj obj = Get(net);
            if (!obj.Persistent) throw Err(VirErrorCode.OperationInvalid, "cannot set autostart for transient network");
            if (obj.Autostart == autostart) return;
            Io(() => Store.SetAutostart(obj.Name, autostart), autostart
                ? $"Failed to create symlink '{Store.AutostartLink(obj.Name)}' to '{Store.ConfigFile(obj.Name)}'"
                : $"Failed to delete symlink '{Store.AutostartLink(obj.Name)}'");
            obj.Autostart = autostart;
        }
    }
}
