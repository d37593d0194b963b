using VirtNetworkd.NetworkDriver.Backend;
using VirtNetworkd.NetworkDriver.Xml;
using VirtNetworkd.NetworkDriver.Xml.Net;

namespace VirtNetworkd.NetworkDriver.Driver;

/// <summary>
/// A backend that touches nothing on the host. Its start is the same sequence of steps a host
/// backend runs, with nothing behind them, and its record (the bridge a network "created") goes
/// into the status file like any other; it keeps no state of its own beyond the QoS classes it
/// was asked for (known again from the ports after a restart), so after a daemon restart a network is running exactly when its status file
/// says so. Thread-safe.
/// </summary>
public sealed class InProcessBackend : INetworkBackend
{
    private readonly Lock _lock = new();

    /// <summary>Never raised: nothing runs on its own here.</summary>
    public event EventHandler<BackendFaultEventArgs>? Fault { add { } remove { } }

    private sealed class StartContext(NetworkDef def)
    {
        public NetworkDef Def { get; } = def;
        public BackendRecord Record { get; set; } = BackendRecord.Empty;
    }

    private static readonly StartStep<StartContext>[] StartSteps =
    [
        new("bridge", c => c.Record = c.Record with { Bridge = c.Def.Bridge, BridgeCreated = c.Def.Bridge is not null && IsVirtual(c.Def) }),
    ];

    private static bool IsVirtual(NetworkDef def) =>
        def.Forward.Type is ForwardType.None or ForwardType.Nat or ForwardType.Route or ForwardType.Open;

    public BackendRecord Start(NetworkDef def)
    {
        ArgumentNullException.ThrowIfNull(def);
        var context = new StartContext(def);
        StepRunner.Run(StartSteps, context);
        return context.Record;
    }

    public void Stop(NetworkDef def, BackendRecord record)
    {
        ArgumentNullException.ThrowIfNull(def);
        lock (_lock) _classes.Remove(def.Bridge ?? "");
    }

    public BackendRecord UpdateLive(NetworkDef oldDef, NetworkDef newDef, BackendRecord record, int section, int command) => record;

    /// <summary>Nothing on the host can have gone: the status file is the truth.</summary>
    public ReconcileResult Reconcile(NetworkDef def, BackendRecord record) => new(true, record);

    public bool DeviceExists(string name) => false;

    public IReadOnlyList<DhcpLease> GetDhcpLeases(NetworkDef def, string? mac, bool needResults) => [];

    public IReadOnlyList<VirtualFunction>? GetVirtualFunctions(string pfDev) => SysfsVirtualFunctions.Read(pfDev);

    /// <summary>QoS classes the in-process backend would have put on a bridge: class id → rate.</summary>
    public IReadOnlyDictionary<uint, ulong> BandwidthClasses(string bridge)
    {
        lock (_lock) return _classes.TryGetValue(bridge, out var c) ? new Dictionary<uint, ulong>(c) : [];
    }

    private readonly Dictionary<string, Dictionary<uint, ulong>> _classes = new(StringComparer.Ordinal);

    private Dictionary<uint, ulong> Classes(NetworkDef net)
    {
        string bridge = net.Bridge ?? "";
        if (!_classes.TryGetValue(bridge, out var c)) _classes[bridge] = c = [];
        return c;
    }

    public void PlugBandwidth(NetworkDef net, MacAddr mac, BandwidthDef portBandwidth, uint classId)
    {
        ArgumentNullException.ThrowIfNull(net);
        ArgumentNullException.ThrowIfNull(portBandwidth);
        lock (_lock) Classes(net)[classId] = portBandwidth.Inbound?.Floor ?? 0;
    }

    public void UnplugBandwidth(NetworkDef net, uint classId)
    {
        ArgumentNullException.ThrowIfNull(net);
        lock (_lock) Classes(net).Remove(classId);
    }

    public void UpdateBandwidthRate(NetworkDef net, uint classId, ulong rate)
    {
        ArgumentNullException.ThrowIfNull(net);
        lock (_lock) Classes(net)[classId] = rate;
    }

    /// <summary>After a daemon restart the classes of the ports' floors are known again.</summary>
    public void ReconcileBandwidth(NetworkDef net, IReadOnlyList<PortFloor> floors, ulong? unguaranteedRate)
    {
        ArgumentNullException.ThrowIfNull(net);
        ArgumentNullException.ThrowIfNull(floors);
        lock (_lock)
        {
            var classes = Classes(net);
            foreach (var f in floors) classes.TryAdd(f.ClassId, f.Bandwidth.Inbound?.Floor ?? 0);
            if (unguaranteedRate is { } rate) classes.TryAdd(2, rate);
        }
    }
}
