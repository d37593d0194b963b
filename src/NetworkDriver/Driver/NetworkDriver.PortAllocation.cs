using VirtNetworkd.Errors;
using VirtNetworkd.NetworkDriver.Xml;
using VirtNetworkd.NetworkDriver.Xml.Net;

namespace VirtNetworkd.NetworkDriver.Driver;

/// <summary>
/// How a port gets its connection from a running network (networkAllocatePort, networkNotifyPort,
/// networkReleasePort): settings inherited from the portgroup and network, the plug chosen by
/// the forward mode, a device from the interface pool, and the network's connection counts.
/// </summary>
public sealed partial class NetworkDriver
{
    private static string Hex(PciAddress a) => $"{a.Domain:x4}:{a.Bus:x2}:{a.Slot:x2}.{a.Function:x}";

    /// <summary>
    /// networkCreateInterfacePool: a network with a &lt;pf&gt; and no explicit devices gets its
    /// pool from the PF's virtual functions (netdevs for macvtap modes, PCI addresses for hostdev).
    /// </summary>
    private void CreateInterfacePool(NetworkDef def)
    {
        if (def.Forward.Pfs.Count == 0 || def.Forward.Interfaces.Count > 0) return;
        string pf = def.Forward.Pfs[0].Dev;
        IReadOnlyList<VirtualFunction> vfs = _backend.GetVirtualFunctions(pf)
            ?? throw Err(VirErrorCode.InternalError, $"Could not get Virtual functions on {pf}");
        var pool = new List<ForwardIfDef>();
        foreach (VirtualFunction vf in vfs)
        {
            switch (def.Forward.Type)
            {
                case ForwardType.Bridge or ForwardType.Private or ForwardType.Vepa or ForwardType.Passthrough:
                    if (vf.IfName is not null) pool.Add(new ForwardIfDef { Type = HostdevDeviceType.Netdev, Dev = vf.IfName });
                    break;
                case ForwardType.Hostdev:
                    pool.Add(new ForwardIfDef { Type = HostdevDeviceType.Pci, Pci = vf.Address });
                    break;
            }
        }
        if (pool.Count == 0) throw Err(VirErrorCode.InternalError, $"No usable Vf's present on SRIOV PF {pf}");
        def.Forward.Interfaces = pool;
    }

    private static bool UsesExternalDevices(NetworkDef def) => def.Forward.Type switch
    {
        ForwardType.Bridge => def.Bridge is null,
        ForwardType.Private or ForwardType.Vepa or ForwardType.Passthrough or ForwardType.Hostdev => true,
        _ => false,
    };

    private static MacvlanMode MacvlanModeOf(ForwardType t) => t switch
    {
        ForwardType.Private => MacvlanMode.Private,
        ForwardType.Passthrough => MacvlanMode.Passthrough,
        ForwardType.Bridge => MacvlanMode.Bridge,
        _ => MacvlanMode.Vepa,
    };

    private static LibvirtError VirtualPortUnsupported(VirtualPortProfile vp, string net, string via) =>
        Err(VirErrorCode.ConfigUnsupported, $"<virtualport type='{vp.Type.ToXml()}'> not supported for network '{net}' which {via}");

    private static bool Exclusive(NetworkDef def, NetworkPortDef port) =>
        def.Forward.Type == ForwardType.Passthrough ||
        (def.Forward.Type == ForwardType.Private && port.VirtualPort is { Type: VirtualPortType.Ieee8021Qbh });

