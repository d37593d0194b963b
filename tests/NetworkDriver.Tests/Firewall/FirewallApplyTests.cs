using VirtNetworkd.Errors;
using VirtNetworkd.NetworkDriver.Backend;
using VirtNetworkd.NetworkDriver.Backend.Firewall;
using VirtNetworkd.NetworkDriver.Driver;
using VirtNetworkd.NetworkDriver.Xml;

namespace VirtNetworkd.NetworkDriver.Tests.Firewall;

/// <summary>The batch renderers, the apply layer over a recording runner, the removal plan, the live NAT port range, network.conf.</summary>
[TestFixture]
public sealed class FirewallApplyTests
{
    private const string NatXml = """
        <network>
          <name>default</name>
          <bridge name="virbr0"/>
          <forward/>
          <ip address="192.168.122.1" netmask="255.255.255.0">
            <dhcp><range start="192.168.122.2" end="192.168.122.254"/></dhcp>
          </ip>
          <ip family="ipv6" address="2001:db8:ca2:2::1" prefix="64"/>
        </network>
        """;

    private static NetworkDef Nat() => NetworkXml.Parse(NatXml);

    /// <summary>Answers nft batches with one "# handle N" line per command, N counting from 100; the chain queries find nothing.</summary>
    private static FirewallRunResult NftHost(FirewallRun run)
    {
        if (run.Program == "nft" && run.Args.Contains("--echo"))
        {
            var lines = run.Stdin!.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            return new FirewallRunResult(0, string.Concat(lines.Select((l, i) => $"{l} # handle {100 + i}\n")) + "# new generation 7 by process 1 (nft)\n", "");
        }
        if (run.Program == "nft" && run.Args[0] == "list") return new FirewallRunResult(1, "", "Error: No such file or directory");
        return FirewallRunResult.Success;
    }

    [Test]
    public void NftBatchHoldsExactlyThePlansRulesInOrder()
    {
        FirewallRuleSet set = FirewallRulesGenerator.Build(Nat(), FirewallBackendType.Nftables);
        var adds = set.Groups.SelectMany(g => g.Rules).Select(r => r.Add).ToList();
        string script = FirewallBatch.Nft(adds);
        var lines = script.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(lines, Has.Length.EqualTo(adds.Count));
        for (int i = 0; i < adds.Count; i++)
            Assert.That(lines[i].Replace("\"virbr0\"", "virbr0", StringComparison.Ordinal), Is.EqualTo(string.Join(' ', adds[i].Args)));
        Assert.That(lines[0], Is.EqualTo("insert rule ip libvirt_network guest_output iif \"virbr0\" counter reject"));
        Assert.That(script, Does.Contain("insert rule ip libvirt_network guest_nat meta l4proto tcp ip saddr 192.168.122.0/24 ip daddr != 192.168.122.0/24 counter masquerade to :1024-65535\n"));
        Assert.That(script, Does.Contain("insert rule ip6 libvirt_network guest_input ip6 daddr 2001:db8:ca2:2::/64 oif \"virbr0\" counter accept\n"));
    }

    [Test]
    public void IptablesRestoreHoldsExactlyThePlansRulesPerTable()
    {
        FirewallRuleSet set = FirewallRulesGenerator.Build(Nat(), FirewallBackendType.Iptables);
        var v4 = set.Groups[0].Rules.Select(r => r.Add).Where(a => a.Layer == FirewallLayer.Ipv4).ToList();
        string text = FirewallBatch.IptablesRestore(v4, FirewallLayer.Ipv4);
        var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(lines.Where(l => l.StartsWith('*')), Is.EqualTo(new[] { "*filter", "*nat" }));
        Assert.That(lines.Count(l => l == "COMMIT"), Is.EqualTo(2));
        var ruleLines = lines.Where(l => l.StartsWith("--", StringComparison.Ordinal) || l.StartsWith("-p", StringComparison.Ordinal)).ToList();
        Assert.That(ruleLines, Has.Count.EqualTo(v4.Count));
        // each table's rules keep their order; --table becomes the section
        var expected = v4.Where(a => a.Args[1] == "filter").Concat(v4.Where(a => a.Args[1] == "nat"))
            .Select(a => string.Join(' ', a.Args.Skip(2))).ToList();
        Assert.That(ruleLines, Is.EqualTo(expected));
        Assert.That(text, Does.StartWith("*filter\n--insert LIBVIRT_INP --in-interface virbr0 --protocol tcp --destination-port 67 --jump ACCEPT\n"));
        Assert.That(text, Does.Contain("*nat\n--insert LIBVIRT_PRT --source 192.168.122.0/24 ! --destination 192.168.122.0/24 --jump MASQUERADE\n"));
        Assert.That(() => FirewallBatch.IptablesRestore(v4, FirewallLayer.Ipv6), Throws.ArgumentException);
    }

