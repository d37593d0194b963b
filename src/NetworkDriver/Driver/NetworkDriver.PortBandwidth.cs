using VirtNetworkd.Errors;
using VirtNetworkd.NetworkDriver.Xml;

namespace VirtNetworkd.NetworkDriver.Driver;

/// <summary>
/// QoS accounting of ports (networkCheckBandwidth, networkPlugBandwidth, networkUnplugBandwidth,
/// networkUpdatePortBandwidth): the inbound floors of a network's ports may not add up to more
/// than its inbound peak (or average, without a peak); each port with a floor owns a class ID.
/// </summary>
public sealed partial class NetworkDriver
{
    /// <summary>Rate class 2 on the bridge carries the traffic of ports without a floor.</summary>
    private const uint UnguaranteedClass = 2;

    private static bool SupportsFloor(ForwardType t) => t is ForwardType.None or ForwardType.Nat or ForwardType.Route or ForwardType.Open;

    /// <summary>
    /// networkCheckBandwidth: throws if <paramref name="newBw"/> (replacing <paramref name="oldBw"/>)
    /// would overcommit the network; returns the rate available to the network's ports, or null
    /// when no QoS accounting applies.
    /// </summary>
    private static ulong? CheckBandwidth(NetworkObj obj, BandwidthDef? newBw, BandwidthDef? oldBw, string mac)
    {
        NetworkDef def = obj.Def;
        BandwidthRate? netIn = def.Bandwidth?.Inbound;
        bool hasFloor = newBw?.HasFloor == true;
        if (hasFloor && !SupportsFloor(def.Forward.Type))
            throw Err(VirErrorCode.OperationUnsupported,
                $"Invalid use of 'floor' on interface with MAC address {mac} - 'floor' is only supported for interface type 'network' with forward type 'nat', 'route', 'open' or none");
        if (hasFloor && netIn is null)
            throw Err(VirErrorCode.OperationUnsupported,
                $"Invalid use of 'floor' on interface with MAC address {mac} - network '{def.Name}' has no inbound QoS set");
        if (netIn is null) return null;
        if (!hasFloor && oldBw?.HasFloor != true) return null;

        ulong sum = obj.FloorSum;
        if (oldBw?.Inbound is { } o) sum -= o.Floor;
        if (newBw?.Inbound is { } n) sum += n.Floor;
        string bridge = def.Bridge ?? "(null)";
        if (netIn.Peak != 0)
        {
            if (sum > netIn.Peak)
                throw Err(VirErrorCode.OperationInvalid,
                    $"Cannot plug '{mac}' interface into '{bridge}' because new combined inbound floor={sum} would overcommit peak={netIn.Peak} on network '{def.Name}'");
            return netIn.Peak;
        }
        if (sum > netIn.Average)
            throw Err(VirErrorCode.OperationInvalid,
                $"Cannot plug '{mac}' interface into '{bridge}' because new combined inbound floor={sum} would overcommit average={netIn.Average} on network '{def.Name}'");
        return netIn.Average;
    }


    /// <summary>networkPlugBandwidth: a class for the port's floor, if QoS applies.</summary>
    private void PlugBandwidth(NetworkObj obj, NetworkPortDef port)
    {
        if (CheckBandwidth(obj, port.Bandwidth, null, port.Mac.ToString()) is not { } rate) return;
        PlugBandwidthImpl(obj, port, port.Bandwidth!, rate);
    }

    /// <summary>networkPlugBandwidthImpl: takes a class ID, adds the floor to the sum, persists, updates the unguaranteed rate.</summary>
    private void PlugBandwidthImpl(NetworkObj obj, NetworkPortDef port, BandwidthDef bw, ulong rate)
    {
        NetworkDef def = obj.Def;
        uint id = obj.ClassIds.TakeNext();
        try
        {
            _backend.PlugBandwidth(def, port.Mac, bw, id);
        }
        catch
        {
            obj.ClassIds.Clear(id);
            TryUnplug(def, id);
            throw;
        }
        ulong floor = bw.Inbound?.Floor ?? 0;
        port.ClassId = id;
        obj.FloorSum += floor;
        try
        {
            SaveStatusOrThrow(obj);
        }
        catch
        {
            obj.ClassIds.Clear(id);
            obj.FloorSum -= floor;
            port.ClassId = 0;
            TryUnplug(def, id);
            throw;
        }
        TryUpdateRate(def, UnguaranteedClass, rate - obj.FloorSum);
    }

