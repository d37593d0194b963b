using VirtNetworkd.NetworkDriver.Xml;

namespace VirtNetworkd.NetworkDriver.Backend.Firewall;

/// <summary>
/// How one added rule is taken back (libvirt's rollback command): the same layer and these
/// arguments; with <see cref="AppendHandle"/> the apply layer adds <c>handle N</c>, N being the
/// handle nft reported for the rule when it was added (<c>--echo --handle</c>).
/// </summary>
public sealed record FirewallUndo(FirewallLayer Layer, IReadOnlyList<string> Args, bool AppendHandle = false);

/// <summary>One command that adds something, and how to take it back (null: nothing to take back).</summary>
public sealed record FirewallRule(FirewallAction Add, FirewallUndo? Undo);

/// <summary>
/// A transaction of a start (virFirewallStartTransaction with AUTO_ROLLBACK): the rules in order;
/// with <see cref="IgnoreErrors"/> a failure of the group is logged and skipped (libvirt's
/// iptables checksum-fill group) instead of failing the start.
/// </summary>
public sealed record FirewallRuleGroup(IReadOnlyList<FirewallRule> Rules, bool IgnoreErrors = false);

/// <summary>
/// Everything a network start does to the firewall, as data (what networkAddFirewallRules builds):
/// <see cref="TcPrepare"/> are the tc commands libvirt 11.3 runs outside the firewall
/// transaction (qdisc check and add, for its checksum filter; empty with 10.8's behaviour), then
/// <see cref="Groups"/>. <see cref="LiveDefinition"/> is the definition as libvirt completes it
/// during the start (the NAT port range), null when unchanged.
/// </summary>
public sealed record FirewallRuleSet(
    FirewallBackendType Backend,
    IReadOnlyList<FirewallRuleGroup> Groups,
    IReadOnlyList<FirewallAction> TcPrepare,
    NetworkDef? LiveDefinition)
{
    /// <summary>The entry of <see cref="Removal"/>'s handles for a rule added whose undo needs no handle.</summary>
    public const long Added = 0;

    public static FirewallRuleSet Empty(FirewallBackendType backend) => new(backend, [], [], null);

    public bool IsEmpty => TcPrepare.Count == 0 && Groups.All(g => g.Rules.Count == 0);

    /// <summary>The commands that add the rules, as a plan (virFirewall before it is applied).</summary>
    public FirewallPlan ToPlan() => new(Backend,
        Groups.Select(g => new FirewallGroup(g.Rules.Select(r => r.Add).ToArray(), g.IgnoreErrors)).ToArray());

    /// <summary>
    /// The removal plan libvirt keeps as the network's &lt;fwRemoval&gt; (virFirewallNewFromRollback):
    /// last group first, a group that ignores errors holding the undo of each rule that was added,
    /// last rule first. <paramref name="handles"/>[g] is null for a group of which nothing was
    /// added; else, per rule, null when it was not added, otherwise its handle (<see cref="Added"/>
    /// for a rule whose undo needs none). Null when nothing is to be undone.
    /// </summary>
    public FirewallPlan? Removal(IReadOnlyList<IReadOnlyList<long?>?> handles)
    {
        ArgumentNullException.ThrowIfNull(handles);
        if (handles.Count != Groups.Count) throw new ArgumentException("one entry per group is needed", nameof(handles));
        var groups = new List<FirewallGroup>();
        for (int g = Groups.Count - 1; g >= 0; g--)
        {
            if (handles[g] is not { } groupHandles) continue;
            IReadOnlyList<FirewallRule> rules = Groups[g].Rules;
            if (groupHandles.Count != rules.Count) throw new ArgumentException($"group {g} needs {rules.Count} handles", nameof(handles));
            var actions = new List<FirewallAction>();
            for (int r = rules.Count - 1; r >= 0; r--)
            {
                if (rules[r].Undo is not { } undo || groupHandles[r] is not { } handle) continue;
                var args = undo.Args.ToList();
                if (undo.AppendHandle)
                {
                    if (handle <= 0) throw new ArgumentException($"rule {r} of group {g} needs a handle", nameof(handles));
                    args.Add("handle");
                    args.Add(handle.ToString(System.Globalization.CultureInfo.InvariantCulture));
                }
                actions.Add(new FirewallAction(undo.Layer, args, IgnoreErrors: true));
            }
            if (actions.Count > 0) groups.Add(new FirewallGroup(actions, IgnoreErrors: true));
        }
        return groups.Count == 0 ? null : new FirewallPlan(Backend, groups, FirewallPlan.RemovalName);
    }
}
