using VirtNetworkd.NetworkDriver.Backend.Netlink;

namespace VirtNetworkd.NetworkDriver.Backend.Firewall;

/// <summary>One running network as the firewall watch sees it.</summary>
public sealed record WatchedNetwork(Guid Uuid, FirewallPlan? Removal, string? Bridge);

/// <summary>
/// The firewall watch's pass (once a second): which running networks lost their rules. Every
/// listing is made once per pass (<see cref="ListingCacheRunner"/>). With
/// <paramref name="kernelDirect"/> (nft runs in process, in this network namespace) nf_tables is
/// asked directly: a pass whose ruleset generation is the one of the last pass that found every
/// network intact, with no network added since, looks no further (nothing was committed since,
/// so nothing was deleted); otherwise the rule handles come from a netlink rule dump, not from
/// libnftables' listing, which turns every rule of every network back into text (about 80 ms at
/// 2000 rules, once a second, holding the lock network starts wait for). iptables plans are
/// always looked at (iptables-legacy does not change nf_tables' generation).
/// </summary>
public sealed class FirewallWatch(IFirewallRunner runner, bool kernelDirect)
{
    private uint _intactGeneration;
    private HashSet<Guid>? _intactNetworks;

    /// <summary>The networks of <paramref name="running"/> whose rules are gone.</summary>
    public IReadOnlyList<WatchedNetwork> Broken(IReadOnlyCollection<WatchedNetwork> running)
    {
        ArgumentNullException.ThrowIfNull(running);
        var withPlan = running.Where(n => n.Removal is not null).ToList();
        bool nftOnly = withPlan.All(n => n.Removal!.Backend == FirewallBackendType.Nftables);
        uint? generation = kernelDirect && nftOnly ? NfTablesClient.Generation() : null;
        if (generation is { } g && g == _intactGeneration && _intactNetworks is { } known && withPlan.All(n => known.Contains(n.Uuid)))
            return [];
        var listings = new ListingCacheRunner(runner);
        FirewallPresence.NftRuleHandles? handles = null;
        if (kernelDirect)
        {
            var dumps = new Dictionary<string, IReadOnlySet<string>>(StringComparer.Ordinal);
            handles = family =>
            {
                if (!dumps.TryGetValue(family, out var set))
                    dumps[family] = set = NfTablesClient.RuleHandles(Nft.Family(family)!.Value, FirewallRulesGenerator.NftTable)
                        .Select(h => h.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToHashSet(StringComparer.Ordinal);
                return set;
            };
        }
        var broken = withPlan.Where(n => !FirewallPresence.Intact(listings, n.Removal!, n.Bridge, handles)).ToList();
        (_intactGeneration, _intactNetworks) = generation is { } seen && broken.Count == 0 ? (seen, withPlan.Select(n => n.Uuid).ToHashSet()) : (0u, null);
        return broken;
    }
}
