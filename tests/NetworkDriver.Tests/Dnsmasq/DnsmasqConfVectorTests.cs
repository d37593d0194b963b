using System.Text.RegularExpressions;
using VirtNetworkd.NetworkDriver.Backend.Dnsmasq;
using VirtNetworkd.NetworkDriver.Xml;

namespace VirtNetworkd.NetworkDriver.Tests.Dnsmasq;

/// <summary>
/// libvirt's networkxml2conftest: for every case of tests/networkxml2confdata, the dnsmasq.conf
/// and the dhcp hostsfile equal the vectors byte for byte (the 9.0 and 11.3 trees hold the same
/// vectors; 10.8 writes the same). The capabilities are made, as in libvirt's test, from a
/// fake "/usr/sbin/dnsmasq --version" answering "Dnsmasq version 2.67".
/// </summary>
[TestFixture]
public sealed partial class DnsmasqConfVectorTests
{
    private static string DataDir => Path.Combine(LibvirtVectors.Tests113, "networkxml2confdata");

    internal static DnsmasqCaps FakeCaps()
    {
        var probe = new DnsmasqCapsProbe(path => path == "/usr/sbin/dnsmasq" ? "Dnsmasq version 2.67\n" : throw new InvalidOperationException(path));
        return probe.Get("/usr/sbin/dnsmasq");
    }

    public static IEnumerable<TestCaseData> Cases()
    {
        string src = LibvirtVectors.ReadC(Path.Combine(LibvirtVectors.Tests113, "networkxml2conftest.c"));
        return DoTest().Matches(src).Select(m => m.Groups[1].Value).Select(n => new TestCaseData(n).SetName("conf " + n));
    }

    [GeneratedRegex(@"DO_TEST\(""([^""]+)"",\s*full\)")]
    private static partial Regex DoTest();

    [Test]
    public void TheTestProgramHasEveryVectorAndTheTreesAgree()
    {
        var names = Cases().Select(c => (string)c.Arguments[0]!).ToList();
        Assert.That(names, Has.Count.EqualTo(27));
        var xmls = Directory.GetFiles(DataDir, "*.xml").Select(Path.GetFileNameWithoutExtension).Order(StringComparer.Ordinal);
        Assert.That(names.Order(StringComparer.Ordinal), Is.EqualTo(xmls));
        string old = Path.Combine(LibvirtVectors.Tests90, "networkxml2confdata");
        foreach (string f in Directory.GetFiles(DataDir))
            Assert.That(File.ReadAllText(Path.Combine(old, Path.GetFileName(f))), Is.EqualTo(File.ReadAllText(f)), f);
    }

    [TestCaseSource(nameof(Cases))]
    public void ConfAndHostsFileEqualLibvirts(string name)
    {
        NetworkDef def = NetworkXml.Parse(File.ReadAllText(Path.Combine(DataDir, name + ".xml")));
        DnsmasqFiles files = DnsmasqConfig.Generate(def, new DnsmasqPaths(DnsmasqPaths.DefaultStateDir, DnsmasqPaths.DefaultPidDir), null, FakeCaps());

        Assert.That(files.Config, Is.EqualTo(File.ReadAllText(Path.Combine(DataDir, name + ".conf"))));
        string hostsVector = Path.Combine(DataDir, name + ".hostsfile");
        if (File.Exists(hostsVector))
            Assert.That(files.Hosts.HostsFileText(), Is.EqualTo(File.ReadAllText(hostsVector)));
        else
            Assert.That(files.Hosts.DhcpHosts, Is.Empty, "libvirt's test: no hostsfile vector means no hosts");
    }
}
