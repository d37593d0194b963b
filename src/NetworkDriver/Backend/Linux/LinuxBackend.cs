using VirtNetworkd.NetworkDriver.Backend.Bandwidth;
using VirtNetworkd.NetworkDriver.Backend.Dnsmasq;
using VirtNetworkd.NetworkDriver.Backend.Firewall;
using VirtNetworkd.NetworkDriver.Backend.Resolved;
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
/// removes are noticed within a second or two and added again; dnsmasq for DHCP and DNS
/// (<see cref="DnsmasqDaemon"/>), adopted after a daemon restart and started again within a
/// second when it dies (<see cref="ExitWatch"/> → <see cref="Fault"/> → Reconcile); the network's
/// &lt;bandwidth&gt; and its ports' floors as libvirt's tc qdiscs, classes and filters on the bridge
/// (<see cref="TcCommands"/>, run by <see cref="TcRunner"/>); &lt;domain register='yes'/&gt; tells
/// systemd-resolved the network's name server (<see cref="ResolvedClient"/>). Bridge mode on a host bridge:
/// <see cref="HostBridgeSteps"/>. The other forward modes have no host work at start (the driver
/// builds their device pools). At start-up and on SIGHUP a tc tree someone removed is put back
/// (<see cref="ReconcileBandwidth"/>, beyond libvirt).
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
    private readonly TcRunner _tc;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<Guid, (NetworkDef Def, BackendRecord Record)> _running = new();
    private readonly Timer _firewallWatch;
    private readonly FirewallWatch _watch;
    private int _checking;
    private ListingCacheRunner? _reconcileListings;

    /// <summary>
    /// The firewall listings the reconciliation of one network after another reuses (start-up,
    /// SIGHUP: a burst of Reconcile calls); any change this backend makes to the firewall drops them.
    /// </summary>
    private ListingCacheRunner ReconcileListings()
    {
        var cached = Volatile.Read(ref _reconcileListings);
        if (cached is not null && Environment.TickCount64 - cached.CreatedAt < 500) return cached;
        cached = new ListingCacheRunner(_runner);
        Volatile.Write(ref _reconcileListings, cached);
        return cached;
    }

    private void FirewallChanged() => Volatile.Write(ref _reconcileListings, null);

    private readonly DnsmasqDaemon _dnsmasq;
    private readonly ResolvedClient _resolved;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<Guid, ExitWatch> _dnsmasqWatches = new();

    /// <summary>
    /// <paramref name="dnsmasq"/>: where dnsmasq's files go and its --dhcp-script (default:
    /// libvirt's folders, the leases helper next to the daemon); with a
    /// <paramref name="namespacePath"/> and no settings, dnsmasq runs in that namespace too.
    /// <paramref name="resolved"/>: the system bus where systemd-resolved is told about networks
    /// with &lt;domain register='yes'/&gt; (default: <see cref="ResolvedClient.DefaultSystemBusAddress"/>).
    /// </summary>
    public LinuxBackend(FirewallBackendType firewallBackend, Action<string> log, string? namespacePath = null, IFirewallRunner? runner = null,
        DnsmasqSettings? dnsmasq = null, ResolvedClient? resolved = null)
    {
        _resolved = resolved ?? new ResolvedClient(ResolvedClient.DefaultSystemBusAddress, ResolvedClient.DefaultTimeout);
        _dnsmasq = new DnsmasqDaemon((dnsmasq ?? DnsmasqSettings.Default) with { NamespacePath = dnsmasq?.NamespacePath ?? namespacePath },
            new DnsmasqCapsProbe(), log);
        _host = new LinuxHost(namespacePath);
        _firewallBackend = firewallBackend;
        _log = log;
        // in process unless a test's namespace is used (the nft process would run in ours)
        _runner = runner ?? (namespacePath is null ? new LibNftablesRunner(new ProcessFirewallRunner()) : new ProcessFirewallRunner());
        _firewall = new FirewallApplier(_runner, log);
        _watch = new FirewallWatch(_runner, kernelDirect: _runner is LibNftablesRunner);
        _tc = new TcRunner(_runner, m => log($"bandwidth: {m}"));
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
            var running = _running.ToArray();
            foreach (WatchedNetwork gone in _watch.Broken(running.Select(r => new WatchedNetwork(r.Key, r.Value.Record.FirewallRemoval, r.Value.Record.Bridge)).ToArray()))
            {
                string name = running.First(r => r.Key == gone.Uuid).Value.Def.Name;
                Fault?.Invoke(this, new BackendFaultEventArgs(name, gone.Uuid, $"the firewall rules of network '{name}' were removed by someone else", NetworkGone: false));
            }
        }
