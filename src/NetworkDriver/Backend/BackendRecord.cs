using VirtNetworkd.NetworkDriver.Xml;

namespace VirtNetworkd.NetworkDriver.Backend;

/// <summary>
/// What a backend did to the host to start one network, returned by Start and given back to
/// Stop, Reconcile and UpdateLive. The driver keeps it on the network and in the network's
/// status file, so it is the one record: a restarted daemon (or libvirt) finds it there.
/// </summary>
public sealed record BackendRecord
{
    public static readonly BackendRecord Empty = new();

    /// <summary>The commands that undo the firewall rules added (libvirt's &lt;fwRemoval&gt;); null when none were added.</summary>
    public FirewallPlan? FirewallRemoval { get; init; }

    /// <summary>The bridge the network runs on, and whether the start created it (then stop deletes it).</summary>
    public string? Bridge { get; init; }
    public bool BridgeCreated { get; init; }

    /// <summary>The dnsmasq serving the network, when one was started.</summary>
    public int? DnsmasqPid { get; init; }

    /// <summary>
    /// The live definition as the backend completed it (libvirt fills in e.g. the NAT port
    /// range); null when unchanged. Only Start sets it; the driver makes it the live definition,
    /// which the status file keeps, so it is not stored again.
    /// </summary>
    public NetworkDef? LiveDefinition { get; init; }
}
