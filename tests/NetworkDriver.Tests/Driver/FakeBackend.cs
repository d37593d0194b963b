using VirtNetworkd.NetworkDriver.Backend;
using VirtNetworkd.NetworkDriver.Driver;
using VirtNetworkd.NetworkDriver.Xml;
using VirtNetworkd.NetworkDriver.Xml.Net;

namespace VirtNetworkd.NetworkDriver.Tests.Driver;

/// <summary>
/// A backend for tests: it keeps in memory which networks run on its pretend host (what a real
/// host would keep across a daemon restart), and offers hooks to inject failures, slow starts
/// and stops, host devices, networks that vanish and faults.
/// </summary>
public sealed class FakeBackend : INetworkBackend
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, string?> _running = new(StringComparer.Ordinal); // name → bridge
    private readonly HashSet<string> _hostDevices = new(StringComparer.Ordinal);
    private readonly Dictionary<string, IReadOnlyList<VirtualFunction>> _vfs = new(StringComparer.Ordinal);

    public event EventHandler<BackendFaultEventArgs>? Fault;

    /// <summary>Called by <see cref="Start"/> before anything is done (throw to fail the start).</summary>
    public Action<NetworkDef>? OnStart { get; set; }

    /// <summary>How long Start and Stop take for the networks named in <see cref="SlowNetworks"/>.</summary>
    public TimeSpan Delay { get; set; }
    public HashSet<string> SlowNetworks { get; } = new(StringComparer.Ordinal);

    private void Work(string network)
    {
        bool slow;
        lock (_lock) slow = SlowNetworks.Contains(network);
        if (slow) Thread.Sleep(Delay);
    }

    /// <summary>The record Start returns; by default the bridge it "created".</summary>
    public Func<NetworkDef, BackendRecord> RecordFor { get; set; } =
        def => new BackendRecord { Bridge = def.Bridge, BridgeCreated = def.Bridge is not null };

    /// <summary>What Reconcile returns for a network still running (default: the record unchanged).</summary>
    public Func<NetworkDef, BackendRecord, BackendRecord>? Repair { get; set; }

    /// <summary>Every Stop call: the network and the record it was given back.</summary>
    public List<(string Network, BackendRecord Record)> Stops { get; } = [];

    /// <summary>Every UpdateLive call: network, section, command.</summary>
    public List<(string Network, int Section, int Command)> LiveUpdates { get; } = [];

    public int Starts;

    /// <summary>Networks running on the pretend host.</summary>
    public IReadOnlyCollection<string> RunningNetworks { get { lock (_lock) return _running.Keys.ToArray(); } }

    public BackendRecord Start(NetworkDef def)
    {
        ArgumentNullException.ThrowIfNull(def);
        OnStart?.Invoke(def);
        Work(def.Name);
        Interlocked.Increment(ref Starts);
        lock (_lock)
        {
            if (_running.ContainsKey(def.Name)) throw new InvalidOperationException($"{def.Name} started twice");
            _running[def.Name] = def.Bridge;
        }
        return RecordFor(def);
    }

    public void Stop(NetworkDef def, BackendRecord record)
    {
        ArgumentNullException.ThrowIfNull(def);
        Work(def.Name);
        lock (_lock)
        {
            _running.Remove(def.Name);
            Stops.Add((def.Name, record));
        }
    }

    public BackendRecord UpdateLive(NetworkDef oldDef, NetworkDef newDef, BackendRecord record, int section, int command)
    {
        ArgumentNullException.ThrowIfNull(newDef);
        lock (_lock) LiveUpdates.Add((newDef.Name, section, command));
        return record;
    }

    public ReconcileResult Reconcile(NetworkDef def, BackendRecord record)
    {
        ArgumentNullException.ThrowIfNull(def);
        lock (_lock)
            if (!_running.ContainsKey(def.Name)) return ReconcileResult.Gone;
        return new ReconcileResult(true, Repair?.Invoke(def, record) ?? record);
    }

    /// <summary>Marks a network as running without going through <see cref="Start"/> (a survivor of a daemon restart).</summary>
    public void MarkRunning(string name, string? bridge) { lock (_lock) _running[name] = bridge; }

    /// <summary>The network disappears from the host behind the driver's back.</summary>
    public void Vanish(string name) { lock (_lock) _running.Remove(name); }

    /// <summary>Reports a fault, as a host backend's monitor thread would.</summary>
    public void RaiseFault(string network, Guid uuid, string message, bool gone) =>
        Fault?.Invoke(this, new BackendFaultEventArgs(network, uuid, message, gone));

    /// <summary>Pretends a device of this name exists on the host (e.g. "virbr0" from elsewhere).</summary>
    public void AddHostDevice(string name) { lock (_lock) _hostDevices.Add(name); }

    public bool DeviceExists(string name)
    {
        lock (_lock) return _hostDevices.Contains(name) || _running.ContainsValue(name);
    }

    public IReadOnlyList<DhcpLease> GetDhcpLeases(NetworkDef def, string? mac, bool needResults) => [];

    /// <summary>Declares the VFs of a PF, instead of reading them from sysfs.</summary>
    public void SetVirtualFunctions(string pfDev, IReadOnlyList<VirtualFunction> vfs) { lock (_lock) _vfs[pfDev] = vfs; }

    public IReadOnlyList<VirtualFunction>? GetVirtualFunctions(string pfDev)
    {
        lock (_lock) return _vfs.TryGetValue(pfDev, out var declared) ? declared : null;
    }

    // QoS classes are the in-process backend's bookkeeping, kept here across stops
    private readonly InProcessBackend _qos = new();

    /// <summary>QoS classes put on a bridge: class id → rate.</summary>
    public IReadOnlyDictionary<uint, ulong> BandwidthClasses(string bridge) => _qos.BandwidthClasses(bridge);

    public void PlugBandwidth(NetworkDef net, MacAddr mac, BandwidthDef portBandwidth, uint classId) => _qos.PlugBandwidth(net, mac, portBandwidth, classId);

    public void UnplugBandwidth(NetworkDef net, uint classId) => _qos.UnplugBandwidth(net, classId);

    public void UpdateBandwidthRate(NetworkDef net, uint classId, ulong rate) => _qos.UpdateBandwidthRate(net, classId, rate);

    /// <summary>Every ReconcileBandwidth call: the network, its ports' floors, the unguaranteed rate.</summary>
    public List<(string Network, IReadOnlyList<PortFloor> Floors, ulong? Rate)> BandwidthReconciles { get; } = [];

    public void ReconcileBandwidth(NetworkDef net, IReadOnlyList<PortFloor> floors, ulong? unguaranteedRate)
    {
        ArgumentNullException.ThrowIfNull(net);
        lock (_lock) BandwidthReconciles.Add((net.Name, floors, unguaranteedRate));
        _qos.ReconcileBandwidth(net, floors, unguaranteedRate);
    }
}
