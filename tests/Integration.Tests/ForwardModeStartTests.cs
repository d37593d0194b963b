using System.Text.RegularExpressions;

namespace VirtNetworkd.Integration.Tests;

/// <summary>
/// The forward modes that create no bridge, with the Linux backend in a namespace this test
/// creates: bridge mode on a host bridge (made here with `ip link add … type bridge`), and the
/// live definitions and start errors of bridge, macvtap and hostdev networks compared with the
/// reference daemon's (libvirt 9.0) for the same XML.
/// </summary>
public sealed partial class ForwardModeStartTests
{
    private string _ns = "", _ip = "", _root = "";
    private DaemonProcess? _daemon;

    [SetUp]
    public void StartOurs() => Tools.UndoIfFails(StartOursSteps, StopOurs);

    private void StartOursSteps()
    {
        _ip = Tools.Require("ip", "iproute2");
        Tools.Require("nft", "nftables");
        _ns = "vndfm" + Guid.NewGuid().ToString("N")[..8];
        Assert.That(Tools.Run(_ip, ["netns", "add", _ns]).ExitCode, Is.Zero);
        Tools.Run(_ip, ["-n", _ns, "link", "set", "lo", "up"]);
        _root = DaemonProcess.NewRoot();
        StartDaemon();
    }

    [TearDown]
    public void StopOurs()
    {
        _daemon?.Dispose();
        Tools.Run(_ip, ["netns", "del", _ns]);
        try { Directory.Delete(_root, recursive: true); } catch (IOException) { }
    }

    private void StartDaemon() => _daemon = DaemonProcess.Start(root: _root, networkNamespace: _ns,
        env: new Dictionary<string, string> { ["VIRTNETWORKD_BACKEND"] = "linux" });

    private Tools.Result Virsh(params string[] args) => Tools.Virsh(_daemon!.Uri, args);

    private string Write(string name, string xml)
    {
        string path = Path.Combine(_root, name + ".xml");
        File.WriteAllText(path, xml);
        return path;
    }

    /// <summary>Whether this kernel can turn on a bridge's VLAN filtering (CONFIG_BRIDGE_VLAN_FILTERING), tried on a scratch bridge.</summary>
    private bool KernelHasBridgeVlanFiltering()
    {
        Tools.Run(_ip, ["-n", _ns, "link", "add", "vnscratch0", "type", "bridge"]);
        bool ok = Tools.Run(_ip, ["-n", _ns, "link", "set", "vnscratch0", "type", "bridge", "vlan_filtering", "1"]).ExitCode == 0;
        Tools.Run(_ip, ["-n", _ns, "link", "del", "vnscratch0"]);
        return ok;
    }

    private string BridgeDetails(string bridge) => Tools.Run(_ip, ["-n", _ns, "-d", "link", "show", bridge]).Stdout;