#pragma warning disable CA1031 // a failed look must not end the watch
        catch (Exception e) { _log($"checking the firewall rules failed: {e.Message}"); }
#pragma warning restore CA1031
        finally { Volatile.Write(ref _checking, 0); }
    }

    private static bool IsHostBridge(NetworkDef def) => def.Forward.Type == ForwardType.Bridge && def.Bridge is not null;

    private static bool IsVirtual(NetworkDef def) =>
        def.Forward.Type is ForwardType.None or ForwardType.Nat or ForwardType.Route or ForwardType.Open;

    /// <summary>The start steps of a virtual network, in libvirt's order: the firewall after the
    /// bridge's sysctls, before its addresses.</summary>
    private List<StartStep<VirtualNetworkStart>> VirtualSteps()
    {
        var steps = VirtualNetworkSteps.Bridge.ToList();
        steps.Insert(3, new StartStep<VirtualNetworkStart>("firewall", AddFirewall, RemoveFirewall));
        // libvirt's order: dnsmasq after IP forwarding (networkStartNetworkVirtual)
        steps.Add(new StartStep<VirtualNetworkStart>("dnsmasq", StartDnsmasq, StopDnsmasq));
        // then the name server registration; nothing to undo: resolved forgets the link when the bridge goes
        steps.Add(new StartStep<VirtualNetworkStart>("systemd-resolved", RegisterNameServer));
        // virNetDevBandwidthSet(bridge, bandwidth, hierarchical_class, swapped) last, as networkStartNetworkVirtual
        steps.Add(new StartStep<VirtualNetworkStart>("bandwidth", SetBandwidth, ClearBandwidth));
        return steps;
    }

    /// <summary>The names of a virtual network's start steps, in order (for the failure tests).</summary>
    internal IReadOnlyList<string> StepNames => VirtualSteps().ConvertAll(s => s.Name);

    /// <summary>
    /// Tests only (internal, never set by the daemon): called with each step's name before the
    /// step runs; what it throws fails the start there, as a real failure of that step would
    /// before it changed anything.
    /// </summary>
    internal Action<string>? BeforeStep { get; set; }

    public BackendRecord Start(NetworkDef def)
    {
        ArgumentNullException.ThrowIfNull(def);
        // private, vepa, passthrough, hostdev and macvtap bridge mode: their device pool is
        // built by the driver (networkCreateInterfacePool); nothing on the host to do at start
        if (!IsVirtual(def) && !IsHostBridge(def)) return BackendRecord.Empty;
        var context = new VirtualNetworkStart(_host, def);
        var steps = IsHostBridge(def)
            ? HostBridgeSteps.Steps(new StartStep<VirtualNetworkStart>("bandwidth", SetBandwidth, ClearBandwidth), _log)
            : VirtualSteps();
        if (BeforeStep is { } before)
            steps = steps.ConvertAll(s => s with { Do = c => { before(s.Name); s.Do(c); } });
        StepRunner.Run(steps, context, (step, e) => _log($"network '{def.Name}': undoing '{step}' failed: {e.Message}"));
        foreach (string w in context.Warnings) _log($"network '{def.Name}': {w}");
        _running[def.Uuid] = (context.Record.LiveDefinition ?? def, context.Record);
        if (context.Record.DnsmasqPid is { } pid) WatchDnsmasq(context.Record.LiveDefinition ?? def, pid);
        return context.Record;
    }

    private void StartDnsmasq(VirtualNetworkStart c)
    {
        if (c.Def.Ips.Count == 0) return;
        c.Record = c.Record with { DnsmasqPid = _dnsmasq.Start(c.Record.LiveDefinition ?? c.Def) };
    }

    private void StopDnsmasq(VirtualNetworkStart c)
    {
        if (c.Record.DnsmasqPid is { } pid) _dnsmasq.Stop(c.Def, pid);
    }

    /// <summary>
    /// networkStartNetworkVirtual's virSystemdResolvedRegisterNameServer. When resolved is not
    /// available (no system bus, or resolved neither running nor startable) libvirt fails the start
    /// ("failed to register name server: systemd-resolved is not available"); as with other host
    /// features that are missing, the network starts here and the log says what was skipped. A
    /// call that fails fails the start, as libvirt's.
    /// </summary>
    private void RegisterNameServer(VirtualNetworkStart c)
    {
        if (ResolvedNameServer.For(c.Def) is not { } server) return;
        string? unavailable;
        try
        {
            unavailable = _resolved.Register(c.BridgeIndex, server);
        }
        catch (ResolvedException e)
        {
            _log($"network '{c.Def.Name}': registering name server {server.Address} for domain '{server.Domain}' with systemd-resolved failed: {e.Message}");
            throw new Errors.LibvirtError(Errors.VirErrorCode.InternalError, Errors.VirErrorDomain.Network, "failed to register name server");
        }
        if (unavailable is not null)
            c.Warnings.Add($"<domain register='yes'>: registering name server {server.Address} for domain '{server.Domain}' with systemd-resolved skipped: systemd-resolved is not available ({unavailable})");
    }

    /// <summary>virNetDevBandwidthSet(bridge, bandwidth, hierarchical, swapped); as libvirt's error
    /// paths, a Set that fails half way clears what it added (the step's undo only runs for steps done).</summary>
    private void SetBandwidth(VirtualNetworkStart c)
    {
        if (c.Def.Bandwidth is null) return;
        try
        {
            _tc.Run(TcCommands.Set(c.Def.Bridge, c.Def.Bandwidth, hierarchicalClass: true, swapped: true));
        }
        catch (Errors.LibvirtError)
        {
            ClearBandwidth(c);
            throw;
        }
    }

    /// <summary>virNetDevBandwidthClear: the root and ingress qdiscs go (tc's complaints ignored).</summary>
    private void ClearBandwidth(VirtualNetworkStart c)
    {
        if (c.Def.Bandwidth is not null && c.Def.Bridge is { } bridge) _tc.Run(TcCommands.Clear(bridge));
    }

    /// <summary>Supervision (beyond libvirt, which leaves the network without DHCP): a dnsmasq that exits
    /// by itself is a fault; the driver's Reconcile starts another.</summary>
    private void WatchDnsmasq(NetworkDef def, int pid)
    {
        if (_dnsmasqWatches.TryGetValue(def.Uuid, out var old) && old.Pid == pid) return;
        var watch = new ExitWatch(pid, () =>
        {
            if (!_running.ContainsKey(def.Uuid)) return;
            _log($"network '{def.Name}': dnsmasq (pid {pid}) exited; starting it again");
            Fault?.Invoke(this, new BackendFaultEventArgs(def.Name, def.Uuid, $"dnsmasq (pid {pid}) of network '{def.Name}' exited", NetworkGone: false));
        });
        _dnsmasqWatches[def.Uuid] = watch;
        old?.Dispose();
    }

    private void UnwatchDnsmasq(Guid uuid)
    {
        if (_dnsmasqWatches.TryRemove(uuid, out var watch)) watch.Dispose();
    }

    private void AddFirewall(VirtualNetworkStart c)
    {
        var set = FirewallRulesGenerator.Build(c.Def, _firewallBackend);
        FirewallChanged();
        var removal = _firewall.Apply(set);
        c.Record = c.Record with { FirewallRemoval = removal, LiveDefinition = set.LiveDefinition };
    }

    private void RemoveFirewall(VirtualNetworkStart c)
    {
        FirewallChanged();
        if (c.Record.FirewallRemoval is { } plan) _firewall.Remove(plan);
    }

    /// <summary>
    /// networkShutdownNetworkVirtual: the bandwidth, dnsmasq, the firewall rules, then the bridge.
    /// libvirt waits for each in turn; here dnsmasq gets its SIGTERM, the bridge's deletion is
    /// sent (it runs in the kernel under the rtnl lock, mostly waiting for RCU), the firewall
    /// rules are removed meanwhile (nftables or iptables: no rtnl, and the rules name the bridge,
    /// they do not hold it), and Stop returns when all three are gone. networkShutdownNetworkBridge
    /// clears the host bridge's qdiscs (root and ingress, whoever added them) and leaves the bridge.
    /// </summary>
    public void Stop(NetworkDef def, BackendRecord record)
    {
        ArgumentNullException.ThrowIfNull(def);
        ArgumentNullException.ThrowIfNull(record);
        _running.TryRemove(def.Uuid, out _);
        record = Adopted(def, record);
        if ((IsVirtual(def) || IsHostBridge(def)) && def.Bandwidth is not null && (record.Bridge ?? def.Bridge) is { } bridgeName)
        {
            try { _tc.Run(TcCommands.Clear(bridgeName)); }
            catch (Errors.LibvirtError e) { _log($"network '{def.Name}': {e.Message}"); }
        }
        UnwatchDnsmasq(def.Uuid);
        // started by a daemon that died before saving the record: found by its pid file
        using DnsmasqDaemon.Stopping? dnsmasq = (record.DnsmasqPid ?? _dnsmasq.Find(def, null)) is { } pid ? _dnsmasq.BeginStop(def, pid) : null;
        Netlink.LinkDeletion.Pending? bridge = null;
        try
        {
            bridge = VirtualNetworkSteps.BeginStop(_host, record, m => _log($"network '{def.Name}': {m}"));
        }
        catch (Netlink.NetlinkErrorException e)
        {
            _log($"network '{def.Name}': {e.Message}");
        }
        using (bridge)
        {
            try
            {
                RemoveFirewallRules(def, record);
            }
            finally
            {
                try { bridge?.Wait(); }
                catch (Netlink.NetlinkErrorException e) { _log($"network '{def.Name}': {e.Message}"); }
                dnsmasq?.Wait();
            }
        }
    }

    public BackendRecord UpdateLive(NetworkDef oldDef, NetworkDef newDef, BackendRecord record, int section, int command)
    {
        ArgumentNullException.ThrowIfNull(oldDef);
        ArgumentNullException.ThrowIfNull(newDef);
        ArgumentNullException.ThrowIfNull(record);
        if (!IsVirtual(newDef)) return record;
        record = UpdateDnsmasq(oldDef, newDef, record, section);
        _running[newDef.Uuid] = (newDef, record);
        return record;
    }

    /// <summary>networkUpdate's dnsmasq part: which sections restart dnsmasq (what is in its .conf,
    /// which it cannot reread once it runs as "nobody") and which only rewrite the hosts files and SIGHUP it.</summary>
    private BackendRecord UpdateDnsmasq(NetworkDef oldDef, NetworkDef newDef, BackendRecord record, int section)
    {
        const int Bridge = 1, Domain = 2, Ip = 3, IpDhcpHost = 4, IpDhcpRange = 5, DnsHost = 10, DnsTxt = 11, DnsSrv = 12;
        int? pid = record.DnsmasqPid;
        switch (section)
        {
            case Bridge or Domain or Ip or IpDhcpRange or DnsTxt or DnsSrv:
                UnwatchDnsmasq(newDef.Uuid);
                pid = _dnsmasq.Restart(newDef, pid);
                break;
            case IpDhcpHost:
                static bool DhcpActive(NetworkDef d) => d.Ips.Any(i => i.Address.IsIPv4 && (i.Ranges.Count > 0 || i.Hosts.Count > 0 || i.TftpRoot is not null));
                if (DhcpActive(oldDef) != DhcpActive(newDef))
                {
                    UnwatchDnsmasq(newDef.Uuid);
                    pid = _dnsmasq.Restart(newDef, pid);
                }
                pid = _dnsmasq.Refresh(newDef, pid);
                break;
            case DnsHost:
                pid = _dnsmasq.Refresh(newDef, pid);
                break;
            default:
                return record;
        }
        if (pid is { } p) WatchDnsmasq(newDef, p);
        else UnwatchDnsmasq(newDef.Uuid);
        return record with { DnsmasqPid = pid };
    }

    /// <summary>networkRemoveFirewallRules: the plan in the record, or, for a network libvirt
    /// before 10.4 started (no plan in its status file), its old-style iptables rules.</summary>
    private void RemoveFirewallRules(NetworkDef def, BackendRecord record)
    {
        FirewallChanged();
        if (record.FirewallRemoval is { } plan) _firewall.Remove(plan);
        else if (LegacyFirewallRemoval.Applies(def, record) && LegacyFirewallRemoval.Plan(def) is { } legacy)
        {
            _log($"network '{def.Name}': no firewall removal plan in its status (started by libvirt before 10.4): removing its iptables rules as libvirt added them");
            _firewall.Remove(legacy);
        }
    }

    /// <summary>
    /// A record read from a status file libvirt wrote has no element of ours: libvirt's networks
    /// of a virtual mode always run on a bridge libvirt created (and deletes at shutdown).
    /// </summary>
    private static BackendRecord Adopted(NetworkDef def, BackendRecord record) =>
        record.Bridge is null && IsVirtual(def) && def.Bridge is not null
            ? record with { Bridge = def.Bridge, BridgeCreated = true }
            : record;

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
        // networkUpdateState: a virtual network or one on a host bridge whose bridge is gone is down
        if (!(IsVirtual(def) || IsHostBridge(def)) || def.Bridge is null) return new(true, record);
        if (_host.Netlink.GetLink(def.Bridge) is null)
        {
            _running.TryRemove(def.Uuid, out _);
            return new(false, record);
        }
        if (!IsVirtual(def)) return new(true, record);
        record = Adopted(def, record);
        if (LegacyFirewallRemoval.Applies(def, record))
        {
            // libvirt 10.x at start-up (networkReloadFirewallRules): the old rules go, its own backend's come
            RemoveFirewallRules(def, record);
            record = record with { FirewallRemoval = _firewall.Apply(FirewallRulesGenerator.Build(def, _firewallBackend)) };
            _log($"network '{def.Name}': replaced the firewall rules of a libvirt before 10.4 with {_firewallBackend.ToString().ToLowerInvariant()} rules and a removal plan");
        }
        else if (record.FirewallRemoval is { } plan && !FirewallPresence.Intact(ReconcileListings(), plan, record.Bridge))
        {
            FirewallChanged();
            _firewall.Remove(plan); // what is left of them
            var added = _firewall.Apply(FirewallRulesGenerator.Build(def, _firewallBackend));
            record = record with { FirewallRemoval = added };
            _log($"network '{def.Name}': its firewall rules were missing (removed by someone else): added them again");
        }
        record = ReconcileDnsmasq(def, record);
        _running[def.Uuid] = (def, record);
        return new(true, record);
    }

    /// <summary>networkUpdateState's dnsmasq part: adopt the dnsmasq that still serves the network
    /// (pid file and command line), or start one when it is needed and gone.</summary>
    private BackendRecord ReconcileDnsmasq(NetworkDef def, BackendRecord record)
    {
        if (def.Ips.Count == 0 || !DnsmasqConfig.IsNeeded(def)) return record;
        int? pid = _dnsmasq.Find(def, record.DnsmasqPid);
        if (pid is null)
        {
            pid = _dnsmasq.Start(def);
            _log($"network '{def.Name}': dnsmasq was not running: started it again (pid {pid})");
        }
        WatchDnsmasq(def, pid!.Value);
        return record.DnsmasqPid == pid ? record : record with { DnsmasqPid = pid };
    }

    public bool DeviceExists(string name) => _host.Netlink.GetLink(name) is not null;

    /// <summary>networkRemoveInactive: the network's dnsmasq files and its leases (BRIDGE.status) go.</summary>
    public void RemoveInactive(NetworkDef def)
    {
        ArgumentNullException.ThrowIfNull(def);
        _dnsmasq.RemoveFiles(def);
    }

    /// <summary>networkGetDHCPLeases: what the leases helper keeps in <c>BRIDGE.status</c>.</summary>
    public IReadOnlyList<DhcpLease> GetDhcpLeases(NetworkDef def, string? mac, bool needResults) =>
        Dnsmasq.LeaseStatusFile.ReadLeases(_dnsmasq.Settings.StateDir, def, mac, DateTimeOffset.UtcNow.ToUnixTimeSeconds(), needResults);

    public IReadOnlyList<VirtualFunction>? GetVirtualFunctions(string pfDev) => SysfsVirtualFunctions.Read(pfDev);

    /// <summary>virNetDevBandwidthPlug on the network's bridge.</summary>
    public void PlugBandwidth(NetworkDef net, MacAddr mac, BandwidthDef portBandwidth, uint classId)
    {
        ArgumentNullException.ThrowIfNull(net);
        _tc.Run(TcCommands.Plug(Bridge(net), net.Bandwidth, mac, portBandwidth, classId));
    }

    /// <summary>virNetDevBandwidthUnplug.</summary>
    public void UnplugBandwidth(NetworkDef net, uint classId)
    {
        ArgumentNullException.ThrowIfNull(net);
        _tc.Run(TcCommands.Unplug(Bridge(net), classId));
    }

    /// <summary>virNetDevBandwidthUpdateRate.</summary>
    public void UpdateBandwidthRate(NetworkDef net, uint classId, ulong rate)
    {
        ArgumentNullException.ThrowIfNull(net);
        if (net.Bandwidth is null) return;
        _tc.Run(TcCommands.UpdateRate(Bridge(net), classId, net.Bandwidth, rate));
    }

    /// <summary>
    /// Beyond libvirt (its networkUpdateState and reload never look at the tc tree): what is
    /// missing of the tree on the bridge is put back (<see cref="BandwidthRepair"/>), what is
    /// there is left alone, so guests' shaping is not disturbed by a restart.
    /// </summary>
    public void ReconcileBandwidth(NetworkDef net, IReadOnlyList<PortFloor> floors, ulong? unguaranteedRate)
    {
        ArgumentNullException.ThrowIfNull(net);
        ArgumentNullException.ThrowIfNull(floors);
        if (net.Bandwidth is null || !(IsVirtual(net) || IsHostBridge(net)) || net.Bridge is not { } bridge) return;
        if (_tc.Show(bridge) is not { } tree) return; // the bridge is gone: Reconcile says so
        var plan = BandwidthRepair.Plan(bridge, net.Bandwidth, tree, floors, unguaranteedRate);
        if (plan.Count == 0) return;
        _tc.Run(plan);
        _log($"network '{net.Name}': the tc tree of its <bandwidth> on bridge {bridge} was incomplete (removed by someone else): added again what was missing ({plan.Count} tc commands)");
    }

    private static string Bridge(NetworkDef net) => net.Bridge ?? throw new Errors.LibvirtError(Errors.VirErrorCode.OperationUnsupported,
        Errors.VirErrorDomain.None, "Unable to set bandwidth for interface because device name is unknown");

    public void Dispose()
    {
        _firewallWatch.Dispose();
        foreach (var w in _dnsmasqWatches.Values) w.Dispose();
        _host.Dispose();
    }
}