    /// <summary>networkAllocatePort: fills in the port's plug and inherited settings, and counts the connection.</summary>
    private void AllocatePort(NetworkObj obj, NetworkPortDef port)
    {
        NetworkDef def = obj.Def;
        if (!obj.Active) throw Err(VirErrorCode.OperationInvalid, $"network '{def.Name}' is not active");

        PortGroupDef? pg = def.FindPortGroup(port.Group);
        if (port.Bandwidth is null && pg?.Bandwidth is not null) port.Bandwidth = pg.Bandwidth.Clone();
        if (port.Vlan.IsEmpty)
        {
            if (pg is not null && !pg.Vlan.IsEmpty) port.Vlan = pg.Vlan.Clone();
            else if (!def.Vlan.IsEmpty) port.Vlan = def.Vlan.Clone();
        }
        if (port.TrustGuestRxFilters == TristateBool.Absent)
        {
            if (pg is not null && pg.TrustGuestRxFilters != TristateBool.Absent) port.TrustGuestRxFilters = pg.TrustGuestRxFilters;
            else if (def.TrustGuestRxFilters != TristateBool.Absent) port.TrustGuestRxFilters = def.TrustGuestRxFilters;
        }
        if (port.IsolatedPort == TristateBool.Absent) port.IsolatedPort = def.IsolatedPort;
        if (VirtualPortMerge.Merge3(port.VirtualPort, def.VirtualPort, pg?.VirtualPort) is { } merged) port.VirtualPort = merged;

        ForwardIfDef? dev = null;
        VirtualPortProfile? vp = port.VirtualPort;
        switch (def.Forward.Type)
        {
            case ForwardType.None or ForwardType.Nat or ForwardType.Route or ForwardType.Open:
                port.Plug = new NetworkPortPlug { Type = NetworkPortPlugType.Network, Bridge = def.Bridge, MacTableManager = def.MacTableManager };
                if (vp is not null) throw VirtualPortUnsupported(vp, def.Name, "uses IP forwarding");
                break;
            case ForwardType.Hostdev:
                CreateInterfacePool(def);
                dev = def.Forward.Interfaces.FirstOrDefault(i => i.Connections == 0)
                    ?? throw Err(VirErrorCode.InternalError, $"network '{def.Name}' requires exclusive access to interfaces, but none are available");
                port.Plug = new NetworkPortPlug
                {
                    Type = NetworkPortPlugType.HostdevPci,
                    Address = dev.Pci,
                    Driver = def.Forward.Driver.Clone(),
                    Managed = def.Forward.Managed ? TristateBool.Yes : TristateBool.No,
                };
                if (vp is not null && vp.Type is not (VirtualPortType.Ieee8021Qbg or VirtualPortType.Ieee8021Qbh))
                    throw VirtualPortUnsupported(vp, def.Name, "uses an SR-IOV Virtual Function via PCI passthrough");
                break;
            case ForwardType.Bridge when def.Bridge is not null:
                port.Plug = new NetworkPortPlug { Type = NetworkPortPlugType.Bridge, Bridge = def.Bridge, MacTableManager = def.MacTableManager };
                if (vp is not null && vp.Type != VirtualPortType.OpenVSwitch)
                    throw VirtualPortUnsupported(vp, def.Name, "uses a bridge device");
                break;
            default: // bridge without a bridge device, private, vepa, passthrough: macvtap
                port.Plug = new NetworkPortPlug { Type = NetworkPortPlugType.Direct, Mode = MacvlanModeOf(def.Forward.Type) };
                if (vp is not null && vp.Type is not (VirtualPortType.Ieee8021Qbg or VirtualPortType.Ieee8021Qbh))
                    throw VirtualPortUnsupported(vp, def.Name, "uses a macvtap device");
                if (def.Forward.Interfaces.Count == 0 && def.Forward.Pfs.Count == 0)
                    throw Err(VirErrorCode.InternalError, $"network '{def.Name}' uses a direct mode, but has no forward dev and no interface pool");
                CreateInterfacePool(def);
                dev = Exclusive(def, port)
                    ? def.Forward.Interfaces.FirstOrDefault(i => i.Connections == 0)
                    : def.Forward.Interfaces.MinBy(i => i.Connections);
                if (dev is null)
                    throw Err(VirErrorCode.InternalError, $"network '{def.Name}' requires exclusive access to interfaces, but none are available");
                port.Plug.LinkDev = dev.Dev;
                break;
        }

        PlugBandwidth(obj, port);
        try
        {
            VirtualPortMerge.CompleteOrThrow(port.VirtualPort);
        }
        catch
        {
            UnplugBandwidth(obj, port);
            throw;
        }
        def.Connections++;
        if (dev is not null) dev.Connections++;
    }

