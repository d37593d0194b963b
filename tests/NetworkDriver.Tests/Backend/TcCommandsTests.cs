using VirtNetworkd.Errors;
using VirtNetworkd.NetworkDriver.Backend.Bandwidth;
using VirtNetworkd.NetworkDriver.Backend.Firewall;
using VirtNetworkd.NetworkDriver.Xml;
using VirtNetworkd.NetworkDriver.Xml.Net;

namespace VirtNetworkd.NetworkDriver.Tests.Backend;

/// <summary>
/// The tc commands of libvirt's virnetdevbandwidth.c. The Set vectors are those of libvirt 9.0's
/// tests/virnetdevbandwidthtest.c (10.8 runs the same commands; 11.3's vectors add the
/// "qdisc show dev eth0 handle 1:" probe of 10.10), which calls virNetDevBandwidthSet(iface, band,
/// hierarchical_class=false, swapped=true). The hierarchical, Plug, Unplug and UpdateRate cases have
/// no vectors upstream; their expectations are read off virnetdevbandwidth.c.
/// </summary>
public sealed class TcCommandsTests
{
    private static BandwidthRate R(ulong average, ulong peak = 0, ulong floor = 0, ulong burst = 0) =>
        new() { Average = average, Peak = peak, Floor = floor, Burst = burst };

    private static string Lines(IReadOnlyList<TcCommand> cmds) => string.Concat(cmds.Select(c => c + "\n"));

    public static IEnumerable<TestCaseData> SetVectors()
    {
        yield return new TestCaseData(null, "").SetName("no bandwidth");
        yield return new TestCaseData(new BandwidthDef(), "tc qdisc del dev eth0 root\ntc qdisc del dev eth0 ingress\n")
            .SetName("<bandwidth/> (libvirt's parser gives NULL here: nothing runs; an empty def only clears)");
        yield return new TestCaseData(new BandwidthDef { Inbound = R(1024) },
            "tc qdisc del dev eth0 root\n" +
            "tc qdisc del dev eth0 ingress\n" +
            "tc qdisc add dev eth0 root handle 1: htb default 1\n" +
            "tc class add dev eth0 parent 1: classid 1:1 htb rate 1024kbps quantum 87\n" +
            "tc qdisc add dev eth0 parent 1:1 handle 2: sfq perturb 10\n" +
            "tc filter add dev eth0 parent 1:0 protocol all prio 1 handle 1 fw flowid 1\n").SetName("inbound average 1024");
        yield return new TestCaseData(new BandwidthDef { Outbound = R(1024) },
            "tc qdisc del dev eth0 root\n" +
            "tc qdisc del dev eth0 ingress\n" +
            "tc qdisc add dev eth0 ingress\n" +
            "tc filter add dev eth0 parent ffff: protocol all u32 match u32 0 0 police rate 1024kbps burst 1024kb mtu 64kb drop flowid :1\n")
            .SetName("outbound average 1024");
        yield return new TestCaseData(new BandwidthDef { Inbound = R(1, peak: 2, floor: 3, burst: 4), Outbound = R(5, peak: 6, burst: 7) },
            "tc qdisc del dev eth0 root\n" +
            "tc qdisc del dev eth0 ingress\n" +
            "tc qdisc add dev eth0 root handle 1: htb default 1\n" +
            "tc class add dev eth0 parent 1: classid 1:1 htb rate 1kbps ceil 2kbps burst 4kb quantum 1\n" +
            "tc qdisc add dev eth0 parent 1:1 handle 2: sfq perturb 10\n" +
            "tc filter add dev eth0 parent 1:0 protocol all prio 1 handle 1 fw flowid 1\n" +
            "tc qdisc add dev eth0 ingress\n" +
            "tc filter add dev eth0 parent ffff: protocol all u32 match u32 0 0 police rate 5kbps burst 7kb mtu 64kb drop flowid :1\n")
            .SetName("all attributes");
        yield return new TestCaseData(new BandwidthDef { Inbound = R(4294967295), Outbound = R(4294967295) },
            "tc qdisc del dev eth0 root\n" +
            "tc qdisc del dev eth0 ingress\n" +
            "tc qdisc add dev eth0 root handle 1: htb default 1\n" +
            "tc class add dev eth0 parent 1: classid 1:1 htb rate 4294967295kbps quantum 366503875\n" +
            "tc qdisc add dev eth0 parent 1:1 handle 2: sfq perturb 10\n" +
            "tc filter add dev eth0 parent 1:0 protocol all prio 1 handle 1 fw flowid 1\n" +
            "tc qdisc add dev eth0 ingress\n" +
            "tc filter add dev eth0 parent ffff: protocol all u32 match u32 0 0 police rate 4294967295kbps burst 4194303kb mtu 64kb drop flowid :1\n")
            .SetName("UINT_MAX rates: burst capped to fit tc's u32 of bytes");
    }

