using System.Net;
using VirtNetworkd.Errors;
using VirtNetworkd.NetworkDriver.Backend.Netlink;
using VirtNetworkd.NetworkDriver.Xml;

namespace VirtNetworkd.NetworkDriver.Backend.Linux;

/// <summary>What the start steps of a network share (a virtual network, or one on a host bridge: <see cref="HostBridgeSteps"/>).</summary>
public sealed class VirtualNetworkStart(LinuxHost host, NetworkDef def)
{
    public LinuxHost Host { get; } = host;
    public NetworkDef Def { get; } = def;
    public BackendRecord Record { get; set; } = BackendRecord.Empty;
    public int BridgeIndex { get; set; }
    public List<string> Warnings { get; } = [];
}

/// <summary>
/// The kernel part of libvirt's networkStartNetworkVirtual, in its order, each step with its undo
/// (for nat, route, open and isolated networks): the route-collision check, the bridge with the
/// network's MAC, MTU, STP and forward delay, the IPv6 sysctls, the addresses, the MAC table
/// manager, the link up, the static routes, IP forwarding (after libvirt's accept_ra check). The firewall, dnsmasq and bandwidth steps come between and after
/// these as the Linux backend grows (issue "Linux backend, part 1/2").
/// </summary>
public static class VirtualNetworkSteps
{
    public static readonly IReadOnlyList<StartStep<VirtualNetworkStart>> Bridge =
    [
        new("route collision check", CheckRoutes),
        new("bridge", CreateBridge, DeleteBridge),
        new("IPv6 sysctls", SetIPv6Sysctls),
        new("addresses", AddAddresses),
        new("MAC table manager", SetMacTableManager),
        new("link up", c => c.Host.Netlink.SetUp(c.BridgeIndex, up: true), c => c.Host.Netlink.SetUp(c.BridgeIndex, up: false)),
        new("static routes", AddRoutes),
        new("IP forwarding", EnableForwarding),
    ];

    private static void CheckRoutes(VirtualNetworkStart c)
    {
        var names = c.Host.Netlink.Links().ToDictionary(l => l.Index, l => l.Name);
        var routes = c.Host.Netlink.Routes(Nl.AfInet).Concat(c.Host.Netlink.Routes(Nl.AfInet6));
        RouteCollision.Check(c.Def, routes, names);
    }

    private static void CreateBridge(VirtualNetworkStart c)
    {
        string name = c.Def.Bridge ?? throw new LibvirtError(VirErrorCode.InternalError, VirErrorDomain.Network,
            $"network '{c.Def.Name}' has no bridge name defined");
        LinuxHost host = c.Host;
        LinkInfo link;
        try
        {
            link = host.Netlink.CreateBridge(name, c.Def.Mac, c.Def.Mtu > 0 ? c.Def.Mtu : null, c.Def.Stp,
                (uint)(c.Def.Delay * 100)); // libvirt's forward delay is in seconds; the kernel's in centiseconds
        }
        catch (NetlinkErrorException e)
        {
            throw new LibvirtError(VirErrorCode.SystemError, VirErrorDomain.Network,
                $"error creating bridge interface {name}: {System.Runtime.InteropServices.Marshal.GetPInvokeErrorMessage(e.Errno)}");
        }
        c.BridgeIndex = link.Index;
        c.Record = c.Record with { Bridge = name, BridgeCreated = true };
    }

    private static void DeleteBridge(VirtualNetworkStart c)
    {
        if (c.BridgeIndex > 0) c.Host.Netlink.DeleteLink(c.BridgeIndex);
    }

    /// <summary>networkSetIPv6Sysctls: IPv6 off on a bridge without IPv6 addresses (on, explicitly,
    /// with them); no router advertisements accepted, no autoconf.</summary>
    private static void SetIPv6Sysctls(VirtualNetworkStart c)
    {
        bool ipv6 = c.Def.Ips.Any(ip => ip.Address.IsIPv6);
        string dir = $"net/ipv6/conf/{c.Def.Bridge}/";
        if (!c.Host.WriteSysctl(dir + "disable_ipv6", ipv6 ? "0" : "1", ignoreMissing: true)) return;
        c.Host.WriteSysctl(dir + "accept_ra", "0", ignoreMissing: false);
        c.Host.WriteSysctl(dir + "autoconf", "0", ignoreMissing: false);
    }