    /// <summary>networkUnplugBandwidth: gives back the port's class and floor.</summary>
    private void UnplugBandwidth(NetworkObj obj, NetworkPortDef port)
    {
        if (port.ClassId == 0) return;
        NetworkDef def = obj.Def;
        BandwidthRate? netIn = def.Bandwidth?.Inbound;
        if (netIn is null) return; // libvirt: "has no bandwidth but unplug requested" (a warning)
        ulong rate = netIn.Peak != 0 ? netIn.Peak : netIn.Average;
        uint id = port.ClassId;
        _backend.UnplugBandwidth(def, id);
        ulong floor = port.Bandwidth?.Inbound?.Floor ?? 0;
        obj.FloorSum -= floor;
        obj.ClassIds.Clear(id);
        try
        {
            SaveStatusOrThrow(obj);
        }
        catch (LibvirtError)
        {
            // as libvirt: the class stays unplugged from the bridge, the bookkeeping is put back, the call succeeds
            obj.FloorSum += floor;
            obj.ClassIds.Set(id);
            return;
        }
        TryUpdateRate(def, UnguaranteedClass, rate - obj.FloorSum);
        port.ClassId = 0;
    }

    /// <summary>
    /// networkUpdatePortBandwidth: the port's floor changes from its current bandwidth's to
    /// <paramref name="newBw"/>'s; only the port's class ID changes here (the caller sets the bandwidth).
    /// </summary>
    private void UpdatePortBandwidth(NetworkObj obj, NetworkPortDef port, BandwidthDef? newBw)
    {
        BandwidthDef? oldBw = port.Bandwidth;
        ulong oldFloor = oldBw?.Inbound?.Floor ?? 0, newFloor = newBw?.Inbound?.Floor ?? 0;
        if (oldFloor == newFloor) return;
        if (CheckBandwidth(obj, newBw, oldBw, port.Mac.ToString()) is not { } rate) return;
        NetworkDef def = obj.Def;
        if (oldFloor > 0 && newFloor > 0)
        {
            _backend.UpdateBandwidthRate(def, port.ClassId, newFloor);
            obj.FloorSum = obj.FloorSum - oldFloor + newFloor;
            try
            {
                _backend.UpdateBandwidthRate(def, UnguaranteedClass, rate - obj.FloorSum);
                SaveStatusOrThrow(obj);
            }
            catch
            {
                obj.FloorSum = obj.FloorSum - newFloor + oldFloor;
                try { _backend.UpdateBandwidthRate(def, port.ClassId, oldFloor); } catch (LibvirtError) { }
                throw;
            }
        }
        else if (newFloor > 0)
        {
            PlugBandwidthImpl(obj, port, newBw!, rate);
        }
        else
        {
            UnplugBandwidth(obj, port); // gives back the old floor, which the accounting holds
        }
    }

    /// <summary>
    /// At daemon start (its ports loaded again) and on SIGHUP: the backend puts back what is
    /// missing of the network's tc tree, the ports' floors with the class ids their status files
    /// keep, and the unguaranteed class at the rate the floors leave (libvirt does not look; see
    /// <see cref="INetworkBackend.ReconcileBandwidth"/>).
    /// </summary>
    private void ReconcileBandwidth(NetworkObj obj, List<(string File, string Error)> errors)
    {
        NetworkDef def = obj.Def;
        if (def.Bandwidth is null) return;
        var floors = obj.Ports.Values
            .Where(p => p.ClassId > UnguaranteedClass && p.Bandwidth?.Inbound is { Floor: > 0 })
            .OrderBy(p => p.ClassId)
            .Select(p => new PortFloor(p.Mac, p.Bandwidth!, p.ClassId))
            .ToList();
        ulong? rate = null;
        if (floors.Count > 0 && def.Bandwidth.Inbound is { } netIn)
        {
            ulong total = netIn.Peak != 0 ? netIn.Peak : netIn.Average;
            rate = total >= obj.FloorSum ? total - obj.FloorSum : 0;
        }
        try { _backend.ReconcileBandwidth(def, floors, rate); }
        catch (LibvirtError e) { errors.Add((Store.StatusFile(obj.Name), e.Message)); }
    }

    private void TryUnplug(NetworkDef def, uint id)
    {
        try { _backend.UnplugBandwidth(def, id); } catch (LibvirtError) { }
    }

    /// <summary>A failed update of the unguaranteed rate is only a warning in libvirt.</summary>
    private void TryUpdateRate(NetworkDef def, uint classId, ulong rate)
    {
        try { _backend.UpdateBandwidthRate(def, classId, rate); } catch (LibvirtError) { }
    }
}