    [TestCaseSource(nameof(SetVectors))]
    public void SetRunsLibvirtsCommands(BandwidthDef? band, string expected) =>
        Assert.That(Lines(TcCommands.Set("eth0", band, hierarchicalClass: false, swapped: true)), Is.EqualTo(expected));

    [Test]
    public void ANetworkBridgeGetsTheHierarchicalTree()
    {
        var band = new BandwidthDef { Inbound = R(1000, peak: 2000, burst: 512, floor: 200), Outbound = R(500) };
        Assert.That(Lines(TcCommands.Set("virbr9", band, hierarchicalClass: true, swapped: true)), Is.EqualTo(
            "tc qdisc del dev virbr9 root\n" +
            "tc qdisc del dev virbr9 ingress\n" +
            "tc qdisc add dev virbr9 root handle 1: htb default 2\n" +
            "tc class add dev virbr9 parent 1: classid 1:1 htb rate 1000kbps ceil 2000kbps quantum 85\n" +
            "tc class add dev virbr9 parent 1:1 classid 1:2 htb rate 1000kbps ceil 2000kbps burst 512kb quantum 85\n" +
            "tc qdisc add dev virbr9 parent 1:2 handle 2: sfq perturb 10\n" +
            "tc filter add dev virbr9 parent 1:0 protocol all prio 1 handle 1 fw flowid 1\n" +
            "tc qdisc add dev virbr9 ingress\n" +
            "tc filter add dev virbr9 parent ffff: protocol all u32 match u32 0 0 police rate 500kbps burst 500kb mtu 64kb drop flowid :1\n"));
    }

    [Test]
    public void ClearDeletesRootAndIngressIgnoringFailures()
    {
        var cmds = TcCommands.Clear("virbr9");
        Assert.That(Lines(cmds), Is.EqualTo("tc qdisc del dev virbr9 root\ntc qdisc del dev virbr9 ingress\n"));
        Assert.That(cmds.All(c => c.IgnoreExitStatus));
    }

    [Test]
    public void PlugAddsClassSfqAndMacFilter()
    {
        var net = new BandwidthDef { Inbound = R(1000, peak: 2000) };
        var cmds = TcCommands.Plug("virbr9", net, MacAddr.Parse("52:54:00:ab:cd:ef"), new BandwidthDef { Inbound = R(100, floor: 50) }, 11);
        Assert.That(Lines(cmds), Is.EqualTo(
            "tc class add dev virbr9 parent 1:1 classid 1:b htb rate 50kbps ceil 2000kbps quantum 8\n" +
            "tc qdisc add dev virbr9 parent 1:b handle b: sfq perturb 10\n" +
            "tc filter add dev virbr9 protocol ip prio 2 handle 800::811 u32 match u16 0x0800 0xffff at -2" +
            " match u32 0x00abcdef 0xffffffff at -12 match u16 0x5254 0xffff at -14 flowid 1:b\n"),
            "class ids in hex, filter handle 800::(800+id) in decimal, ceil the network's peak");
        Assert.That(cmds.Any(c => c.IgnoreExitStatus), Is.False);
    }