    [Test]
    public void NftStartIsOneBatchAndTheRemovalDeletesByHandle()
    {
        var runner = new RecordingFirewallRunner(NftHost);
        FirewallRuleSet set = FirewallRulesGenerator.Build(Nat(), FirewallBackendType.Nftables);
        FirewallPlan removal = new FirewallApplier(runner).Apply(set)!;

        var runs = runner.Runs;
        Assert.That(runs.Select(r => string.Join(' ', [r.Program, .. r.Args])), Is.EqualTo(new[]
        {
            "nft list chains ip",
            "nft list chain ip libvirt_network forward",
            "nft list chains ip6",
            "nft list chain ip6 libvirt_network forward",
            "nft --echo --handle -f -",
        }));
        string script = runs[4].Stdin!;
        int chainCmds = 2 * 9; // add table, 5 chains, 3 jumps, per family
        int rules = set.Groups[0].Rules.Count;
        Assert.That(script.Split('\n', StringSplitOptions.RemoveEmptyEntries), Has.Length.EqualTo(chainCmds + rules));

        Assert.That(removal.Name, Is.EqualTo("fwRemoval"));
        Assert.That(removal.Backend, Is.EqualTo(FirewallBackendType.Nftables));
        Assert.That(removal.Groups, Has.Count.EqualTo(1));
        var acts = removal.Groups[0].Actions;
        Assert.That(acts, Has.Count.EqualTo(rules));
        // last added first; handles from the echo (chain commands took 100..117)
        Assert.That(acts[0].Args, Is.EqualTo(new[] { "delete", "rule", "ip6", "libvirt_network", "guest_input", "handle", (100 + chainCmds + rules - 1).ToString(System.Globalization.CultureInfo.InvariantCulture) }));
        Assert.That(acts[^1].Args, Is.EqualTo(new[] { "delete", "rule", "ip", "libvirt_network", "guest_output", "handle", (100 + chainCmds).ToString(System.Globalization.CultureInfo.InvariantCulture) }));

        // libvirt's status format, and back
        string xml = FirewallPlanXml.Format(removal);
        Assert.That(xml, Does.StartWith("<firewall name='fwRemoval' backend='nftables'>\n  <group ignoreErrors='yes'>\n    <action layer='ipv6'>\n      <args>\n        <item>delete</item>"));
        Assert.That(FirewallPlanXml.Parse(VirtNetworkd.NetworkDriver.Xml.Dom.SafeXmlParser.Parse(xml, "firewall", VirErrorDomain.Network)), Is.EqualTo(removal).Using<FirewallPlan>(SamePlan));

        // destroy: one batch of the deletes
        var runner2 = new RecordingFirewallRunner();
        new FirewallApplier(runner2).Remove(removal);
        Assert.That(runner2.Runs, Has.Count.EqualTo(1));
        Assert.That(runner2.Runs[0].Args, Is.EqualTo(new[] { "-f", "-" }));
        Assert.That(runner2.Runs[0].Stdin, Is.EqualTo(FirewallBatch.Nft(acts)));
    }

    private static bool SamePlan(FirewallPlan a, FirewallPlan b) =>
        a.Backend == b.Backend && a.Name == b.Name && a.Groups.Count == b.Groups.Count
        && a.Groups.Zip(b.Groups).All(p => p.First.IgnoreErrors == p.Second.IgnoreErrors
            && p.First.Actions.Count == p.Second.Actions.Count
            && p.First.Actions.Zip(p.Second.Actions).All(x => x.First.Layer == x.Second.Layer && x.First.Args.SequenceEqual(x.Second.Args)));

    [Test]
    public void AFailedBatchChangesNothingAndIsReported()
    {
        var runner = new RecordingFirewallRunner(run => run.Args.Contains("--echo")
            ? new FirewallRunResult(1, "", "Error: Interface does not exist")
            : FirewallRunResult.Success);
        var e = Assert.Throws<LibvirtError>(() => new FirewallApplier(runner).Apply(FirewallRulesGenerator.Build(Nat(), FirewallBackendType.Nftables)));
        Assert.That(e!.Message, Does.Contain("Failed to apply firewall command 'nft --echo --handle -f -': Error: Interface does not exist"));
        // the batch was the only change attempted, and nothing was run to undo anything
        Assert.That(runner.Runs.Count(r => r.Stdin is not null), Is.EqualTo(1));
    }

