using VirtNetworkd.NetworkDriver.Backend;
using VirtNetworkd.NetworkDriver.Backend.Firewall;
using VirtNetworkd.NetworkDriver.Backend.Linux;
using VirtNetworkd.NetworkDriver.Backend.Netlink;
using VirtNetworkd.NetworkDriver.Xml;

namespace VirtNetworkd.Integration.Tests;

/// <summary>
/// The in-process <c>nft --echo --handle</c> of a network start (handles from nf_tables'
/// notifications, <see cref="NftNoticeEcho"/>) against the nft program's own echo: the same
/// batches in two fresh network namespaces this test creates give the same handles and the same
/// ruleset; a failed batch changes nothing; the firewall watch's netlink reads (generation, rule
/// handles) agree with <c>nft -a list table</c>.
/// </summary>
public sealed class NftNoticeEchoKernelTests
{
    private string _ip = "", _nft = "", _ours = "", _theirs = "";

    [SetUp]
    public void CreateNamespaces()
    {
        _ip = Tools.Require("ip", "iproute2");
        _nft = Tools.Require("nft", "nftables");
        Assert.That(LibNftablesRunner.IsAvailable, Is.True, "libnftables.so.1 is needed (apt-get install libnftables1)");
        string id = Guid.NewGuid().ToString("N")[..8];
        _ours = "vndne" + id;
        _theirs = "vndnf" + id;
        foreach (string ns in new[] { _ours, _theirs })
        {
            Assert.That(Tools.Run(_ip, ["netns", "add", ns]).ExitCode, Is.Zero);
            // nft resolves iif/oif names when it parses a rule
            foreach (string br in new[] { "vnne0", "vnne1" })
                Assert.That(Tools.Run(_ip, ["-n", ns, "link", "add", br, "type", "bridge"]).ExitCode, Is.Zero);
        }
    }

    [TearDown]
    public void RemoveNamespaces()
    {
        Tools.Run(_ip, ["netns", "del", _ours]);
        Tools.Run(_ip, ["netns", "del", _theirs]);
    }

    private static string Network(int n) => $"""
        <network><name>ne{n}</name><bridge name="vnne{n}"/><forward/>
          <ip address="192.168.{120 + n}.1" netmask="255.255.255.0"/><ip family="ipv6" address="2001:db8:{n}::1" prefix="64"/></network>
        """;

    /// <summary>A network's start batch as the applier makes it: the global chains (for the first), then its rules.</summary>
    private static string Batch(int n)
    {
        FirewallRuleSet set = FirewallRulesGenerator.Build(NetworkXml.Parse(Network(n)), FirewallBackendType.Nftables);
        var script = new List<FirewallAction>();
        if (n == 0)
            foreach (var layer in new[] { FirewallLayer.Ipv4, FirewallLayer.Ipv6 })
                script.AddRange(PrivateChains.Create(FirewallBackendType.Nftables, layer, [null, null]));
        script.AddRange(set.Groups[0].Rules.Select(r => r.Add));
        return FirewallBatch.Nft(script);
    }

    private FirewallRunResult OursEcho(NamespaceThread inside, string script) =>
        inside.Run(() => new LibNftablesRunner(new ProcessFirewallRunner()).Run("nft", ["--echo", "--handle", "-f", "-"], script));

    private string Ruleset(string ns) => Tools.Run(_ip, ["netns", "exec", ns, _nft, "-a", "list", "ruleset"]).Stdout;

