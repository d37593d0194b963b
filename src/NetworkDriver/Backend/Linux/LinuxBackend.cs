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
/// both, also after a daemon restart, from the record in the status file; rules someone else
/// removes are noticed within a second or two and added again. Not yet: dnsmasq, bandwidth, the
/// device pools of the other forward modes (they start with no host work, as with the
/// in-process backend).
/// </summary>
public sealed class LinuxBackend : INetworkBackend, IDisposable
{
    /// <summary>How often the firewall rules of running networks are looked at (they are back within about twice that).</summary>
    public static readonly TimeSpan FirewallCheckInterval = TimeSpan.FromSeconds(1);

    private readonly LinuxHost _host;
    private readonly IFirewallRunner _runner;
    private readonly FirewallApplier _firewall;
    private readonly FirewallBackendType _firewallBackend;
    private readonly Action<string> _log;
    private readonly InProcessBackend _qos = new();
    private readonly System.Collections.Concurrent.ConcurrentDictionary<Guid, (NetworkDef Def, BackendRecord Record)> _running = new();
    private readonly Timer _firewallWatch;
    private readonly string? _dnsmasqStateDir;
    private int _checking;

    /// <param name="dnsmasqStateDir">Where dnsmasq's files and the leases helper's <c>BRIDGE.status</c> live
    /// (<c>/var/lib/libvirt/dnsmasq</c>, re-rooted); null: no leases are read.</param>
    public LinuxBackend(FirewallBackendType firewallBackend, Action<string> log, string? namespacePath = null, IFirewallRunner? runner = null,
                        string? dnsmasqStateDir = null)
    {
        _dnsmasqStateDir = dnsmasqStateDir;
        _host = new LinuxHost(namespacePath);
        _firewallBackend = firewallBackend;
        _log = log;
        _runner = runner ?? new ProcessFirewallRunner();
        _firewall = new FirewallApplier(_runner, log);
        _firewallWatch = new Timer(_ => CheckFirewalls(), null, FirewallCheckInterval, FirewallCheckInterval);
    }

    /// <summary>Raised (on a timer thread) when a running network's firewall rules were removed by
    /// someone else; the driver then calls <see cref="Reconcile"/>, which adds them again.</summary>
    public event EventHandler<BackendFaultEventArgs>? Fault;

    private void CheckFirewalls()
    {
        if (Interlocked.Exchange(ref _checking, 1) != 0) return;
        try
        {
            foreach (var (uuid, (def, record)) in _running)
            {
                if (record.FirewallRemoval is not { } plan || FirewallPresence.Intact(_runner, plan, record.Bridge)) continue;
                Fault?.Invoke(this, new BackendFaultEventArgs(def.Name, uuid, $"the firewall rules of network '{def.Name}' were removed by someone else", NetworkGone: false));
            }
        }
#pragma warning disable CA1031 // a failed look must not end the watch
        catch (Exception e) { _log($"checking the firewall rules failed: {e.Message}"); }
#pragma warning restore CA1031
        finally { Volatile.Write(ref _checking, 0); }
    }

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
        _running[def.Uuid] = (context.Record.LiveDefinition ?? def, context.Record);
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
        _running.TryRemove(def.Uuid, out _);
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

    /// <summary>
    /// At start-up, on SIGHUP and after a fault: a network whose bridge is gone did not survive (a
    /// reboot, someone deleted it); one whose firewall rules are missing gets them again (libvirt
    /// leaves its guests without NAT until someone restarts the network). The record it returns
    /// holds the new rules' removal plan.
    /// </summary>
    public ReconcileResult Reconcile(NetworkDef def, BackendRecord record)
    {
        ArgumentNullException.ThrowIfNull(def);
        ArgumentNullException.ThrowIfNull(record);
        if (!IsVirtual(def) || def.Bridge is null) return new(true, record);
        if (_host.Netlink.GetLink(def.Bridge) is null)
        {
            _running.TryRemove(def.Uuid, out _);
            return new(false, record);
        }
        if (record.FirewallRemoval is { } plan && !FirewallPresence.Intact(_runner, plan, record.Bridge))
        {
            _firewall.Remove(plan); // what is left of them
            var added = _firewall.Apply(FirewallRulesGenerator.Build(def, _firewallBackend));
            record = record with { FirewallRemoval = added };
            _log($"network '{def.Name}': its firewall rules were missing (removed by someone else): added them again");
        }
        _running[def.Uuid] = (def, record);
        return new(true, record);
    }

    public bool DeviceExists(string name) => _host.Netlink.GetLink(name) is not null;

    /// <summary>networkGetDHCPLeases: what the leases helper keeps in <c>BRIDGE.status</c>.</summary>
    public IReadOnlyList<DhcpLease> GetDhcpLeases(NetworkDef def, string? mac) =>
        _dnsmasqStateDir is null ? [] : Dnsmasq.LeaseStatusFile.ReadLeases(_dnsmasqStateDir, def, mac, DateTimeOffset.UtcNow.ToUnixTimeSeconds());

    public IReadOnlyList<VirtualFunction>? GetVirtualFunctions(string pfDev) => SysfsVirtualFunctions.Read(pfDev);

    // bandwidth is bookkeeping only until the tc part lands (issue "Linux backend, part 2")
    public void PlugBandwidth(NetworkDef net, MacAddr mac, BandwidthDef portBandwidth, uint classId) => _qos.PlugBandwidth(net, mac, portBandwidth, classId);
    public void UnplugBandwidth(NetworkDef net, uint classId) => _qos.UnplugBandwidth(net, classId);
    public void UpdateBandwidthRate(NetworkDef net, uint classId, ulong rate) => _qos.UpdateBandwidthRate(net, classId, rate);

    public void Dispose()
    {
        _firewallWatch.Dispose();
        _host.Dispose();
    }
}
