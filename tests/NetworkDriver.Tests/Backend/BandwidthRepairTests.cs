using VirtNetworkd.Errors;
using VirtNetworkd.NetworkDriver.Backend.Bandwidth;
using VirtNetworkd.NetworkDriver.Backend.Firewall;
using VirtNetworkd.NetworkDriver.Driver;
using VirtNetworkd.NetworkDriver.Xml;
using VirtNetworkd.NetworkDriver.Xml.Net;

namespace VirtNetworkd.NetworkDriver.Tests.Backend;

/// <summary>
/// What a restarted daemon puts back of a network's tc tree (beyond libvirt): nothing when the tree
/// is there, the whole tree with the ports' classes when its root is gone, single ports' classes, the
/// ingress. The trees are tc's own output on this kernel (iproute2 6.1) for libvirt's commands.
/// </summary>
public sealed class BandwidthRepairTests
{
    private static readonly BandwidthDef Net = new()
    {
        Inbound = new BandwidthRate { Average = 1000, Peak = 2000, Burst = 512 },
        Outbound = new BandwidthRate { Average = 500 },
    };

    private static readonly PortFloor Port3 = new(MacAddr.Parse("52:54:00:7b:35:93"),
        new BandwidthDef { Inbound = new BandwidthRate { Average = 100, Floor = 50 } }, 3);

    private static readonly PortFloor Port10 = new(MacAddr.Parse("52:54:00:00:00:0a"),
        new BandwidthDef { Inbound = new BandwidthRate { Average = 100, Floor = 20 } }, 10);

    private const string Qdiscs =
        "qdisc htb 1: root refcnt 2 r2q 10 default 0x2 direct_packets_stat 0 direct_qlen 1000\n" +
        "qdisc ingress ffff: parent ffff:fff1 ----------------\n";

    private const string Classes =
        "class htb 1:1 root rate 8Mbit ceil 16Mbit burst 1600b cburst 1600b \n" +
        "class htb 1:2 parent 1:1 prio 0 rate 15440Kbit ceil 16Mbit burst 1580b cburst 1600b \n" +
        "class htb 1:3 parent 1:1 prio 0 rate 400Kbit ceil 16Mbit burst 1600b cburst 1600b \n" +
        "class htb 1:a parent 1:1 prio 0 rate 160Kbit ceil 16Mbit burst 1600b cburst 1600b \n";

    private static string Lines(IReadOnlyList<TcCommand> cmds) => string.Concat(cmds.Select(c => c + "\n"));

    private static string Plan(string tree) =>
        Lines(BandwidthRepair.Plan("vnbr0", Net, TcTree.Parse(tree), [Port3, Port10], 1930));

    [Test]
    public void AnIntactTreeIsLeftAlone()
    {
        Assert.That(Plan(Qdiscs + Classes), Is.Empty);
    }

    [Test]
    public void TheParserReadsKindHandleAndParent()
    {
        var tree = TcTree.Parse(Qdiscs + Classes + "qdisc sfq 3: parent 1:3 limit 127p quantum 1514b depth 127 divisor 1024 perturb 10sec \n");
        Assert.That(tree.Qdiscs, Does.Contain(new TcTree.Node("htb", "1:", "root")).And.Contain(new TcTree.Node("ingress", "ffff:", "ffff:fff1"))
            .And.Contain(new TcTree.Node("sfq", "3:", "1:3")));
        Assert.That(tree.HasClass("1:a", "1:1") && tree.HasClass("1:1", "root") && tree.HasRootHtb && tree.HasIngress);
        Assert.That(TcTree.Parse("qdisc noqueue 0: root refcnt 2 \n").HasRootHtb, Is.False);
    }

