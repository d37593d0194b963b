using VirtNetworkd.NetworkDriver.Xml;

namespace VirtNetworkd.NetworkDriver.Driver;

/// <summary>One DHCP lease (virNetworkDHCPLease).</summary>
public sealed record DhcpLease(
    string Iface, long ExpiryTime, int Type, string? Mac, string? Iaid,
    string IpAddr, uint Prefix, string? Hostname, string? ClientId);

/// <summary>
/// The host side of the network driver: what actually creates bridges, firewall rules and
/// dnsmasq. The driver owns one and calls it with its lock held.
/// </summary>
public interface INetworkBackend
{
    /// <summary>Brings the network up. Throws <see cref="Errors.LibvirtError"/> on failure (nothing left behind).</summary>
    void Start(NetworkDef def);

    /// <summary>Tears the network down; best effort, never throws for an already-gone network.</summary>
    void Stop(NetworkDef def);

    /// <summary>Whether a network recorded as active is still running on the host (its bridge exists).</summary>
    bool IsRunning(NetworkDef def);

    /// <summary>Whether a network device with this name exists on the host (virNetDevExists).</summary>
    bool DeviceExists(string name);

    /// <summary>The DHCP leases of a running network; <paramref name="mac"/> filters by MAC when not null.</summary>
    IReadOnlyList<DhcpLease> GetDhcpLeases(NetworkDef def, string? mac);
}
