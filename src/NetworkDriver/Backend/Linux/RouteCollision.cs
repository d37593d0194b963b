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
            var destination = Masked(route.Destination ?? (route.Family == Nl.AfInet ? IPAddress.Any : IPAddress.IPv6Any), route.DestinationLength);
            string iface = interfaceNames.TryGetValue(route.OutputInterface, out var n) ? n : "";
            foreach (var ip in def.Ips)
            {
                var address = ip.Address.ToIPAddress();
                int prefix = ip.GetPrefix();
                if (address is null || prefix < 0 || FamilyOf(address) != route.Family || prefix != route.DestinationLength) continue;
                if (Masked(address, prefix).Equals(destination))
                    throw new LibvirtError(VirErrorCode.InternalError, VirErrorDomain.Network, $"Network is already in use by interface {iface}");
            }
            foreach (var r in def.Routes)
            {
                var address = r.Address.ToIPAddress();
                int prefix = r.GetPrefix();
                if (address is null || prefix < 0 || FamilyOf(address) != route.Family || prefix != route.DestinationLength) continue;
                var masked = Masked(address, prefix);
                if (masked.Equals(destination))
                    throw new LibvirtError(VirErrorCode.InternalError, VirErrorDomain.Network, $"Route address '{masked}' conflicts with IP address for '{iface}'");
            }
        }
    }

    private static int FamilyOf(IPAddress a) => a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? Nl.AfInet : Nl.AfInet6;

    private static IPAddress Masked(IPAddress address, int prefix)
    {
        byte[] bytes = address.GetAddressBytes();
        for (int i = 0; i < bytes.Length; i++)
        {
            int bits = Math.Clamp(prefix - i * 8, 0, 8);
            bytes[i] &= (byte)(0xff << (8 - bits));
        }
        return new IPAddress(bytes);
    }
}
