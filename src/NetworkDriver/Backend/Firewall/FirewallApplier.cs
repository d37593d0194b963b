using System.ComponentModel;
using VirtNetworkd.Errors;

namespace VirtNetworkd.NetworkDriver.Backend.Firewall;

/// <summary>
/// The thin effect part: applies a <see cref="FirewallRuleSet"/> as one transaction per group and
/// address family (one <c>nft --echo --handle -f -</c>, or one <c>iptables-restore --noflush</c>
/// per family), never a process per rule, and returns the removal plan (&lt;fwRemoval&gt;) built
/// from the handles nft reports. A failed start leaves nothing behind. Removal replays a plan,
/// ours or one libvirt wrote, also as one batch, falling back to one command at a time (errors
/// ignored, as libvirt ignores them) when the batch fails because something is already gone.
/// </summary>
public sealed class FirewallApplier(IFirewallRunner runner, Action<string>? log = null)
{
    private static readonly FirewallLayer[] IpLayers = [FirewallLayer.Ipv4, FirewallLayer.Ipv6];

    /// <summary>Adds the rules (and the global chains they need); returns the removal plan, null when nothing was added.</summary>
    /// <exception cref="LibvirtError">A transaction failed; whatever earlier ones added has been removed again.</exception>
    public FirewallPlan? Apply(FirewallRuleSet set)
    {
        ArgumentNullException.ThrowIfNull(set);
        if (set.IsEmpty) return null;
        var handles = new IReadOnlyList<long?>?[set.Groups.Count];
        try
        {
            bool tcReady = set.TcPrepare.Count == 0 || PrepareTc(set.TcPrepare);
            for (int g = 0; g < set.Groups.Count; g++)
            {
                FirewallRuleGroup group = set.Groups[g];
                var groupHandles = new long?[group.Rules.Count];
                handles[g] = groupHandles;
                try
                {
                    ApplyGroup(set.Backend, group, g == 0, tcReady, groupHandles);
                }
                catch (LibvirtError e) when (group.IgnoreErrors)
                {
                    log?.Invoke($"ignoring a failed optional firewall transaction: {e.Message}");
                }
            }
        }
        catch (LibvirtError)
        {
            if (set.Removal(handles) is { } partial) Remove(partial);
            throw;
        }
        return set.Removal(handles);
    }

    /// <summary>Replays a removal plan; best effort, never throws.</summary>
    public void Remove(FirewallPlan removal)
    {
        ArgumentNullException.ThrowIfNull(removal);
        foreach (FirewallGroup group in removal.Groups)
        {
            foreach (FirewallAction tc in group.Actions.Where(a => a.Layer == FirewallLayer.Tc)) RunOne(removal.Backend, tc);
            if (removal.Backend == FirewallBackendType.Nftables)
            {
                var nft = group.Actions.Where(a => a.Layer is FirewallLayer.Ipv4 or FirewallLayer.Ipv6).ToList();
                if (nft.Count == 0) continue;
                FirewallRunResult r = TryRun("nft", ["-f", "-"], FirewallBatch.Nft(nft));
                if (r.ExitCode != 0)
                {
                    log?.Invoke($"firewall removal batch failed ({r.Stderr.Trim()}); removing one rule at a time");
                    foreach (FirewallAction a in nft) RunOne(removal.Backend, a);
                }
            }
            else
            {
                foreach (FirewallLayer layer in IpLayers)
                {
                    var acts = group.Actions.Where(a => a.Layer == layer).ToList();
                    if (acts.Count == 0) continue;
                    FirewallRunResult r = TryRun(RestoreProgram(layer), ["--noflush", "-w"], FirewallBatch.IptablesRestore(acts, layer));
                    if (r.ExitCode != 0)
                    {
                        log?.Invoke($"firewall removal batch failed ({r.Stderr.Trim()}); removing one rule at a time");
                        foreach (FirewallAction a in acts) RunOne(removal.Backend, a);
                    }
                }
                foreach (FirewallAction eb in group.Actions.Where(a => a.Layer == FirewallLayer.Ethernet)) RunOne(removal.Backend, eb);
            }
        }
    }

    /// <summary>
    /// libvirt's virNetDevBandWidthAddTxFilterParentQdisc for the tc checksum filter. False when tc
    /// fails: the filter is then skipped, with a log line, rather than failing the start.
    /// </summary>
    private bool PrepareTc(IReadOnlyList<FirewallAction> prepare)
    {
        FirewallRunResult show = TryRun("tc", prepare[0].Args);
        if (show.ExitCode == 0 && show.Stdout.Contains("qdisc", StringComparison.Ordinal) && show.Stdout.Contains(" 1: ", StringComparison.Ordinal))
            return true;
        for (int i = 1; i < prepare.Count; i++)
        {
            FirewallRunResult r = TryRun("tc", prepare[i].Args);
            if (r.ExitCode != 0)
            {
                log?.Invoke($"skipped the DHCP checksum tc filter: 'tc {string.Join(' ', prepare[i].Args)}' failed: {r.Stderr.Trim()}");
                return false;
            }
        }
        return true;
    }

