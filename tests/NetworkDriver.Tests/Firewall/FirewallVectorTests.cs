using System.Text;
using VirtNetworkd.NetworkDriver.Backend;
using VirtNetworkd.NetworkDriver.Backend.Firewall;
using VirtNetworkd.NetworkDriver.Xml;

namespace VirtNetworkd.NetworkDriver.Tests.Firewall;

/// <summary>
/// libvirt 11.3's networkxml2firewalltest: for every X.xml of tests/networkxml2firewalldata with an
/// X-linux.nftables or X-linux.iptables vector, the commands a recording runner sees when libvirt
/// starts that network equal the vector, after dropping the global chain set-up (base.nftables /
/// base.iptables) at the front, as libvirt's test does.
/// </summary>
[TestFixture]
public sealed class FirewallVectorTests
{
    private static string DataDir => Path.Combine(LibvirtVectors.Tests113, "networkxml2firewalldata");

    public static IEnumerable<TestCaseData> Cases()
    {
        var data = new List<TestCaseData>();
        foreach (string xml in Directory.GetFiles(DataDir, "*.xml").Order(StringComparer.Ordinal))
        {
            string name = Path.GetFileNameWithoutExtension(xml);
            foreach (string backend in new[] { "nftables", "iptables" })
                if (File.Exists(Path.Combine(DataDir, $"{name}-linux.{backend}"))) data.Add(new TestCaseData(name, backend).SetName($"{name}-linux.{backend}"));
        }
        return data;
    }

    [Test]
    public void EveryCaseOfLibvirtsTestProgramHasBothVectors()
    {
        string src = LibvirtVectors.ReadC(Path.Combine(LibvirtVectors.Tests113, "networkxml2firewalltest.c"));
        var names = System.Text.RegularExpressions.Regex.Matches(src, @"DO_TEST\(""([^""]+)""\)").Select(m => m.Groups[1].Value).Distinct().ToList();
        Assert.That(names, Has.Count.EqualTo(11));
        var cases = Cases().Select(c => ((string)c.Arguments[0]!, (string)c.Arguments[1]!)).ToHashSet();
        foreach (string n in names)
        {
            Assert.That(cases, Does.Contain((n, "nftables")));
            Assert.That(cases, Does.Contain((n, "iptables")));
        }
    }

    [TestCaseSource(nameof(Cases))]
    public void CommandsEqualLibvirtsVector(string name, string backendName)
    {
        var backend = backendName == "nftables" ? FirewallBackendType.Nftables : FirewallBackendType.Iptables;
        NetworkDef def = NetworkXml.Parse(File.ReadAllText(Path.Combine(DataDir, name + ".xml")));
        string expected = File.ReadAllText(Path.Combine(DataDir, $"{name}-linux.{backendName}"));
        string baseArgs = File.ReadAllText(Path.Combine(DataDir, "base." + backendName));

        string actual = Record(def, backend);
        // libvirt's test: the first network also creates the global chains; skip them if present
        Assert.That(actual, Does.StartWith(baseArgs), "the global chains, as base." + backendName);
        actual = actual[baseArgs.Length..];
        Assert.That(actual, Is.EqualTo(expected));
    }

    /// <summary>libvirt 9.0's iptables vectors (X-linux.args, base.args): the iptables rules have not changed since.</summary>
    public static IEnumerable<TestCaseData> Cases90()
    {
        string dir = Path.Combine(LibvirtVectors.Tests90, "networkxml2firewalldata");
        return Directory.GetFiles(dir, "*-linux.args").Order(StringComparer.Ordinal)
            .Select(f => Path.GetFileName(f)[..^"-linux.args".Length])
            .Select(n => new TestCaseData(n).SetName($"9.0 {n}-linux.args"));
    }

    [TestCaseSource(nameof(Cases90))]
    public void IptablesCommandsEqualLibvirt90sVector(string name)
    {
        string dir = Path.Combine(LibvirtVectors.Tests90, "networkxml2firewalldata");
        NetworkDef def = NetworkXml.Parse(File.ReadAllText(Path.Combine(dir, name + ".xml")));
        string baseArgs = File.ReadAllText(Path.Combine(dir, "base.args"));
        string actual = Record(def, FirewallBackendType.Iptables);
        Assert.That(actual, Does.StartWith(baseArgs));
        Assert.That(actual[baseArgs.Length..], Is.EqualTo(File.ReadAllText(Path.Combine(dir, name + "-linux.args"))));
    }

    /// <summary>What libvirt 11.3's recording runner prints for a start on a host with no chains yet (every query answers nothing).</summary>
    internal static string Record(NetworkDef def, FirewallBackendType backend)
    {
        var sb = new StringBuilder();
        void Print(FirewallAction a, bool autoRollback) =>
            sb.Append(LibvirtCommandLine.ToText(LibvirtCommandLine.Argv(backend, a, autoRollback))).Append('\n');

        foreach (FirewallLayer layer in new[] { FirewallLayer.Ipv4, FirewallLayer.Ipv6 })
        {
            var queries = PrivateChains.Queries(backend, layer);
            foreach (FirewallAction q in queries) Print(q, false);
            foreach (FirewallAction c in PrivateChains.Create(backend, layer, new string?[queries.Count])) Print(c, false);
        }
        FirewallRuleSet set = FirewallRulesGenerator.Build(def, backend, FirewallOptions.Libvirt113);
        foreach (FirewallAction a in set.TcPrepare) Print(a, false);
        foreach (FirewallRuleGroup g in set.Groups)
            foreach (FirewallRule r in g.Rules) Print(r.Add, true);
        return sb.ToString();
    }
}
