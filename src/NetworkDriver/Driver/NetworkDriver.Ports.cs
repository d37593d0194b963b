using VirtNetworkd.Errors;
using VirtNetworkd.NetworkDriver.Xml;
using VirtNetworkd.NetworkDriver.Xml.Net;

namespace VirtNetworkd.NetworkDriver.Driver;

/// <summary>
/// Network ports (networkPortCreateXML, networkPortLookupByUUID, networkPortGetXMLDesc,
/// networkPortDelete, networkListAllPorts, networkPortGet/SetParameters). Ports exist only
/// while their network runs; each is kept in STATEDIR/NETWORK/ports/UUID.xml.
/// </summary>
public sealed partial class NetworkDriver
{
    public const uint PortCreateReclaim = 1, PortCreateValidate = 2;

    public const string BandwidthInAverage = "inbound.average", BandwidthInPeak = "inbound.peak",
        BandwidthInBurst = "inbound.burst", BandwidthInFloor = "inbound.floor",
        BandwidthOutAverage = "outbound.average", BandwidthOutPeak = "outbound.peak", BandwidthOutBurst = "outbound.burst";

    private static LibvirtError NetworkNotActive(NetworkObj obj) =>
        Err(VirErrorCode.OperationInvalid, $"network '{obj.Name}' is not active");

    /// <summary>virNetworkObjLookupPort.</summary>
    private static NetworkPortDef GetPort(NetworkObj obj, Guid uuid) =>
        obj.Ports.GetValueOrDefault(uuid) ?? throw NoPort(uuid);

    private static LibvirtError NoPort(Guid uuid) =>
        Err(VirErrorCode.NoNetworkPort, $"Network port with UUID {VirUuid.Format(uuid)} does not exist");

    /// <summary>The port of a running network (its lock held), as every port command but create finds it.</summary>
    private static NetworkPortDef ActivePort(NetworkObj obj, Guid uuid)
    {
        NetworkPortDef def = GetPort(obj, uuid);
        if (!obj.Active) throw NetworkNotActive(obj);
        return def;
    }

    /// <summary>The same for queries: the port as last published.</summary>
    private NetworkPortDef ActivePortView(NetworkPortRef port)
    {
        NetworkView view = View(port.Network);
        NetworkPortDef def = view.Ports.GetValueOrDefault(port.Uuid) ?? throw NoPort(port.Uuid);
        if (!view.Active) throw NotActive(view.Name);
        return def;
    }

    public NetworkPortRef CreatePort(NetworkRef net, string xml, uint flags)
    {
        ArgumentNullException.ThrowIfNull(xml);
        CheckFlags(flags, PortCreateReclaim | PortCreateValidate, "networkPortCreateXML");
        NetworkObj obj = Enter(net);
        try
        {
            NetworkPortDef port = NetworkPortXml.Parse(xml, (flags & PortCreateValidate) != 0);
            if (!obj.Active) throw NetworkNotActive(obj);
            bool reclaim = (flags & PortCreateReclaim) != 0;
            if (port.Plug.Type == NetworkPortPlugType.None && reclaim)
                throw Err(VirErrorCode.InvalidArg, "Port reclaim requested but plug type is none");
            if (port.Plug.Type != NetworkPortPlugType.None && !reclaim)
                throw Err(VirErrorCode.InvalidArg, "Port reclaim not requested but plug type is not none");

            if (reclaim) NotifyPort(obj, port);
            else AllocatePort(obj, port);
            try
            {
                RunHook(obj, NetworkHookOp.PortCreated, port: port);
                AddPort(obj, port);
            }
            catch
            {
                try { ReleasePort(obj, port); } catch (LibvirtError) { }
                throw;
            }
            return new NetworkPortRef(Ref(obj), port.Uuid);
        }
        finally
        {
            obj.PortsChanged = true;
            Publish(obj); // also after a failure: connection counts and QoS bookkeeping may have moved
            obj.Gate.Exit();
        }
    }

    /// <summary>virNetworkObjAddPort: unique UUID, then the status file.</summary>
    private void AddPort(NetworkObj obj, NetworkPortDef port)
    {
        if (obj.Ports.ContainsKey(port.Uuid))
            throw Err(VirErrorCode.NetworkPortExist, $"Network port with UUID {VirUuid.Format(port.Uuid)} already exists");
        Io(() => Store.SavePort(obj.Name, port), $"cannot save port status file '{Store.PortFile(obj.Name, port.Uuid)}'");
        obj.Ports.Add(port.Uuid, port);
    }

    public NetworkPortRef LookupPort(NetworkRef net, Guid uuid)
    {
        ActivePortView(new NetworkPortRef(net, uuid));
        return new NetworkPortRef(net, uuid);
    }

    public string GetPortXmlDesc(NetworkPortRef port, uint flags)
    {
        CheckFlags(flags, 0, "networkPortGetXMLDesc");
        return NetworkPortXml.Format(ActivePortView(port));
    }

