using VirtNetworkd.NetworkDriver.Backend;
using VirtNetworkd.NetworkDriver.Driver;
using VirtNetworkd.NetworkDriver.Xml;
using VirtNetworkd.NetworkDriver.Xml.Net;

namespace VirtNetworkd.Tests.Shared;

/// <summary>The in-process backend with host work that takes time: Start and Stop sleep, as a
/// net-start that runs bridges, firewall batches and dnsmasq (or a stuck one) would.</summary>
public sealed class SlowBackend(TimeSpan delay) : INetworkBackend
{
    private readonly InProcessBackend _inner = new();

    public event EventHandler<BackendFaultEventArgs>? Fault { add { } remove { } }

    public BackendRecord Start(NetworkDef def)
    {
        Thread.Sleep(delay);
        return _inner.Start(def);
    }

    public void Stop(NetworkDef def, BackendRecord record)
    {
        Thread.Sleep(delay);
        _inner.Stop(def, record);
    }

    public BackendRecord UpdateLive(NetworkDef oldDef, NetworkDef newDef, BackendRecord record, int section, int command) =>
        _inner.UpdateLive(oldDef, newDef, record, section, command);

    public ReconcileResult Reconcile(NetworkDef def, BackendRecord record) => _inner.Reconcile(def, record);
    public bool DeviceExists(string name) => _inner.DeviceExists(name);
    public IReadOnlyList<DhcpLease> GetDhcpLeases(NetworkDef def, string? mac, bool needResults) => _inner.GetDhcpLeases(def, mac, needResults);
    public IReadOnlyList<VirtualFunction>? GetVirtualFunctions(string pfDev) => _inner.GetVirtualFunctions(pfDev);
    public void PlugBandwidth(NetworkDef net, MacAddr mac, BandwidthDef portBandwidth, uint classId) => _inner.PlugBandwidth(net, mac, portBandwidth, classId);
    public void UnplugBandwidth(NetworkDef net, uint classId) => _inner.UnplugBandwidth(net, classId);
    public void UpdateBandwidthRate(NetworkDef net, uint classId, ulong rate) => _inner.UpdateBandwidthRate(net, classId, rate);
    public void ReconcileBandwidth(NetworkDef net, IReadOnlyList<PortFloor> floors, ulong? unguaranteedRate) => _inner.ReconcileBandwidth(net, floors, unguaranteedRate);
}
