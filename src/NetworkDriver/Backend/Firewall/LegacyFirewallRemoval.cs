using VirtNetworkd.NetworkDriver.Xml;

namespace VirtNetworkd.NetworkDriver.Backend.Firewall;

/// <summary>
/// The removal of a network started by a libvirt before 10.4 (iptables only, no &lt;fwRemoval&gt;
/// in its status file): as libvirt 10.x's iptablesRemoveFirewallRules, the network's iptables
/// rules are generated again from its definition and each deleted, errors ignored (a rule that
/// is already gone is no failure).
/// </summary>
public static class LegacyFirewallRemoval
{
    /// <summary>Whether a record without a removal plan means old-style rules to remove: libvirt
    /// adds none for an open network, and none at all for the other modes.</summary>
    public static bool Applies(NetworkDef def, BackendRecord record)
    {
        ArgumentNullException.ThrowIfNull(def);
        ArgumentNullException.ThrowIfNull(record);
        return record.FirewallRemoval is null && def.Forward.Type is ForwardType.None or ForwardType.Nat or ForwardType.Route;
    }

    /// <summary>The delete commands of every rule libvirt's iptables code adds for <paramref name="def"/>; null when it adds none.</summary>
    public static FirewallPlan? Plan(NetworkDef def)
    {
        FirewallRuleSet set;
        try
        {
            set = FirewallRulesGenerator.Build(def, FirewallBackendType.Iptables, FirewallOptions.Libvirt108);
        }
        catch (VirtNetworkd.Errors.LibvirtError)
        {
            return null; // libvirt gives up silently too
        }
        var all = set.Groups.Select(g => (IReadOnlyList<long?>?)g.Rules.Select(_ => (long?)FirewallRuleSet.Added).ToArray()).ToArray();
        return set.Removal(all);
    }
}
