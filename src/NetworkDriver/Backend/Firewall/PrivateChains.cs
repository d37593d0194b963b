namespace VirtNetworkd.NetworkDriver.Backend.Firewall;

/// <summary>
/// The global chains every network's rules hang off (networkSetupPrivateChains), created once:
/// a query per table (its output tells what exists), then the commands creating what is missing.
/// </summary>
public static class PrivateChains
{
    private static readonly (string? Parent, string Child, string? Extra)[] NftChains =
    [
        (null, "forward", "{ type filter hook forward priority 0; policy accept; }"),
        ("forward", "guest_output", null),
        ("forward", "guest_input", null),
        ("forward", "guest_cross", null),
        (null, "guest_nat", "{ type nat hook postrouting priority 100; policy accept; }"),
    ];

    private static readonly (string Table, (string Parent, string Child)[] Chains)[] IptChains =
    [
        ("filter", [("INPUT", "LIBVIRT_INP"), ("OUTPUT", "LIBVIRT_OUT"), ("FORWARD", "LIBVIRT_FWO"),
                    ("FORWARD", "LIBVIRT_FWI"), ("FORWARD", "LIBVIRT_FWX")]),
        ("nat", [("POSTROUTING", "LIBVIRT_PRT")]),
        ("mangle", [("POSTROUTING", "LIBVIRT_PRT")]),
    ];

    /// <summary>
    /// What the nft apply asks instead of libvirt's query, for the same answer to
    /// <see cref="Create"/>: the family's chains (without their rules) and the rules of the one
    /// chain holding jumps. libvirt lists the whole table, thousands of rules to fetch and parse
    /// at every start once many networks run (140 ms at 2000 rules on the bench machine).
    /// </summary>
    public static IReadOnlyList<FirewallAction> NftQueries(FirewallLayer layer) =>
    [
        new FirewallAction(layer, ["list", "chains", NftFamily(layer)]),
        new FirewallAction(layer, ["list", "chain", NftFamily(layer), FirewallRulesGenerator.NftTable, "forward"]),
    ];

    public static string NftFamily(FirewallLayer layer) => layer == FirewallLayer.Ipv4 ? "ip" : "ip6";

    /// <summary>The queries libvirt runs for one layer: nft list table FAMILY libvirt_network, or iptables --list-rules of filter, nat and mangle.</summary>
    public static IReadOnlyList<FirewallAction> Queries(FirewallBackendType backend, FirewallLayer layer) =>
        backend == FirewallBackendType.Nftables
            ? [new FirewallAction(layer, ["list", "table", NftFamily(layer), FirewallRulesGenerator.NftTable])]
            : IptChains.Select(t => new FirewallAction(layer, ["--table", t.Table, "--list-rules"])).ToArray();

    /// <summary>
    /// What to create given the queries' outputs (one per query, in order; empty or null when
    /// the query found nothing): libvirt's nftablesPrivateChainCreate / iptablesPrivateChainCreate.
    /// </summary>
    public static IReadOnlyList<FirewallAction> Create(FirewallBackendType backend, FirewallLayer layer, IReadOnlyList<string?> outputs)
    {
        ArgumentNullException.ThrowIfNull(outputs);
        return backend == FirewallBackendType.Nftables ? CreateNft(layer, string.Join('\n', outputs)) : CreateIpt(layer, outputs);
    }

    private static string[] Lines(string? output) => (output ?? "").Split('\n');

    private static List<FirewallAction> CreateNft(FirewallLayer layer, string? output)
    {
        string fam = NftFamily(layer);
        string table = FirewallRulesGenerator.NftTable;
        var chains = new HashSet<string>(StringComparer.Ordinal);
        var links = new Dictionary<string, string>(StringComparer.Ordinal);
        bool tableMatch = false, inTable = false;
        string? chain = null;
        foreach (string raw in Lines(output))
        {
            string line = raw.TrimStart(' ', '\t');
            if (line.StartsWith("table ", StringComparison.Ordinal))
            {
                // `list chains` shows the family's other tables too
                inTable = line == $"table {fam} {table} {{";
                tableMatch |= inTable;
                chain = null;
            }
            else if (!inTable) continue;
            else if (line.StartsWith("chain ", StringComparison.Ordinal))
            {
                string rest = line[6..];
                int sp = rest.IndexOf(' ', StringComparison.Ordinal);
                if (sp >= 0) { chain = rest[..sp]; chains.Add(chain); }
            }
            else if (line.IndexOf("jump ", StringComparison.Ordinal) is int j and >= 0 && chain is not null)
            {
                links[line[(j + 5)..]] = chain;
            }
        }
        var cmds = new List<FirewallAction>();
        if (!tableMatch) cmds.Add(new FirewallAction(layer, ["add", "table", fam, table]));
        foreach (var (parent, child, extra) in NftChains)
        {
            if (!(tableMatch && chains.Contains(child)))
                cmds.Add(new FirewallAction(layer, extra is null ? ["add", "chain", fam, table, child] : ["add", "chain", fam, table, child, extra]));
            if (parent is not null && (!links.TryGetValue(child, out string? from) || from != parent))
                cmds.Add(new FirewallAction(layer, ["insert", "rule", fam, table, parent, "counter", "jump", child]));
        }
        return cmds;
    }

    private static List<FirewallAction> CreateIpt(FirewallLayer layer, IReadOnlyList<string?> outputs)
    {
        var cmds = new List<FirewallAction>();
        for (int t = 0; t < IptChains.Length; t++)
        {
            var (table, tableChains) = IptChains[t];
            var chains = new HashSet<string>(StringComparer.Ordinal);
            var links = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (string line in Lines(t < outputs.Count ? outputs[t] : null))
            {
                if (line.StartsWith("-N ", StringComparison.Ordinal)) chains.Add(line[3..]);
                else if (line.StartsWith("-A ", StringComparison.Ordinal))
                {
                    int sep = line.IndexOf(' ', 3);
                    if (sep >= 0 && line.AsSpan(sep + 1).StartsWith("-j ", StringComparison.Ordinal))
                        links[line[(sep + 4)..]] = line[3..sep];
                }
            }
            foreach (var (parent, child) in tableChains)
            {
                if (!chains.Contains(child)) cmds.Add(new FirewallAction(layer, ["--table", table, "--new-chain", child]));
                if (!links.TryGetValue(child, out string? from) || from != parent)
                    cmds.Add(new FirewallAction(layer, ["--table", table, "--insert", parent, "--jump", child]));
            }
        }
        return cmds;
    }
}
