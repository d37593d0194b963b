using VirtNetworkd.NetworkDriver.Backend;
using VirtNetworkd.NetworkDriver.Xml;
using VirtNetworkd.NetworkDriver.Xml.Net;

namespace VirtNetworkd.NetworkDriver.Driver;

/// <summary>One DHCP lease (virNetworkDHCPLease).</summary>
public sealed record DhcpLease(
    string Iface, long ExpiryTime, int Type, string? Mac, string? Iaid,
    string IpAddr, uint Prefix, string? Hostname, string? ClientId);

/// <summary>A virtual function of an SR-IOV physical function: its PCI address, and its netdev name when bound to a network driver.</summary>
public readonly record struct VirtualFunction(PciAddress Address, string? IfName);

/// <summary>A running port's inbound floor: the QoS class <paramref name="ClassId"/> it owns on the network's bridge (networkPlugBandwidth).</summary>
public readonly record struct PortFloor(MacAddr Mac, BandwidthDef Bandwidth, uint ClassId);

/// <summary>
/// The host side of the network driver: what actually creates bridges, firewall rules and
/// dnsmasq. The driver decides policy and keeps state; the backend only does, and returns a
/// <see cref="BackendRecord"/> of what it did. The driver calls it with the lock of the network
/// concerned held (never the driver-wide lock), so calls for different networks run at the same
/// time: implementations are thread-safe.
/// </summary>
public interface INetworkBackend
{
    /// <summary>
    /// Brings the network up, as a sequence of steps each with its undo (<see cref="StepRunner"/>):
    /// on failure the steps done are undone and the first error is thrown as a
    /// <see cref="Errors.LibvirtError"/>, with nothing left behind.
    /// </summary>
    BackendRecord Start(NetworkDef def);

    /// <summary>Tears the network down using what <paramref name="record"/> says was done (which may come from a status file written before a daemon restart, by us or by libvirt); best effort, never throws for what is already gone.</summary>
    void Stop(NetworkDef def, BackendRecord record);

    /// <summary>
    /// net-update --live on a running network: makes the host follow <paramref name="newDef"/>
    /// (rewrite dnsmasq's files and signal it, reload firewall rules) for a change of
    /// <paramref name="section"/> (virNetworkUpdateSection) by <paramref name="command"/>
    /// (virNetworkUpdateCommand). Returns the record as it is afterwards; throws on failure,
    /// leaving the host as <paramref name="oldDef"/> had it.
    /// </summary>
    BackendRecord UpdateLive(NetworkDef oldDef, NetworkDef newDef, BackendRecord record, int section, int command);

    /// <summary>
    /// At daemon start and on SIGHUP, for a network the status files say is running: is it still
    /// there? If so, put back what is missing (firewall rules flushed by someone else, a dead
    /// dnsmasq) and return the record as it is now; if not, say so and the driver marks it inactive.
    /// </summary>
    ReconcileResult Reconcile(NetworkDef def, BackendRecord record);

    /// <summary>
    /// Raised by the backend's own threads (never from inside a call the driver made) when a
    /// running network fails by itself; the driver reports it and acts on it.
    /// </summary>
    event EventHandler<BackendFaultEventArgs>? Fault;

    /// <summary>Whether a network device with this name exists on the host (virNetDevExists).</summary>
    bool DeviceExists(string name);

    /// <summary>The DHCP leases of a running network; <paramref name="mac"/> filters by MAC when not null; without
    /// <paramref name="needResults"/> only their count matters (libvirt then asks less of each lease). Called with no lock held.</summary>
    IReadOnlyList<DhcpLease> GetDhcpLeases(NetworkDef def, string? mac, bool needResults);

    /// <summary>
    /// networkRemoveInactive's files: the host files of a network that is gone for good (undefined
    /// while inactive, or transient and stopped), such as its leases; a network defined again
    /// later under the same name starts without them.
    /// </summary>
    void RemoveInactive(NetworkDef def) { }

    /// <summary>virNetDevGetVirtualFunctions: the VFs of <paramref name="pfDev"/>, or null when they cannot be read.</summary>
    IReadOnlyList<VirtualFunction>? GetVirtualFunctions(string pfDev);

    /// <summary>virNetDevBandwidthPlug: a QoS class <paramref name="classId"/> for a port's inbound floor on the network's bridge. Throws on failure.</summary>
    void PlugBandwidth(NetworkDef net, MacAddr mac, BandwidthDef portBandwidth, uint classId);

    /// <summary>virNetDevBandwidthUnplug: removes QoS class <paramref name="classId"/>; throws on failure.</summary>
    void UnplugBandwidth(NetworkDef net, uint classId);

    /// <summary>virNetDevBandwidthUpdateRate: sets the rate of class <paramref name="classId"/> (2 = the class of ports without a floor); throws on failure.</summary>
    void UpdateBandwidthRate(NetworkDef net, uint classId, ulong rate);

    /// <summary>
    /// At daemon start and on SIGHUP, after <see cref="Reconcile"/> found the network running and
    /// its ports are known: put back what is missing of the network's &lt;bandwidth&gt; on its
    /// bridge and of its ports' <paramref name="floors"/> (class 1:2 at
    /// <paramref name="unguaranteedRate"/> when there are floors), leaving alone what is there.
    /// Beyond libvirt, which never looks. Throws on failure.
    /// </summary>
    void ReconcileBandwidth(NetworkDef net, IReadOnlyList<PortFloor> floors, ulong? unguaranteedRate);
}
