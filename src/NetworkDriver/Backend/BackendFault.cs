namespace VirtNetworkd.NetworkDriver.Backend;

/// <summary>
/// A backend's report that something went wrong with a running network on its own (dnsmasq
/// died, the bridge was deleted behind our back). <see cref="NetworkGone"/> says the network
/// no longer runs at all; otherwise the driver asks the backend to repair it (Reconcile).
/// </summary>
public sealed record BackendFaultEventArgs(string Network, Guid Uuid, string Message, bool NetworkGone);

/// <summary>Reconcile's answer: whether the network still runs, and the record as it is now (e.g. with a restarted dnsmasq's pid).</summary>
public sealed record ReconcileResult(bool Running, BackendRecord Record)
{
    public static ReconcileResult Gone { get; } = new(false, BackendRecord.Empty);
}