    /// <summary>Applies one group, filling <paramref name="handles"/> as rules are added (tc one by one, then one batch).</summary>
    private void ApplyGroup(FirewallBackendType backend, FirewallRuleGroup group, bool withChains, bool tcReady, long?[] handles)
    {
        // tc: one command each; a kernel without the feature (act_csum) skips the rule, with a log line
        for (int i = 0; i < group.Rules.Count; i++)
        {
            FirewallRule rule = group.Rules[i];
            if (rule.Add.Layer != FirewallLayer.Tc) continue;
            FirewallRunResult r = tcReady ? TryRun("tc", rule.Add.Args) : new FirewallRunResult(1, "", "its qdisc could not be added");
            if (r.ExitCode == 0) handles[i] = FirewallRuleSet.Added;
            else log?.Invoke($"skipped 'tc {string.Join(' ', rule.Add.Args)}': {r.Stderr.Trim()} (is act_csum missing from the kernel?)");
        }
        if (backend == FirewallBackendType.Nftables) ApplyNft(group, withChains, handles);
        else ApplyIptables(group, withChains, handles);
    }

    private void ApplyNft(FirewallRuleGroup group, bool withChains, long?[] handles)
    {
        var script = new List<FirewallAction>();
        if (withChains)
            foreach (FirewallLayer layer in IpLayers)
            {
                var queries = PrivateChains.NftQueries(layer);
                var outputs = queries.Select(q => Output(TryRun("nft", q.Args))).ToArray();
                script.AddRange(PrivateChains.Create(FirewallBackendType.Nftables, layer, outputs));
            }
        int first = script.Count;
        var ruleIndex = new List<int>();
        for (int i = 0; i < group.Rules.Count; i++)
        {
            if (group.Rules[i].Add.Layer is not (FirewallLayer.Ipv4 or FirewallLayer.Ipv6)) continue;
            script.Add(group.Rules[i].Add);
            ruleIndex.Add(i);
        }
        if (ruleIndex.Count == 0 && first == 0) return;
        FirewallRunResult r = TryRun("nft", ["--echo", "--handle", "-f", "-"], FirewallBatch.Nft(script));
        if (r.ExitCode != 0)
            throw Failed("nft --echo --handle -f -", r);
        IReadOnlyList<NftEcho> echo = FirewallBatch.ParseEcho(r.Stdout);
        if (echo.Count != script.Count)
            throw new LibvirtError(VirErrorCode.InternalError, VirErrorDomain.Firewall,
                $"nft reported {echo.Count} handles for {script.Count} commands: '{r.Stdout.Trim()}'");
        for (int k = 0; k < ruleIndex.Count; k++) handles[ruleIndex[k]] = echo[first + k].Handle;
    }

    private void ApplyIptables(FirewallRuleGroup group, bool withChains, long?[] handles)
    {
        var applied = new List<(FirewallLayer Layer, List<FirewallAction> Undo)>();
        foreach (FirewallLayer layer in IpLayers)
        {
            var acts = new List<FirewallAction>();
            if (withChains)
            {
                var queries = PrivateChains.Queries(FirewallBackendType.Iptables, layer);
                var outputs = queries.Select(q => Output(TryRun(Program(layer), ["-w", .. q.Args]))).ToArray();
                acts.AddRange(PrivateChains.Create(FirewallBackendType.Iptables, layer, outputs));
            }
            var rules = group.Rules.Where(x => x.Add.Layer == layer).ToList();
            acts.AddRange(rules.Select(x => x.Add));
            if (acts.Count == 0) continue;
            FirewallRunResult r = TryRun(RestoreProgram(layer), ["--noflush", "-w"], FirewallBatch.IptablesRestore(acts, layer));
            if (r.ExitCode != 0)
            {
                // the other family's transaction went through: take it back
                foreach (var (l, undo) in applied)
                    TryRun(RestoreProgram(l), ["--noflush", "-w"], FirewallBatch.IptablesRestore(undo, l));
                throw Failed(RestoreProgram(layer) + " --noflush -w", r);
            }
            var undoActs = rules.Where(x => x.Undo is not null).Reverse()
                .Select(x => new FirewallAction(x.Undo!.Layer, x.Undo.Args, true)).ToList();
            applied.Add((layer, undoActs));
        }
        // both families went through: now the caller's undo covers them
        for (int i = 0; i < group.Rules.Count; i++)
            if (group.Rules[i].Add.Layer is FirewallLayer.Ipv4 or FirewallLayer.Ipv6) handles[i] = FirewallRuleSet.Added;
    }

    private void RunOne(FirewallBackendType backend, FirewallAction a)
    {
        IReadOnlyList<string> argv = LibvirtCommandLine.Argv(backend, a, autoRollback: false);
        FirewallRunResult r = TryRun(argv[0], argv.Skip(1).ToArray());
        if (r.ExitCode != 0 && !a.IgnoreErrors)
            log?.Invoke($"firewall command '{string.Join(' ', argv)}' failed: {r.Stderr.Trim()}");
    }

    private static string Output(FirewallRunResult r) => r.ExitCode == 0 ? r.Stdout : "";

    private static string Program(FirewallLayer layer) => layer == FirewallLayer.Ipv4 ? "iptables" : "ip6tables";

    private static string RestoreProgram(FirewallLayer layer) => layer == FirewallLayer.Ipv4 ? "iptables-restore" : "ip6tables-restore";

    private FirewallRunResult TryRun(string program, IReadOnlyList<string> args, string? stdin = null)
    {
        try
        {
            return runner.Run(program, args, stdin);
        }
        catch (Win32Exception e)
        {
            return new FirewallRunResult(127, "", $"Cannot find '{program}' in path: {e.Message}");
        }
    }

    private static LibvirtError Failed(string command, FirewallRunResult r) =>
        new(VirErrorCode.InternalError, VirErrorDomain.Firewall, $"Failed to apply firewall command '{command}': {r.Stderr.Trim()}");
}
