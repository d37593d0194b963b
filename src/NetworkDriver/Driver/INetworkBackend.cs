using VirtNetworkd.NetworkDriver.Xml;
using VirtNetworkd.NetworkDriver.Xml.Net;

namespace VirtNetworkd.NetworkDriver.Driver;

/// <summary>One DHCP lease (virNetworkDHCPLease).</summary>
public sealed record DhcpLease(
    string Iface, long ExpiryTime, int Type, string? Mac, string? Iaid,
    string IpAddr, uint Prefix, string? Hostname, string? ClientId);

/// <summary>A virtual function of an SR-IOV physical function: its PCI address, and its netdev name when bound to a network driver.</summary>
public readonly record struct VirtualFunction(PciAddress Address, string? IfName);

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

    /// <summary>virNetDevGetVirtualFunctions: the VFs of <paramref name="pfDev"/>, or null when they cannot be read.</summary>
    IReadOnlyList<VirtualFunction>? GetVirtualFunctions(string pfDev);

    /// <summary>virNetDevBandwidthPlug: a QoS class <paramref name="classId"/> for a port's inbound floor on the network's bridge. Throws on failure.</summary>
    void PlugBandwidth(NetworkDef net, MacAddr mac, BandwidthDef portBandwidth, uint classId);

    /// <summary>virNetDevBandwidthUnplug: removes QoS class <paramref name="classId"/>; throws on failure.</summary>
    void UnplugBandwidth(NetworkDef net, uint classId);

    /// <summary>virNetDevBandwidthUpdateRate: sets the rate of class <paramref name="classId"/> (2 = the class of ports without a floor); throws on failure.</summary>
    void UpdateBandwidthRate(NetworkDef net, uint classId, ulong rate);
}