    [Test]
    public void HandlesAndRulesetEqualThoseOfNftsOwnEcho()
    {
        using var inside = new NamespaceThread($"/var/run/netns/{_ours}");
        foreach (int n in new[] { 0, 1 })
        {
            string script = Batch(n);
            FirewallRunResult ours = OursEcho(inside, script);
            var theirs = Tools.Run(_ip, ["netns", "exec", _theirs, _nft, "--echo", "--handle", "-f", "-"], script);
            Assert.That(ours.ExitCode, Is.Zero, ours.Stderr);
            Assert.That(theirs.ExitCode, Is.Zero, theirs.ToString());
            Assert.That(FirewallBatch.ParseEcho(ours.Stdout), Is.EqualTo(FirewallBatch.ParseEcho(theirs.Stdout)), $"network {n}");
            Assert.That(FirewallBatch.ParseEcho(ours.Stdout), Has.Count.EqualTo(script.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length));
            // the echo came from the notifications (nft's own prints the rules as it reads them back)
            Assert.That(ours.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l[..l.LastIndexOf(" # handle ", StringComparison.Ordinal)]),
                Is.EqualTo(script.Split('\n', StringSplitOptions.RemoveEmptyEntries)));
        }
        Assert.That(Ruleset(_ours), Is.EqualTo(Ruleset(_theirs)).And.Contain("vnne1"));
    }

    [Test]
    public void AFailedBatchChangesNothing()
    {
        using var inside = new NamespaceThread($"/var/run/netns/{_ours}");
        Assert.That(OursEcho(inside, Batch(0)).ExitCode, Is.Zero);
        string before = Ruleset(_ours);
        // the last rule names a device that does not exist: the whole batch fails
        string bad = Batch(1) + "insert rule ip libvirt_network guest_output iif \"vnnothere\" counter reject\n";
        FirewallRunResult r = OursEcho(inside, bad);
        Assert.That(r.ExitCode, Is.Not.Zero);
        Assert.That(r.Stderr, Does.Contain("Interface does not exist"));
        Assert.That(Ruleset(_ours), Is.EqualTo(before));
    }

    [Test]
    public void TheWatchsNetlinkReadsAgreeWithNft()
    {
        using var inside = new NamespaceThread($"/var/run/netns/{_ours}");
        uint empty = inside.Run(NfTablesClient.Generation);
        Assert.That(inside.Run(() => NfTablesClient.RuleHandles(Nft.FamilyIpv4, FirewallRulesGenerator.NftTable)), Is.Empty, "no table yet");
        Assert.That(OursEcho(inside, Batch(0)).ExitCode, Is.Zero);
        Assert.That(OursEcho(inside, Batch(1)).ExitCode, Is.Zero);
        Assert.That(inside.Run(NfTablesClient.Generation), Is.EqualTo(empty + 2), "one generation per transaction");
        foreach (var (family, keyword) in new[] { (Nft.FamilyIpv4, "ip"), (Nft.FamilyIpv6, "ip6") })
        {
            string listing = Tools.Run(_ip, ["netns", "exec", _ours, _nft, "-a", "list", "table", keyword, FirewallRulesGenerator.NftTable]).Stdout;
            var listed = System.Text.RegularExpressions.Regex.Matches(listing, @"^\t\t.* # handle (\d+)$", System.Text.RegularExpressions.RegexOptions.Multiline)
                .Select(m => ulong.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)).ToHashSet();
            Assert.That(listed, Is.Not.Empty);
            Assert.That(inside.Run(() => NfTablesClient.RuleHandles(family, FirewallRulesGenerator.NftTable)), Is.EquivalentTo(listed), keyword);
        }
    }

    [Test]
    public void TheWatchFindsTheNetworkWhoseRuleWasDeleted()
    {
        using var inside = new NamespaceThread($"/var/run/netns/{_ours}");
        var runner = new LibNftablesRunner(new ProcessFirewallRunner());
        var nets = new[] { 0, 1 }.Select(n => new WatchedNetwork(Guid.NewGuid(),
            inside.Run(() => new FirewallApplier(runner).Apply(FirewallRulesGenerator.Build(NetworkXml.Parse(Network(n)), FirewallBackendType.Nftables))),
            $"vnne{n}")).ToArray();
        var watch = new FirewallWatch(runner, kernelDirect: true);
        Assert.That(inside.Run(() => watch.Broken(nets)), Is.Empty);
        Assert.That(inside.Run(() => watch.Broken(nets)), Is.Empty, "the same generation");
        var delete = Tools.Run(_ip, ["netns", "exec", _ours, _nft, .. nets[1].Removal!.Groups[0].Actions[0].Args]);
        Assert.That(delete.ExitCode, Is.Zero, delete.ToString());
        Assert.That(inside.Run(() => watch.Broken(nets)).Select(n => n.Uuid), Is.EqualTo(new[] { nets[1].Uuid }));
    }
}