    [Test]
    public void PlugRefusesLowIdsAndANetworkWithoutInboundQos()
    {
        var port = new BandwidthDef { Inbound = R(100, floor: 50) };
        var mac = MacAddr.Parse("52:54:00:ab:cd:ef");
        var e = Assert.Throws<LibvirtError>(() => TcCommands.Plug("virbr9", new BandwidthDef { Inbound = R(10) }, mac, port, 2));
        Assert.That(e!.Message, Does.Contain("Invalid class ID 2"));
        e = Assert.Throws<LibvirtError>(() => TcCommands.Plug("virbr9", new BandwidthDef { Outbound = R(10) }, mac, port, 3));
        Assert.That(e!.Message, Does.Contain("Bridge 'virbr9' has no QoS set, therefore unable to set 'floor' on '52:54:00:ab:cd:ef'"));
    }

    [Test]
    public void UnplugDeletesQdiscFilterAndClassIgnoringFailures()
    {
        var cmds = TcCommands.Unplug("virbr9", 26);
        Assert.That(Lines(cmds), Is.EqualTo(
            "tc qdisc del dev virbr9 handle 1a:\n" +
            "tc filter del dev virbr9 prio 2 handle 800::826 u32\n" +
            "tc class del dev virbr9 classid 1:1a\n"));
        Assert.That(cmds.All(c => c.IgnoreExitStatus));
    }

    [Test]
    public void UpdateRateChangesTheClassWithTheNetworksCeilAndQuantum()
    {
        var net = new BandwidthDef { Inbound = R(1000) };
        Assert.That(Lines(TcCommands.UpdateRate("virbr9", 2, net, 950)), Is.EqualTo(
            "tc class change dev virbr9 classid 1:2 htb rate 950kbps ceil 1000kbps quantum 85\n"));
    }

    private static FirewallRunResult Fail(string stderr) => new(1, "", stderr);

    [Test]
    public void TheRunnerBatchesAndSkipsWhatTheKernelLacks()
    {
        var log = new List<string>();
        int n = 0;
        var runner = new RecordingFirewallRunner(run => run.Args[0] == "-force" ? FirewallRunResult.Success
            : ++n == 1 ? Fail("Error: Specified qdisc kind is unknown.\nCommand failed -:4\n") : FirewallRunResult.Success);
        var band = new BandwidthDef { Inbound = R(1000) };
        new TcRunner(runner, log.Add).Run(TcCommands.Set("virbr9", band, true, true));
        Assert.That(runner.Runs.Select(r => string.Join(' ', r.Args)), Is.EqualTo(new[] { "-force -batch -", "-batch -", "-batch -" }));
        Assert.That(runner.Runs[0].Stdin, Is.EqualTo("qdisc del dev virbr9 root\nqdisc del dev virbr9 ingress\n"));
        Assert.That(runner.Runs[2].Stdin, Is.EqualTo("filter add dev virbr9 parent 1:0 protocol all prio 1 handle 1 fw flowid 1\n"),
            "after the skipped sfq, the rest of the batch");
        Assert.That(log, Has.Count.EqualTo(1));
        Assert.That(log[0], Does.Contain("sfq").And.Contain("Specified qdisc kind is unknown"));
    }

    [Test]
    public void AnyOtherFailureStopsTheRunWithLibvirtsMessage()
    {
        var runner = new RecordingFirewallRunner(run => run.Args[0] == "-force" ? FirewallRunResult.Success
            : Fail("RTNETLINK answers: File exists\nWe have an error talking to the kernel\nCommand failed -:2\n"));
        var e = Assert.Throws<LibvirtError>(() => new TcRunner(runner, _ => { }).Run(TcCommands.Set("virbr9", new BandwidthDef { Inbound = R(1000) }, true, true)));
        Assert.That(e!.Message, Does.Contain("Child process (tc class add dev virbr9 parent 1: classid 1:1 htb rate 1000kbps ceil 1000kbps quantum 85) unexpected exit status 2: RTNETLINK answers: File exists"));
        Assert.That(runner.Runs, Has.Count.EqualTo(2));
    }
}
