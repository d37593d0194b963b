using VirtNetworkd.NetworkDriver.Backend.Firewall;
using VirtNetworkd.NetworkDriver.Driver;
using VirtNetworkd.NetworkDriver.Xml;
using VirtNetworkd.NetworkDriver.Xml.Net;

namespace VirtNetworkd.NetworkDriver.Backend.Linux;

/// <summary>
/// The host backend that does the job on a Linux kernel (VIRTNETWORKD_BACKEND=linux). So far:
/// for nat, route, open and isolated networks, the bridge with its addresses, routes and sysctls
/// (rtnetlink and /proc/sys, <see cref="VirtualNetworkSteps"/>) and the firewall rules (one
/// nftables or iptables-restore transaction; the removal plan kept in the record); destroy undoes
/// both, also after a daemon restart, from the record in the status file. Not yet: dnsmasq,
/// bandwidth, the device pools of the other forward modes (they start with no host work, as
/// with the in-process backend), firewall healing.
/// </summary>
public sealed class LinuxBackend : INetworkBackend, IDisposable
{
    private readonly LinuxHost _host;
    private readonly FirewallApplier _firewall;
    private readonly FirewallBackendType _firewallBackend;
    private readonly Action<string> _log;
    private readonly InProcessBackend _qos = new();

    public LinuxBackend(FirewallBackendType firewallBackend, Action<string> log, string? namespacePath = null, IFirewallRunner? runner = null)
    {
        _host = new LinuxHost(namespacePath);
        _firewallBackend = firewallBackend;
        _log = log;
        _firewall = new FirewallApplier(runner ?? new ProcessFirewallRunner(), log);
    }

    public event EventHandler<BackendFaultEventArgs>? Fault { add { } remove { } }

    private static bool IsVirtual(NetworkDef def) =>
        def.Forward.Type is ForwardType.None or ForwardType.Nat or ForwardType.Route or ForwardType.Open;

    public BackendRecord Start(NetworkDef def)
    {
        ArgumentNullException.ThrowIfNull(def);
        if (!IsVirtual(def)) return BackendRecord.Empty;
        var context = new VirtualNetworkStart(_host, def);
        // libvirt's order: the firewall after the bridge's sysctls, before its addresses
        var steps = VirtualNetworkSteps.Bridge.ToList();
        steps.Insert(3, new StartStep<VirtualNetworkStart>("firewall", AddFirewall, RemoveFirewall));
        StepRunner.Run(steps, context, (step, e) => _log($"network '{def.Name}': undoing '{step}' failed: {e.Message}"));
        foreach (string w in context.Warnings) _log($"network '{def.Name}': {w}");
        return context.Record;
    }

    private void AddFirewall(VirtualNetworkStart c)
    {
        var set = FirewallRulesGenerator.Build(c.Def, _firewallBackend);
        var removal = _firewall.Apply(set);
        c.Record = c.Record with { FirewallRemoval = removal, LiveDefinition = set.LiveDefinition };
    }

    private void RemoveFirewall(VirtualNetworkStart c)
    {
        if (c.Record.FirewallRemoval is { } plan) _firewall.Remove(plan);
    }

    /// <summary>networkShutdownNetworkVirtual's order: the firewall rules, then the bridge.</summary>
    public void Stop(NetworkDef def, BackendRecord record)
    {
        ArgumentNullException.ThrowIfNull(def);
        ArgumentNullException.ThrowIfNull(record);
        if (record.FirewallRemoval is { } plan) _firewall.Remove(plan);
        try
        {
            VirtualNetworkSteps.Stop(_host, record);
        }
        catch (Netlink.NetlinkErrorException e)
        {
            _log($"network '{def.Name}': {e.Message}");
        }
        _qos.Stop(def, record);
    }

    public BackendRecord UpdateLive(NetworkDef oldDef, NetworkDef newDef, BackendRecord record, int section, int command) => record;

    /// <summary>A network whose bridge is gone did not survive (a reboot, someone deleted it).</summary>
    public ReconcileResult Reconcile(NetworkDef def, BackendRecord record)
    {
        ArgumentNullException.ThrowIfNull(def);
        ArgumentNullException.ThrowIfNull(record);
        if (!IsVirtual(def) || def.Bridge is null) return new(true, record);
        return new(_host.Netlink.GetLink(def.Bridge) is not null, record);
    }

    public bool DeviceExists(string name) => _host.Netlink.GetLink(name) is not null;

    public IReadOnlyList<DhcpLease> GetDhcpLeases(NetworkDef def, string? mac) => [];

    public IReadOnlyList<VirtualFunction>? GetVirtualFunctions(string pfDev) => SysfsVirtualFunctions.Read(pfDev);

    // bandwidth is bookkeeping only until the tc part lands (issue "Linux backend, part 2")
    public void PlugBandwidth(NetworkDef net, MacAddr mac, BandwidthDef portBandwidth, uint classId) => _qos.PlugBandwidth(net, mac, portBandwidth, classId);
    public void UnplugBandwidth(NetworkDef net, uint classId) => _qos.UnplugBandwidth(net, classId);
    public void UpdateBandwidthRate(NetworkDef net, uint classId, ulong rate) => _qos.UpdateBandwidthRate(net, classId, rate);

    public void Dispose() => _host.Dispose();
}