    /// <summary>networkAddAddrToBridge: each address with its prefix (and, for IPv4, the broadcast address).</summary>
    private static void AddAddresses(VirtualNetworkStart c)
    {
        foreach (var ip in c.Def.Ips)
        {
            var address = ip.Address.ToIPAddress();
            int prefix = ip.GetPrefix();
            if (address is null || prefix < 0)
                throw new LibvirtError(VirErrorCode.InternalError, VirErrorDomain.Network, $"bridge '{c.Def.Bridge}' has an invalid netmask or IP address");
            c.Host.Netlink.AddAddress(c.BridgeIndex, address, (byte)prefix, ip.Address.IsIPv4 ? ip.Address.Broadcast(ip.GetNetmask()).ToIPAddress() : null);
        }
    }

    /// <summary>
    /// networkStartHandleMACTableManagerMode: with macTableManager='libvirt' the bridge filters by
    /// VLAN (libvirt then turns learning and unicast flooding off on each port it plugs). A kernel
    /// built without bridge VLAN filtering makes libvirt fail the start ("Unable to set bridge …
    /// vlan_filtering via ioctl"); as with other kernel features that are missing, the network
    /// starts here and the log says what was skipped.
    /// </summary>
    private static void SetMacTableManager(VirtualNetworkStart c)
    {
        if (c.Def.MacTableManager != MacTableManager.Libvirt) return;
        try
        {
            c.Host.Netlink.SetVlanFiltering(c.BridgeIndex, enable: true);
        }
        catch (NetlinkErrorException e) when (e.Errno == NetlinkErrorException.EOpNotSupp)
        {
            c.Warnings.Add($"macTableManager='libvirt': the kernel has no bridge VLAN filtering (CONFIG_BRIDGE_VLAN_FILTERING), so vlan_filtering of bridge {c.Def.Bridge} stays off");
        }
        catch (NetlinkErrorException e)
        {
            throw new LibvirtError(VirErrorCode.SystemError, VirErrorDomain.Network,
                $"Unable to set bridge {c.Def.Bridge} vlan_filtering: {System.Runtime.InteropServices.Marshal.GetPInvokeErrorMessage(e.Errno)}");
        }
    }

    /// <summary>networkAddRouteToBridge for routes with a gateway; as libvirt, a route that cannot
    /// be added is reported and the start goes on.</summary>
    private static void AddRoutes(VirtualNetworkStart c)
    {
        foreach (var r in c.Def.Routes)
        {
            var gateway = r.Gateway.ToIPAddress();
            var address = r.Address.ToIPAddress();
            if (gateway is null || address is null) continue;
            try
            {
                c.Host.Netlink.AddRoute(address, (byte)r.GetPrefix(), gateway, c.BridgeIndex, r.HasMetric ? r.Metric : null);
            }
            catch (NetlinkErrorException e)
            {
                c.Warnings.Add($"failed to add route {address}/{r.GetPrefix()} via {gateway}: {e.Message}");
            }
        }
    }

    /// <summary>networkEnableIPForwarding when the network forwards.</summary>
    private static void EnableForwarding(VirtualNetworkStart c)
    {
        if (c.Def.Forward.Type == ForwardType.None) return;
        if (c.Def.Ips.Any(ip => ip.Address.IsIPv6)) IPv6ForwardingCheck.Check(c.Host);
        if (c.Def.Ips.Any(ip => ip.Address.IsIPv4)) c.Host.WriteSysctl("net/ipv4/ip_forward", "1\n", ignoreMissing: false);
        if (c.Def.Ips.Any(ip => ip.Address.IsIPv6)) c.Host.WriteSysctl("net/ipv6/conf/all/forwarding", "1\n", ignoreMissing: false);
    }

    /// <summary>
    /// networkShutdownNetworkVirtual's kernel part: the bridge goes (with its addresses and
    /// routes). libvirt sets it down first; the deletion closes it all the same (the same
    /// dev_deactivate and RCU wait), so that separate request is left out. Returns when the
    /// bridge is gone from the namespace (<see cref="LinkDeletion"/>).
    /// </summary>
    public static void Stop(LinuxHost host, BackendRecord record, Action<string>? log = null)
    {
        using var deletion = BeginStop(host, record, log);
        deletion?.Wait();
    }

    /// <summary>As <see cref="Stop"/>, the caller doing other work before the deletion's Wait; null when there is no bridge to delete.</summary>
    public static LinkDeletion.Pending? BeginStop(LinuxHost host, BackendRecord record, Action<string>? log = null)
    {
        ArgumentNullException.ThrowIfNull(host);
        ArgumentNullException.ThrowIfNull(record);
        if (!record.BridgeCreated || record.Bridge is null) return null;
        return host.Netlink.GetLink(record.Bridge) is { } link ? host.BeginDeleteLink(link.Index, log ?? (_ => { })) : null;
    }
}
