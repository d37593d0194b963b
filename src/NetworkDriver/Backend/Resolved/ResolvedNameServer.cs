using System.Net;
using System.Net.Sockets;
using VirtNetworkd.NetworkDriver.Xml;

namespace VirtNetworkd.NetworkDriver.Backend.Resolved;

/// <summary>
/// What a network with &lt;domain register='yes'/&gt; tells systemd-resolved when it starts
/// (libvirt 10.0 and later, networkStartNetworkVirtual): its domain, as a routing-only domain,
/// and one DNS server, the address of the network's first &lt;ip&gt; whatever its family (where
/// its dnsmasq listens). Only networks with an address and a domain register.
/// </summary>
public sealed record ResolvedNameServer(string Domain, IPAddress Address)
{
    /// <summary>The registration a network's start makes, or null when it makes none.</summary>
    public static ResolvedNameServer? For(NetworkDef def)
    {
        ArgumentNullException.ThrowIfNull(def);
        if (def.DomainRegister != TristateBool.Yes || def.Domain is not { } domain || def.Ips.Count == 0) return null;
        return def.Ips[0].Address.ToIPAddress() is { } address ? new ResolvedNameServer(domain, address) : null;
    }

    /// <summary>The address family as resolved's SetLinkDNS takes it: Linux's AF_INET or AF_INET6.</summary>
    public int Family => Address.AddressFamily == AddressFamily.InterNetworkV6 ? 10 : 2;
}
