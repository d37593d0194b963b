namespace VirtNetworkd.NetworkDriver.Backend;

/// <summary>virFirewallBackend: which program a plan's actions are meant for.</summary>
public enum FirewallBackendType
{
    None = 0,
    Iptables = 1,
    Nftables = 2,
}

/// <summary>virFirewallLayer: which command runs an action (ebtables, iptables, ip6tables, tc; nft for the nftables backend).</summary>
public enum FirewallLayer
{
    Ethernet = 0,
    Ipv4 = 1,
    Ipv6 = 2,
    Tc = 3,
}

/// <summary>One command of a plan (virFirewallCmd): its layer and its argument vector.</summary>
public sealed record FirewallAction(FirewallLayer Layer, IReadOnlyList<string> Args, bool IgnoreErrors = false);

/// <summary>A transaction of a plan (virFirewallGroup); with <see cref="IgnoreErrors"/> a failing action does not stop the rest.</summary>
public sealed record FirewallGroup(IReadOnlyList<FirewallAction> Actions, bool IgnoreErrors = false);

/// <summary>
/// Firewall commands as data (virFirewall): what a start applied, or, as a network's
/// <c>fwRemoval</c>, what undoes it. Kept in the status file so that a destroy after a daemon
/// restart removes exactly the rules that were added.
/// </summary>
public sealed record FirewallPlan(FirewallBackendType Backend, IReadOnlyList<FirewallGroup> Groups, string? Name = null)
{
    /// <summary>The name libvirt gives the removal plan it keeps in a network's status (virNetworkObjSetFwRemoval).</summary>
    public const string RemovalName = "fwRemoval";
}
