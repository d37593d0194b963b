using System.Text.RegularExpressions;

namespace VirtNetworkd.Integration.Tests;

/// <summary>
/// The same NAT, routed and isolated networks started on the reference daemon (libvirt 9.0, which
/// uses iptables, in its own namespace) and on ours with the Linux backend and
/// firewall_backend = "iptables" (in a namespace this test creates): the rules each leaves in its
/// namespace's iptables-save (counters stripped) and the live XML are the same.
/// </summary>
public sealed partial class LinuxBackendDifferentialTests
{
    private const string ReferenceNamespace = "vnref";
    private string _ns = "", _ip = "", _root = "";
    private DaemonProcess? _daemon;

    [SetUp]
    public void StartOurs() => Tools.UndoIfFails(StartOursSteps, StopOurs);

    private void StartOursSteps()
    {
        _ip = Tools.Require("ip", "iproute2");
        Tools.Require("iptables-save", "iptables");
        _ns = "vndif" + Guid.NewGuid().ToString("N")[..8];
        Assert.That(Tools.Run(_ip, ["netns", "add", _ns]).ExitCode, Is.Zero);
        _root = DaemonProcess.NewRoot();
        Directory.CreateDirectory(Path.Combine(_root, "etc/libvirt"));
        File.WriteAllText(Path.Combine(_root, "etc/libvirt/network.conf"), "firewall_backend = \"iptables\"\n");
        _daemon = DaemonProcess.Start(root: _root, networkNamespace: _ns, env: new Dictionary<string, string> { ["VIRTNETWORKD_BACKEND"] = "linux" });
    }

    [TearDown]
    public void StopOurs()
    {
        _daemon?.Dispose();
        Tools.Run(_ip, ["netns", "del", _ns]);
        try { Directory.Delete(_root, recursive: true); } catch (IOException) { }
    }

    /// <summary>The rules that name the network's bridge or subnet, in order, counters stripped.</summary>
    private string[] Rules(string ns) => Tools.Run(_ip, ["netns", "exec", ns, "iptables-save"]).Stdout.Split('\n')
        .Where(l => l.Contains("vndiff0", StringComparison.Ordinal) || l.Contains("203.0.113.", StringComparison.Ordinal))
        .Select(l => Counters().Replace(l, "")).ToArray();

    [GeneratedRegex(@"^\[\d+:\d+\] ")]
    private static partial Regex Counters();

    [TestCase("<forward mode='nat'/>")]
    [TestCase("<forward mode='route'/>")]
    [TestCase("")]
    public void TheRulesAndTheLiveXmlAreTheReferences(string forward)
    {
        string xml = Path.Combine(_root, "diff.xml");
        File.WriteAllText(xml, $"""
            <network><name>lbdiff</name><uuid>0b2f4a52-7c1e-4d5e-8f90-123456789abc</uuid>{forward}
            <bridge name='vndiff0' stp='on' delay='0'/><mac address='52:54:00:de:ad:01'/>
            <ip address='203.0.113.1' netmask='255.255.255.0'/></network>
            """);
        string reference = ReferenceDaemon.Uri;
        try
        {
            foreach (string uri in new[] { reference, _daemon!.Uri })
            {
                Assert.That(Tools.Virsh(uri, "net-define", xml).ExitCode, Is.Zero);
                var start = Tools.Virsh(uri, "net-start", "lbdiff");
                Assert.That(start.ExitCode, Is.Zero, start.ToString());
            }
            var theirs = Rules(ReferenceNamespace);
            Assert.That(theirs, Is.Not.Empty, "the reference added rules for the network");
            TestContext.Out.WriteLine(string.Join("\n", theirs));
            Assert.That(Rules(_ns), Is.EqualTo(theirs));
            Assert.That(Tools.Virsh(_daemon.Uri, "net-dumpxml", "lbdiff").Stdout, Is.EqualTo(Tools.Virsh(reference, "net-dumpxml", "lbdiff").Stdout));
        }
        finally
        {
            foreach (string uri in new[] { reference, _daemon!.Uri })
            {
                Tools.Virsh(uri, "net-destroy", "lbdiff");
                Tools.Virsh(uri, "net-undefine", "lbdiff");
            }
        }
        Assert.That(Rules(_ns), Is.Empty, "ours removed every rule");
        Assert.That(Rules(ReferenceNamespace), Is.Empty, "and so did the reference");
    }
}