    public void DeletePort(NetworkPortRef port, uint flags)
    {
        CheckFlags(flags, 0, "networkPortDelete");
        NetworkObj obj = Enter(port.Network);
        try
        {
            NetworkPortDef def = ActivePort(obj, port.Uuid);
            ReleasePort(obj, def);
            RunHookIgnoringFailure(obj, NetworkHookOp.PortDeleted, port: def);
            try
            {
                Store.DeletePort(obj.Name, def.Uuid);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw Err(VirErrorCode.SystemError, $"Unable to delete {Store.PortFile(obj.Name, def.Uuid)}: {e.Message}");
            }
            obj.Ports.Remove(def.Uuid);
        }
        finally
        {
            obj.PortsChanged = true;
            Publish(obj);
            obj.Gate.Exit();
        }
    }

    /// <summary>networkListAllPorts, sorted by port UUID.</summary>
    public IReadOnlyList<NetworkPortRef> ListAllPorts(NetworkRef net, uint flags)
    {
        CheckFlags(flags, 0, "networkListAllPorts");
        NetworkView view = View(net);
        if (!view.Active) throw NotActive(view.Name);
        var list = new NetworkPortRef[view.Ports.Count];
        int i = 0;
        foreach (Guid uuid in view.Ports.Keys) list[i++] = new NetworkPortRef(view.Ref, uuid);
        // Guid orders as its text does (fields compared unsigned, in order)
        Array.Sort(list, (a, b) => a.Uuid.CompareTo(b.Uuid));
        return list;
    }

    /// <summary>networkPortGetParameters: the port's bandwidth, inbound (4 values) then outbound (3), as unsigned ints.</summary>
    public IReadOnlyList<PortParameter> GetPortParameters(NetworkPortRef port, uint flags)
    {
        CheckFlags(flags, 0, "networkPortGetParameters");
        BandwidthDef? bw = ActivePortView(port).Bandwidth;
        var list = new List<PortParameter>(7);
        if (bw?.Inbound is { } i)
        {
            list.Add(new(BandwidthInAverage, (uint)i.Average));
            list.Add(new(BandwidthInPeak, (uint)i.Peak));
            list.Add(new(BandwidthInFloor, (uint)i.Floor));
            list.Add(new(BandwidthInBurst, (uint)i.Burst));
        }
        if (bw?.Outbound is { } o)
        {
            list.Add(new(BandwidthOutAverage, (uint)o.Average));
            list.Add(new(BandwidthOutPeak, (uint)o.Peak));
            list.Add(new(BandwidthOutBurst, (uint)o.Burst));
        }
        return list;
    }

    /// <summary>
    /// networkPortSetParameters: replaces the port's whole bandwidth with the given values (unknown
    /// fields are ignored; a direction without average, or inbound without floor, is dropped),
    /// re-checking the network's floor accounting.
    /// </summary>
    public void SetPortParameters(NetworkPortRef port, IReadOnlyList<PortParameter> parameters, uint flags)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        CheckFlags(flags, 0, "networkPortSetParameters");
        NetworkObj obj = Enter(port.Network);
        try
        {
            NetworkPortDef def = ActivePort(obj, port.Uuid);
            var bw = new BandwidthDef { Inbound = new BandwidthRate(), Outbound = new BandwidthRate() };
            foreach (PortParameter p in parameters)
            {
                switch (p.Field)
                {
                    case BandwidthInAverage: bw.Inbound.Average = p.Value; break;
                    case BandwidthInPeak: bw.Inbound.Peak = p.Value; break;
                    case BandwidthInBurst: bw.Inbound.Burst = p.Value; break;
                    case BandwidthInFloor: bw.Inbound.Floor = p.Value; break;
                    case BandwidthOutAverage: bw.Outbound.Average = p.Value; break;
                    case BandwidthOutPeak: bw.Outbound.Peak = p.Value; break;
                    case BandwidthOutBurst: bw.Outbound.Burst = p.Value; break;
                }
            }
            if (bw.Inbound.Average == 0 && bw.Inbound.Floor == 0) bw.Inbound = null;
            if (bw.Outbound.Average == 0) bw.Outbound = null;

            UpdatePortBandwidth(obj, def, bw);
            // as libvirt: a failed save is reported after the port has changed in memory
            def.Bandwidth = bw;
            Io(() => Store.SavePort(obj.Name, def), $"cannot save port status file '{Store.PortFile(obj.Name, def.Uuid)}'");
        }
        finally
        {
            obj.PortsChanged = true;
            Publish(obj);
            obj.Gate.Exit();
        }
    }

    /// <summary>Forgets every port of a network (virNetworkObjDeleteAllPorts) as it starts or stops.</summary>
    private void DropAllPorts(NetworkObj obj)
    {
        Store.DeleteAllPorts(obj.Name);
        obj.Ports.Clear();
        obj.PortsChanged = true;
    }

    /// <summary>At daemon start: the ports of a network still running are loaded and counted again (networkUpdatePort).</summary>
    private void ReloadPorts(NetworkObj obj, List<(string File, string Error)> errors)
    {
        obj.Ports.Clear();
        obj.PortsChanged = true;
        foreach (NetworkPortDef port in Store.LoadPorts(obj.Name, errors))
        {
            obj.Ports[port.Uuid] = port;
            try { NotifyPort(obj, port); }
            catch (LibvirtError e) { errors.Add((Store.PortFile(obj.Name, port.Uuid), e.Message)); }
        }
    }
}
