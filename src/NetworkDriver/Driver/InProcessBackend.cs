using VirtNetworkd.NetworkDriver.Xml;
using VirtNetworkd.NetworkDriver.Xml.Net;

namespace VirtNetworkd.NetworkDriver.Driver;

/// <summary>
/// A backend that touches nothing on the host: it remembers which networks it started and
/// the bridge names they use. Given a folder, it keeps that record there too (one file per
/// running network, naming its bridge), so, like real bridges, its networks outlive a daemon
/// restart. Thread-safe on its own.
/// </summary>
public sealed class InProcessBackend : INetworkBackend
{
    private readonly Lock _lock = new();
    private readonly string? _dir;

    public InProcessBackend(string? stateDir = null)
    {
        _dir = stateDir;
        if (_dir is null || !Directory.Exists(_dir)) return;
        AtomicFile.RemoveStaleTemps(_dir);
        foreach (var file in Directory.GetFiles(_dir, "*.running"))
        {
            string name = Path.GetFileNameWithoutExtension(file);
            string bridge = File.ReadAllText(file).Trim();
            _running[name] = bridge.Length == 0 ? null : bridge;
        }
    }
    private readonly Dictionary<string, string?> _running = new(StringComparer.Ordinal); // name → bridge
    private readonly HashSet<string> _hostDevices = new(StringComparer.Ordinal);

    /// <summary>Optional failure injection: called by <see cref="Start"/> before anything is recorded.</summary>
    public Action<NetworkDef>? OnStart { get; set; }

    /// <summary>Pretends a device of this name exists on the host (e.g. "virbr0" from elsewhere).</summary>
    public void AddHostDevice(string name) { lock (_lock) _hostDevices.Add(name); }

    /// <summary>Names of the networks currently running.</summary>
    public IReadOnlyCollection<string> RunningNetworks { get { lock (_lock) return _running.Keys.ToArray(); } }

    public void Start(NetworkDef def)
    {
        ArgumentNullException.ThrowIfNull(def);
        OnStart?.Invoke(def);
        lock (_lock)
        {
            _running[def.Name] = def.Bridge;
            if (_dir is not null) AtomicFile.Write(RecordOf(def.Name), def.Bridge ?? "");
        }
    }

    public void Stop(NetworkDef def)
    {
        ArgumentNullException.ThrowIfNull(def);
        lock (_lock)
        {
            _running.Remove(def.Name);
            if (_dir is not null) AtomicFile.Delete(RecordOf(def.Name));
        }
    }

    private string RecordOf(string name) => Path.Combine(_dir!, name + ".running");

    public bool IsRunning(NetworkDef def)
    {
        ArgumentNullException.ThrowIfNull(def);
        lock (_lock) return _running.ContainsKey(def.Name);
    }

    /// <summary>Marks a network as running without going through <see cref="Start"/> (a survivor of a daemon restart).</summary>
    public void MarkRunning(string name, string? bridge) { lock (_lock) _running[name] = bridge; }

    public bool DeviceExists(string name)
    {
        lock (_lock) return _hostDevices.Contains(name) || _running.ContainsValue(name);
    }

    public IReadOnlyList<DhcpLease> GetDhcpLeases(NetworkDef def, string? mac) => [];

    private readonly Dictionary<string, IReadOnlyList<VirtualFunction>> _vfs = new(StringComparer.Ordinal);

    /// <summary>Declares the VFs of a PF, instead of reading them from sysfs.</summary>
    public void SetVirtualFunctions(string pfDev, IReadOnlyList<VirtualFunction> vfs) { lock (_lock) _vfs[pfDev] = vfs; }

    public IReadOnlyList<VirtualFunction>? GetVirtualFunctions(string pfDev)
    {
        ArgumentNullException.ThrowIfNull(pfDev);
        lock (_lock)
            if (_vfs.TryGetValue(pfDev, out var declared)) return declared;
        return SysfsVirtualFunctions.Read(pfDev);
    }

    /// <summary>QoS classes the in-process backend would have put on each bridge: class id → rate, by bridge.</summary>
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
}