    [Test]
    public void BridgeModeUsesTheHostBridgeAsItIsAndTurnsOnVlanFilteringForMacTableManagerLibvirt()
    {
        Assert.That(Tools.Run(_ip, ["-n", _ns, "link", "add", "vnhost0", "type", "bridge"]).ExitCode, Is.Zero);
        Assert.That(BridgeDetails("vnhost0"), Does.Contain("vlan_filtering 0"));
        Assert.That(Virsh("net-define", Write("hb", "<network><name>hb</name><forward mode='bridge'/><bridge name='vnhost0' macTableManager='libvirt'/></network>")).ExitCode, Is.Zero);
        var start = Virsh("net-start", "hb");
        if (!KernelHasBridgeVlanFiltering())
        {
            // libvirt's sysfs write fails the same way, and it reports its ioctl fallback's error
            Assert.That(start.Stderr, Does.Contain("error: Unable to set bridge vnhost0 vlan_filtering via ioctl: Invalid argument"), start.ToString());
            Assert.That(Virsh("net-undefine", "hb").ExitCode, Is.Zero);
            Assert.That(Virsh("net-define", Write("hb", "<network><name>hb</name><forward mode='bridge'/><bridge name='vnhost0'/></network>")).ExitCode, Is.Zero);
            start = Virsh("net-start", "hb");
        }
        Assert.That(start.ExitCode, Is.Zero, start + "\n" + _daemon!.Stderr);
        if (KernelHasBridgeVlanFiltering())
            Assert.That(BridgeDetails("vnhost0"), Does.Contain("vlan_filtering 1"), "libvirt's vlan_filtering for macTableManager='libvirt'");
        Assert.That(Tools.Run(_ip, ["netns", "exec", _ns, "nft", "list", "ruleset"]).Stdout, Does.Not.Contain("libvirt_network"), "no firewall for bridge mode");

        Assert.That(Virsh("net-destroy", "hb").ExitCode, Is.Zero);
        Assert.That(BridgeDetails("vnhost0"), Does.Contain("vnhost0"), "the host's bridge stays");

        // a bridge that does not exist (yet): libvirt starts the network anyway, unless it must set vlan_filtering
        Assert.That(Virsh("net-define", Write("nb", "<network><name>nb</name><forward mode='bridge'/><bridge name='vnnosuch0'/></network>")).ExitCode, Is.Zero);
        Assert.That(Virsh("net-start", "nb").ExitCode, Is.Zero);
        Assert.That(Virsh("net-define", Write("nv", "<network><name>nv</name><forward mode='bridge'/><bridge name='vnnosuch1' macTableManager='libvirt'/></network>")).ExitCode, Is.Zero);
        var failed = Virsh("net-start", "nv");
        Assert.That(failed.Stderr, Does.Contain("error: Unable to set bridge vnnosuch1 vlan_filtering via ioctl: Invalid argument"));

        // networkUpdateState: at the next daemon start a bridge-mode network whose bridge is gone is not active
        Assert.That(Virsh("net-start", "hb").ExitCode, Is.Zero);
        Assert.That(_daemon!.Stop(), Is.Zero);
        Assert.That(Tools.Run(_ip, ["-n", _ns, "link", "del", "vnhost0"]).ExitCode, Is.Zero);
        StartDaemon();
        string active = Virsh("net-list", "--name").Stdout;
        Assert.That(active, Does.Not.Contain("hb").And.Not.Contain("nb"));
    }

    /// <summary>Networks whose start is the same on any host (no real device is needed), as libvirt 9.0 answers them.</summary>
    private static readonly string[] SameEverywhere =
    [
        "<network><name>xb1</name><forward mode='bridge'/><bridge name='nosuchbr0'/></network>",
        "<network><name>xb2</name><forward mode='bridge'/><bridge name='nosuchbr1' macTableManager='libvirt'/></network>",
        "<network><name>xb4</name><forward mode='bridge'/><bridge name='ovsbr0'/><virtualport type='openvswitch'><parameters interfaceid='09b11c53-8b5c-4eeb-8f00-d84eaa0aaa4f'/></virtualport></network>",
        "<network><name>xp1</name><forward mode='private'><interface dev='eth10'/><interface dev='eth11'/></forward></network>",
        "<network><name>xp2</name><forward mode='vepa'><pf dev='nosuchpf0'/></forward></network>",
        "<network><name>xp4</name><forward mode='passthrough' dev='eth20'><interface dev='eth20'/></forward><virtualport type='802.1Qbh'><parameters profileid='prof1'/></virtualport></network>",
        "<network><name>xp5</name><forward mode='bridge' dev='eth30'/></network>",
        "<network><name>xp6</name><forward mode='hostdev'><pf dev='lo'/></forward></network>",
    ];

    [Test]
    public void LiveDefinitionsAndStartErrorsAreTheReferences()
    {
        string reference = ReferenceDaemon.Uri;
        int i = 0;
        foreach (string xml in SameEverywhere)
        {
            string name = NameOf().Match(xml).Groups[1].Value;
            string file = Write("same" + i++, xml);
            var theirs = Tools.Virsh(reference, "net-create", file);
            var ours = Virsh("net-create", file);
            try
            {
                Assert.That(ours.ExitCode, Is.EqualTo(theirs.ExitCode), $"{name}: ours {ours}, libvirt {theirs}");
                if (theirs.ExitCode != 0)
                {
                    Assert.That(ours.Stderr.Replace("network from " + file, "", StringComparison.Ordinal),
                        Is.EqualTo(theirs.Stderr.Replace("network from " + file, "", StringComparison.Ordinal)), name);
                    continue;
                }
                string Live(string uri) => Uuid().Replace(Tools.Virsh(uri, "net-dumpxml", name).Stdout, "<uuid/>");
                Assert.That(Live(_daemon!.Uri), Is.EqualTo(Live(reference)), name);
            }
            finally
            {
                Tools.Virsh(reference, "net-destroy", name);
                Virsh("net-destroy", name);
            }
        }
    }

    [GeneratedRegex("<name>([^<]+)</name>")]
    private static partial Regex NameOf();

    [GeneratedRegex("<uuid>[^<]+</uuid>")]
    private static partial Regex Uuid();
}
