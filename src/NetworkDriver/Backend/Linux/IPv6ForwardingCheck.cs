using System.Globalization;
using VirtNetworkd.Errors;

namespace VirtNetworkd.NetworkDriver.Backend.Linux;

/// <summary>
/// virNetDevIPCheckIPv6Forwarding: before IPv6 forwarding is turned on, a route the kernel learned
/// from a router advertisement (RTF_ADDRCONF in /proc/net/ipv6_route) on an interface whose
/// accept_ra is 1 (or 0 while all/accept_ra is 1) would be flushed by the kernel, cutting the
/// host's IPv6: the start fails with libvirt's message instead. One difference: libvirt reads the
/// interface column with sscanf's %8s, so it misses interfaces whose names are longer than 8
/// characters (enp0s31f6…); we read the whole name.
/// </summary>
public static class IPv6ForwardingCheck
{
    /// <summary>RTF_ADDRCONF of linux/ipv6_route.h.</summary>
    private const uint RtfAddrconf = 0x00040000;

    /// <summary>The file libvirt names in its error (PROC_NET_IPV6_ROUTE).</summary>
    public const string RouteFile = "/proc/net/ipv6_route";

    /// <summary>Throws libvirt's error when turning on IPv6 forwarding would flush autoconfigured routes.</summary>
    public static void Check(LinuxHost host)
    {
        ArgumentNullException.ThrowIfNull(host);
        string routes;
        try
        {
            // the calling thread's namespace (the test's NamespaceThread); /proc/net is the process's
            routes = host.ReadFile("/proc/thread-self/net/ipv6_route");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new LibvirtError(VirErrorCode.InternalError, VirErrorDomain.Network, $"Unable to read {RouteFile} for ipv6 forwarding checks");
        }
        if (FirstUnsafeInterface(routes, iface => AcceptRa(host, iface)) is { } unsafeInterface)
            throw new LibvirtError(VirErrorCode.InternalError, VirErrorDomain.Network,
                $"Check the host setup: interface {unsafeInterface} has kernel autoconfigured IPv6 routes and enabling forwarding without accept_ra set to 2 will cause the kernel to flush them, breaking networking.");
    }

    /// <summary>
    /// The first interface of <paramref name="ipv6Route"/> (the text of /proc/net/ipv6_route) with
    /// an autoconfigured route whose routes forwarding would flush, or null. <paramref name="acceptRa"/>
    /// gives an interface's accept_ra (null: "all"), -1 when it cannot be read.
    /// </summary>
    public static string? FirstUnsafeInterface(string ipv6Route, Func<string?, int> acceptRa)
    {
        ArgumentNullException.ThrowIfNull(ipv6Route);
        ArgumentNullException.ThrowIfNull(acceptRa);
        int all = acceptRa(null);
        foreach (var line in ipv6Route.Split('\n'))
        {
            // destination, its length, source, its length, next hop, metric, refcount, use, flags, device
            var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length < 10) continue;
            if (!uint.TryParse(fields[8], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out uint flags)) continue;
            if ((flags & RtfAddrconf) == 0) continue;
            int value = acceptRa(fields[9]);
            if (value == 1 || (value == 0 && all == 1)) return fields[9];
        }
        return null;
    }

    private static int AcceptRa(LinuxHost host, string? iface)
    {
        try
        {
            return int.TryParse(host.ReadSysctl($"net/ipv6/conf/{iface ?? "all"}/accept_ra"), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int v) ? v : -1;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return -1;
        }
    }
}
