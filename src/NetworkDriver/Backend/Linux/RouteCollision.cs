using System.Net;
using VirtNetworkd.Errors;
using VirtNetworkd.NetworkDriver.Backend.Netlink;
using VirtNetworkd.NetworkDriver.Xml;

namespace VirtNetworkd.NetworkDriver.Backend.Linux;

/// <summary>
/// networkCheckRouteCollision: before a network's bridge is made, a route of the host's main
/// table that already covers one of its subnets (or one of its static routes) means another
/// interface owns that network, and the start fails. libvirt reads /proc/net/route, so IPv4 only;
/// we read the routing table over netlink and check IPv6 the same way.
/// </summary>
public static class RouteCollision
{
    /// <summary>Throws libvirt's error for the first collision between <paramref name="routes"/>
    /// (a dump of the host's routes) and the network's addresses or static routes.</summary>
    public static void Check(NetworkDef def, IEnumerable<RouteInfo> routes, IReadOnlyDictionary<int, string> interfaceNames)
    {
        foreach (var route in routes)
        {
            if (route.Table != Nl.RtTableMain || route.Type != Nl.RtnUnicast) continue;
            // the kernel keeps a route's destination masked to its prefix
            var destination = route.Destination ?? (route.Family == Nl.AfInet ? IPAddress.Any : IPAddress.IPv6Any);
            string iface = interfaceNames.TryGetValue(route.OutputInterface, out var n) ? n : "";
            foreach (var ip in def.Ips)
            {
                var address = ip.Address.ToIPAddress();
                int prefix = ip.GetPrefix();
                if (address is null || prefix < 0 || FamilyOf(address) != route.Family || prefix != route.DestinationLength) continue;
                if (ip.GetNetworkAddress().ToIPAddress()!.Equals(destination))
                    throw new LibvirtError(VirErrorCode.InternalError, VirErrorDomain.Network, $"Network is already in use by interface {iface}");
            }
            foreach (var r in def.Routes)
            {
                var address = r.Address.ToIPAddress();
                int prefix = r.GetPrefix();
                if (address is null || prefix < 0 || FamilyOf(address) != route.Family || prefix != route.DestinationLength) continue;
                var masked = r.Address.MaskByPrefix(prefix).ToIPAddress()!;
                if (masked.Equals(destination))
                    throw new LibvirtError(VirErrorCode.InternalError, VirErrorDomain.Network, $"Route address '{masked}' conflicts with IP address for '{iface}'");
            }
        }
    }

    private static int FamilyOf(IPAddress a) => a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? Nl.AfInet : Nl.AfInet6;
}