    /// <summary>networkNotifyPort: a port that already has its plug (reclaimed, or reloaded after a restart) is counted again.</summary>
    private void NotifyPort(NetworkObj obj, NetworkPortDef port)
    {
        NetworkDef def = obj.Def;
        if (!obj.Active) throw Err(VirErrorCode.OperationInvalid, $"network '{def.Name}' is not active");
        ForwardIfDef? dev = null;
        switch (port.Plug.Type)
        {
            case NetworkPortPlugType.None:
                throw Err(VirErrorCode.InternalError, "Unexpectedly got a network port without a plug");
            case NetworkPortPlugType.Network or NetworkPortPlugType.Bridge:
                if (def.Bridge is null) throw Err(VirErrorCode.InternalError, "Unexpectedly got a network port without a network bridge");
                break;
            case NetworkPortPlugType.Direct:
                CreateInterfacePool(def);
                dev = def.Forward.Interfaces.FirstOrDefault(i => i.Type == HostdevDeviceType.Netdev && i.Dev == port.Plug.LinkDev)
                    ?? throw Err(VirErrorCode.InternalError,
                        $"network '{def.Name}' doesn't have dev='{port.Plug.LinkDev}' in use by network port '{VirUuid.Format(port.Uuid)}'");
                if (dev.Connections > 0 && Exclusive(def, port))
                    throw Err(VirErrorCode.InternalError, $"network '{def.Name}' claims dev='{port.Plug.LinkDev}' is already in use by a different port");
                break;
            case NetworkPortPlugType.HostdevPci:
                CreateInterfacePool(def);
                PciAddress a = port.Plug.Address;
                dev = def.Forward.Interfaces.FirstOrDefault(i => i.Type == HostdevDeviceType.Pci && i.Pci.SameDevice(a))
                    ?? throw Err(VirErrorCode.InternalError, $"network '{def.Name}' doesn't have PCI device {Hex(a)} in use by network port");
                if (dev.Connections > 0 && def.Forward.Type == ForwardType.Hostdev)
                    throw Err(VirErrorCode.InternalError,
                        $"network '{def.Name}' claims the PCI device at domain={dev.Pci.Domain} bus={dev.Pci.Bus} slot={dev.Pci.Slot} function={dev.Pci.Function} is already in use by a different network port");
                break;
        }
        def.Connections++;
        if (dev is not null) dev.Connections++;
    }

    /// <summary>networkReleasePort: gives back the port's QoS class and device.</summary>
    private void ReleasePort(NetworkObj obj, NetworkPortDef port)
    {
        NetworkDef def = obj.Def;
        ForwardIfDef? dev = null;
        switch (port.Plug.Type)
        {
            case NetworkPortPlugType.Network or NetworkPortPlugType.Bridge:
                UnplugBandwidth(obj, port);
                break;
            case NetworkPortPlugType.Direct:
                if (def.Forward.Interfaces.Count == 0)
                    throw Err(VirErrorCode.InternalError, $"network '{def.Name}' uses a direct mode, but has no forward dev and no interface pool");
                dev = def.Forward.Interfaces.FirstOrDefault(i => i.Type == HostdevDeviceType.Netdev && i.Dev == port.Plug.LinkDev)
                    ?? throw Err(VirErrorCode.InternalError, $"network '{def.Name}' doesn't have dev='{port.Plug.LinkDev}' in use by domain");
                break;
            case NetworkPortPlugType.HostdevPci:
                if (def.Forward.Interfaces.Count == 0)
                    throw Err(VirErrorCode.InternalError, $"network '{def.Name}' uses a hostdev mode, but has no forward dev and no interface pool");
                PciAddress a = port.Plug.Address;
                dev = def.Forward.Interfaces.FirstOrDefault(i => i.Type == HostdevDeviceType.Pci && i.Pci.SameDevice(a))
                    ?? throw Err(VirErrorCode.InternalError, $"network '{def.Name}' doesn't have PCI device {Hex(a)} in use by domain");
                break;
        }
        def.Connections--;
        if (dev is not null) dev.Connections--;
    }
}
