using System.Text.RegularExpressions;

namespace VirtNetworkd.NetworkDriver.Backend.Firewall;

/// <summary>
/// Whether a running network's firewall rules are still there, read from the removal plan that
/// added them: with nftables, every rule handle the plan deletes must still be listed in its
/// family's libvirt_network table; with iptables, the rules naming the network's bridge must not
/// all be gone (an `iptables -F`, a firewall service restart). Someone deleting one rule of many
/// by hand is not noticed with iptables.
/// </summary>
public static partial class FirewallPresence
{
    /// <summary>The handles of the rules in the libvirt_network table of an nft family ("ip",
    /// "ip6"); null when it cannot be listed.</summary>
    public delegate IReadOnlySet<string>? NftRuleHandles(string family);

    /// <summary><paramref name="nftHandles"/>: where the handles come from; default: <c>nft -a list table</c> through <paramref name="runner"/>.</summary>
    public static bool Intact(IFirewallRunner runner, FirewallPlan removal, string? bridge, NftRuleHandles? nftHandles = null)
    {
        ArgumentNullException.ThrowIfNull(runner);
        ArgumentNullException.ThrowIfNull(removal);
        var actions = removal.Groups.SelectMany(g => g.Actions).Where(a => a.Layer is FirewallLayer.Ipv4 or FirewallLayer.Ipv6).ToList();
        if (removal.Backend == FirewallBackendType.Nftables)
        {
            nftHandles ??= family => ListedHandles(runner, family);
            foreach (var family in actions.GroupBy(a => a.Layer))
            {
                if (nftHandles(PrivateChains.NftFamily(family.Key)) is not { } present) return false;
                foreach (var a in family)
                {
                    int at = IndexOf(a.Args, "handle");
                    if (at >= 0 && at + 1 < a.Args.Count && !present.Contains(a.Args[at + 1])) return false;
                }
            }
            return true;
        }
        if (bridge is null) return true;
        foreach (var layer in actions.Select(a => a.Layer).Distinct())
        {
            var save = runner.Run(layer == FirewallLayer.Ipv4 ? "iptables-save" : "ip6tables-save", []);
            if (save.ExitCode != 0 || !save.Stdout.Contains(bridge, StringComparison.Ordinal)) return false;
        }
        return true;
    }

    private static HashSet<string>? ListedHandles(IFirewallRunner runner, string family)
    {
        var listing = runner.Run("nft", ["-a", "list", "table", family, FirewallRulesGenerator.NftTable]);
        return listing.ExitCode != 0 ? null : Handles().Matches(listing.Stdout).Select(m => m.Groups[1].Value).ToHashSet(StringComparer.Ordinal);
    }

    private static int IndexOf(IReadOnlyList<string> args, string word)
    {
        for (int i = 0; i < args.Count; i++) if (args[i] == word) return i;
        return -1;
    }

    [GeneratedRegex(@"# handle (\d+)$", RegexOptions.Multiline)]
    private static partial Regex Handles();
}