    [Test]
    public void RemovalFallsBackToOneCommandAtATimeWhenTheBatchFails()
    {
        FirewallRuleSet set = FirewallRulesGenerator.Build(Nat(), FirewallBackendType.Nftables);
        FirewallPlan removal = new FirewallApplier(new RecordingFirewallRunner(NftHost)).Apply(set)!;
        var runner = new RecordingFirewallRunner(run => run.Stdin is not null
            ? new FirewallRunResult(1, "", "Error: Could not process rule: No such file or directory")
            : FirewallRunResult.Success);
        var log = new List<string>();
        new FirewallApplier(runner, log.Add).Remove(removal);
        Assert.That(runner.Runs, Has.Count.EqualTo(1 + removal.Groups[0].Actions.Count));
        Assert.That(runner.Runs[1].Program, Is.EqualTo("nft"));
        Assert.That(runner.Runs[1].Args[0], Is.EqualTo("delete"));
        Assert.That(log, Has.Some.Contains("one rule at a time"));
    }

    [Test]
    public void IptablesStartIsOneRestorePerFamilyAndTheChecksumGroupIsOptional()
    {
        var runner = new RecordingFirewallRunner(run =>
            run.Stdin is { } s && s.Contains("CHECKSUM", StringComparison.Ordinal)
                ? new FirewallRunResult(2, "", "iptables-restore: unknown target CHECKSUM")
                : FirewallRunResult.Success);
        var log = new List<string>();
        FirewallRuleSet set = FirewallRulesGenerator.Build(Nat(), FirewallBackendType.Iptables);
        FirewallPlan removal = new FirewallApplier(runner, log.Add).Apply(set)!;

        var restores = runner.Runs.Where(r => r.Stdin is not null).ToList();
        Assert.That(restores.Select(r => r.Program), Is.EqualTo(new[] { "iptables-restore", "ip6tables-restore", "iptables-restore" }));
        Assert.That(restores[0].Args, Is.EqualTo(new[] { "--noflush", "-w" }));
        Assert.That(restores[0].Stdin, Does.Contain("--new-chain LIBVIRT_INP\n"));
        Assert.That(log, Has.Some.Contains("CHECKSUM"));
        // the failed optional group leaves no undo; the main group's undo deletes every rule, last first
        Assert.That(removal.Groups, Has.Count.EqualTo(1));
        var del = removal.Groups[0].Actions;
        Assert.That(del, Has.Count.EqualTo(set.Groups[0].Rules.Count));
        Assert.That(del[^1].Args, Is.EqualTo(new[] { "--table", "filter", "--delete", "LIBVIRT_INP", "--in-interface", "virbr0", "--protocol", "tcp", "--destination-port", "67", "--jump", "ACCEPT" }));
        Assert.That(FirewallPlanXml.Format(removal), Does.StartWith("<firewall name='fwRemoval' backend='iptables'>\n  <group ignoreErrors='yes'>\n    <action layer='ipv6'>"));
    }

    [Test]
    public void AFailingSecondFamilyTakesTheFirstBack()
    {
        var runner = new RecordingFirewallRunner(run => run.Program == "ip6tables-restore"
            ? new FirewallRunResult(1, "", "ip6tables-restore: line 2 failed")
            : FirewallRunResult.Success);
        Assert.Throws<LibvirtError>(() => new FirewallApplier(runner).Apply(FirewallRulesGenerator.Build(Nat(), FirewallBackendType.Iptables)));
        var restores = runner.Runs.Where(r => r.Stdin is not null).ToList();
        Assert.That(restores.Select(r => r.Program), Is.EqualTo(new[] { "iptables-restore", "ip6tables-restore", "iptables-restore" }));
        Assert.That(restores[2].Stdin, Does.Contain("--delete LIBVIRT_INP"));
        Assert.That(restores[2].Stdin, Does.Not.Contain("--insert"));
    }