    [Test]
    public void AMissingRootIsMadeAgainWithThePortsClassesAndTheUnguaranteedRate()
    {
        Assert.That(Plan("qdisc noqueue 0: root refcnt 2 \nqdisc ingress ffff: parent ffff:fff1 ----------------\n"), Is.EqualTo(
            "tc qdisc del dev vnbr0 root\n" +
            "tc qdisc add dev vnbr0 root handle 1: htb default 2\n" +
            "tc class add dev vnbr0 parent 1: classid 1:1 htb rate 1000kbps ceil 2000kbps quantum 85\n" +
            "tc class add dev vnbr0 parent 1:1 classid 1:2 htb rate 1000kbps ceil 2000kbps burst 512kb quantum 85\n" +
            "tc qdisc add dev vnbr0 parent 1:2 handle 2: sfq perturb 10\n" +
            "tc filter add dev vnbr0 parent 1:0 protocol all prio 1 handle 1 fw flowid 1\n" +
            "tc class add dev vnbr0 parent 1:1 classid 1:3 htb rate 50kbps ceil 2000kbps quantum 8\n" +
            "tc qdisc add dev vnbr0 parent 1:3 handle 3: sfq perturb 10\n" +
            "tc filter add dev vnbr0 protocol ip prio 2 handle 800::803 u32 match u16 0x0800 0xffff at -2 match u32 0x007b3593 0xffffffff at -12 match u16 0x5254 0xffff at -14 flowid 1:3\n" +
            "tc class add dev vnbr0 parent 1:1 classid 1:a htb rate 20kbps ceil 2000kbps quantum 8\n" +
            "tc qdisc add dev vnbr0 parent 1:a handle a: sfq perturb 10\n" +
            "tc filter add dev vnbr0 protocol ip prio 2 handle 800::810 u32 match u16 0x0800 0xffff at -2 match u32 0x0000000a 0xffffffff at -12 match u16 0x5254 0xffff at -14 flowid 1:a\n" +
            "tc class change dev vnbr0 classid 1:2 htb rate 1930kbps ceil 2000kbps quantum 85\n"));
    }

    [Test]
    public void ARootWithoutLibvirtsClassesIsMadeAgain()
    {
        string plan = Plan(Qdiscs + "class htb 1:1 root rate 8Mbit ceil 16Mbit burst 1600b cburst 1600b \n");
        Assert.That(plan, Does.StartWith("tc qdisc del dev vnbr0 root\ntc qdisc add dev vnbr0 root handle 1: htb default 2\n"));
        Assert.That(plan, Does.Not.Contain("ingress"), "the ingress is there");
    }

    [Test]
    public void OnlyAPortWhoseClassIsMissingIsPluggedAgain()
    {
        string classes = string.Join('\n', Classes.Split('\n').Where(l => !l.StartsWith("class htb 1:a ", StringComparison.Ordinal)));
        Assert.That(Plan(Qdiscs + classes), Is.EqualTo(
            "tc qdisc del dev vnbr0 handle a:\n" +
            "tc filter del dev vnbr0 prio 2 handle 800::810 u32\n" +
            "tc class del dev vnbr0 classid 1:a\n" +
            "tc class add dev vnbr0 parent 1:1 classid 1:a htb rate 20kbps ceil 2000kbps quantum 8\n" +
            "tc qdisc add dev vnbr0 parent 1:a handle a: sfq perturb 10\n" +
            "tc filter add dev vnbr0 protocol ip prio 2 handle 800::810 u32 match u16 0x0800 0xffff at -2 match u32 0x0000000a 0xffffffff at -12 match u16 0x5254 0xffff at -14 flowid 1:a\n"));
    }

    [Test]
    public void AMissingIngressGetsItsPoliceFilterAgain()
    {
        Assert.That(Plan("qdisc htb 1: root refcnt 2 r2q 10 default 0x2\n" + Classes), Is.EqualTo(
            "tc qdisc add dev vnbr0 ingress\n" +
            "tc filter add dev vnbr0 parent ffff: protocol all u32 match u32 0 0 police rate 500kbps burst 500kb mtu 64kb drop flowid :1\n"));
    }

    [Test]
    public void AnOutboundOnlyNetworkLooksOnlyAtItsIngress()
    {
        var outbound = new BandwidthDef { Outbound = new BandwidthRate { Average = 500 } };
        Assert.That(BandwidthRepair.Plan("vnbr0", outbound, TcTree.Parse("qdisc ingress ffff: parent ffff:fff1 ----------------\n"), [], null), Is.Empty);
        Assert.That(BandwidthRepair.Plan("vnbr0", outbound, TcTree.Parse("qdisc noqueue 0: root refcnt 2 \n"), [], null), Has.Count.EqualTo(2));
    }

    [Test]
    public void AMissingDeviceFailsAsLibvirtReportsIt()
    {
        // tc exits 1 when the device does not exist (2 when the kernel refuses); libvirt shows tc's stderr as it is
        var runner = new RecordingFirewallRunner(run => run.Args[0] == "-force" ? FirewallRunResult.Success
            : new FirewallRunResult(1, "", "Cannot find device \"vnnx0\"\nCommand failed -:1\n"));
        var e = Assert.Throws<LibvirtError>(() => new TcRunner(runner, _ => { }).Run(TcCommands.Set("vnnx0", Net, true, true)));
        Assert.That(e!.Message, Is.EqualTo("internal error: Child process (tc qdisc add dev vnnx0 root handle 1: htb default 2) unexpected exit status 1: Cannot find device \"vnnx0\"\n"));
        Assert.That(new TcRunner(runner, _ => { }).Show("vnnx0"), Is.Null, "a device that is gone has no tree");
    }
}