    [Test]
    public void TcChecksumFilterIsSkippedWithALogLineWhenTheKernelLacksActCsum()
    {
        var runner = new RecordingFirewallRunner(run =>
            run.Program == "tc" && run.Args[0] == "filter" ? new FirewallRunResult(2, "", "Error: Failed to load TC action module.")
            : NftHost(run));
        var log = new List<string>();
        FirewallRuleSet set = FirewallRulesGenerator.Build(Nat(), FirewallBackendType.Nftables, FirewallOptions.Libvirt113);
        FirewallPlan removal = new FirewallApplier(runner, log.Add).Apply(set)!;
        Assert.That(log, Has.Some.Contains("act_csum"));
        Assert.That(removal.Groups[0].Actions.Any(a => a.Layer == FirewallLayer.Tc), Is.False);
        Assert.That(removal.Groups[0].Actions, Has.Count.EqualTo(set.Groups[0].Rules.Count - 1));
    }

    [Test]
    public void Libvirt108AddsNoTcFilter()
    {
        FirewallRuleSet set = FirewallRulesGenerator.Build(Nat(), FirewallBackendType.Nftables);
        Assert.That(set.TcPrepare, Is.Empty);
        Assert.That(set.Groups.SelectMany(g => g.Rules).Any(r => r.Add.Layer == FirewallLayer.Tc), Is.False);
    }

    [Test]
    public void TheNatPortRangeIsFilledIntoTheLiveDefinition()
    {
        NetworkDef def = Nat();
        foreach (var backend in new[] { FirewallBackendType.Nftables, FirewallBackendType.Iptables })
        {
            FirewallRuleSet set = FirewallRulesGenerator.Build(def, backend);
            Assert.That(set.LiveDefinition, Is.Not.Null);
            Assert.That(def.Forward.NatPortStart, Is.Zero, "the given definition is not changed");
            Assert.That(NetworkXml.Format(set.LiveDefinition!), Does.Contain("<nat>\n      <port start='1024' end='65535'/>\n    </nat>"));
        }
        NetworkDef isolated = NetworkXml.Parse("<network><name>i</name><bridge name='virbr9'/><ip address='10.0.0.1' prefix='24'/></network>");
        Assert.That(FirewallRulesGenerator.Build(isolated, FirewallBackendType.Nftables).LiveDefinition, Is.Null);
        NetworkDef open = NetworkXml.Parse("<network><name>o</name><bridge name='virbr9'/><forward mode='open'/><ip address='10.0.0.1' prefix='24'/></network>");
        Assert.That(FirewallRulesGenerator.Build(open, FirewallBackendType.Nftables).IsEmpty, Is.True);
    }

    [Test]
    public void NetworkConfChoosesTheBackendAsLibvirtDoes()
    {
        const string file = "/etc/libvirt/network.conf";
        Assert.That(NetworkDriverConfig.Load(file, null, _ => true).FirewallBackend, Is.EqualTo(FirewallBackendType.Nftables));
        Assert.That(NetworkDriverConfig.Load(file, null, p => p == "iptables").FirewallBackend, Is.EqualTo(FirewallBackendType.Iptables));
        Assert.That(NetworkDriverConfig.Load(file, "iptables", _ => true).FirewallBackend, Is.EqualTo(FirewallBackendType.Iptables));
        Assert.That(() => NetworkDriverConfig.Load(file, "nftables", p => p == "iptables"),
            Throws.TypeOf<LibvirtError>().With.Message.EqualTo("internal error: requested firewall_backend 'nftables' is not available"));
        Assert.That(() => NetworkDriverConfig.Load(file, null, _ => false),
            Throws.TypeOf<LibvirtError>().With.Message.EqualTo("internal error: could not find a usable firewall backend"));
        Assert.That(() => NetworkDriverConfig.Load(file, "ebtables", _ => true),
            Throws.TypeOf<LibvirtError>().With.Message.EqualTo("internal error: unrecognized firewall_backend = 'ebtables' set in network driver config file /etc/libvirt/network.conf"));
    }

    [Test]
    public void CommandTextFollowsVirCommandToString()
    {
        Assert.That(LibvirtCommandLine.ToText(["iptables", "-w", "--table", "nat", "--source", "10.0.0.0/24", "!", "--destination", "x"]),
            Is.EqualTo("iptables \\\n-w \\\n--table nat \\\n--source 10.0.0.0/24 '!' \\\n--destination x"));
        Assert.That(LibvirtCommandLine.ShellEscape("it's"), Is.EqualTo("'it'\\''s'"));
        Assert.That(LibvirtCommandLine.ShellEscape(""), Is.EqualTo("''"));
    }
}
