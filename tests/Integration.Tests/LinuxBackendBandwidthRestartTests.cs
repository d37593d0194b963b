using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace VirtNetworkd.Integration.Tests;

/// <summary>
/// Beyond libvirt (its networkUpdateState and reload never look at the tc tree): a network's tc
/// tree that someone removed while the daemon was down (kill -9, SIGTERM) or while it ran (then
/// SIGHUP) is back after the restart or the reload, the ports' floors with the same class ids;
/// an intact tree is left alone (same qdiscs, classes and rates, counters not reset: the
/// guests' shaping goes on undisturbed). In a namespace of the test's own.
/// </summary>
public sealed class LinuxBackendBandwidthRestartTests
{
    private LinuxBackendNamespace _ns = null!;

    private const string Bridge = "vnrsbw0";
    private const string NetXml = $"""
        <network><name>lbrs</name><bridge name='{Bridge}' stp='off'/>
        {LinuxBackendBandwidthTests.Bandwidth}
        <ip address='198.18.8.1' netmask='255.255.255.0'/></network>
        """;

    private const string PortUuid = "5d0c8a4e-7a3f-4e51-b0a6-2f1e3c9d7b42";
    private const string PortXml = $"""
        <networkport>
          <uuid>{PortUuid}</uuid>
          <owner><name>guest</name><uuid>d54df46f-1ab5-4a22-8618-4560ef5fac2c</uuid></owner>
          <mac address='52:54:00:7b:35:93'/>
          <bandwidth><inbound average='100' floor='50'/></bandwidth>
        </networkport>
        """;

    private const string Repaired = "added again what was missing";

    [SetUp]
    public void CreateNamespace() => _ns = new LinuxBackendNamespace("vndrs");

    [TearDown]
    public void RemoveNamespace() => _ns.Dispose();

    /// <summary>The network with its bandwidth and one port with a floor (class 1:3), running.</summary>
    private string[] StartNetworkWithAFloor()
    {
        _ns.StartDaemon();
        _ns.VirshOk("net-define", _ns.File("net.xml", NetXml));
        _ns.VirshOk("net-start", "lbrs");
        _ns.VirshOk("net-port-create", "lbrs", _ns.File("port.xml", PortXml));
        string[] tree = _ns.TcTree(Bridge);
        TestContext.Out.WriteLine(string.Join("\n", tree));
        Assert.That(tree, Has.Some.StartWith("class htb 1:3 parent 1:1 "), "the port's class");
        Assert.That(tree, Has.Some.Contain("fh 800::803 "), "the port's filter");
        Assert.That(tree, Has.Some.Match(@"^class htb 1:2 parent 1:1 .*rate 15600Kbit "), "the unguaranteed class: the peak less the floor");
        return tree;
    }

    private void RemoveRoot(bool ingressToo = false)
    {
        Assert.That(_ns.Tc("qdisc", "del", "dev", Bridge, "root").ExitCode, Is.Zero);
        if (ingressToo) Assert.That(_ns.Tc("qdisc", "del", "dev", Bridge, "ingress").ExitCode, Is.Zero);
        Assert.That(_ns.TcTree(Bridge), Has.None.Contain("htb"), "the tree is gone");
    }

    [Test]
    public void ATreeSomeoneRemovedIsBackAfterARestartAndOnSighupWithThePortsClassIds()
    {
        string[] tree = StartNetworkWithAFloor();

        _ns.KillDaemon();
        RemoveRoot();
        _ns.StartDaemon();
        Assert.That(_ns.TcTree(Bridge), Is.EqualTo(tree), "after kill -9 and a start\n" + _ns.D.Stderr);
        Assert.That(_ns.D.Stderr, Does.Contain($"network 'lbrs': the tc tree of its <bandwidth> on bridge {Bridge} was incomplete"));

        Assert.That(_ns.D.Stop(), Is.Zero);
        RemoveRoot(ingressToo: true);
        _ns.StartDaemon();
        Assert.That(_ns.TcTree(Bridge), Is.EqualTo(tree), "after SIGTERM and a start\n" + _ns.D.Stderr);

        RemoveRoot();
        _ns.ReloadAndWait();
        Assert.That(_ns.TcTree(Bridge), Is.EqualTo(tree), "after SIGHUP\n" + _ns.D.Stderr);

        // the class id the port's status keeps is the one on the bridge: unplugging it removes it
        _ns.VirshOk("net-port-delete", "lbrs", PortUuid);
        Assert.That(_ns.TcTree(Bridge).Where(l => l.Contains("1:3", StringComparison.Ordinal) || l.Contains("800::803", StringComparison.Ordinal)), Is.Empty);
        _ns.VirshOk("net-destroy", "lbrs");
        Assert.That(_ns.D.Stderr, Does.Not.Contain("unexpected exit status"));
    }

    /// <summary>Bytes sent through the qdisc or class whose line starts with <paramref name="head"/> in <c>tc -s</c> output.</summary>
    private static ulong Sent(string stats, string head)
    {
        var m = Regex.Match(stats, "^" + Regex.Escape(head) + @".*\n Sent (\d+) bytes", RegexOptions.Multiline);
        Assert.That(m.Success, $"'{head}' in\n{stats}");
        return ulong.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
    }

    [Test]
    public void AnIntactTreeIsLeftAloneByARestartAndBySighup()
    {
        string[] tree = StartNetworkWithAFloor();
        // a port on the bridge, so that it has a carrier
        Assert.That(_ns.Ip("link", "add", "vnrsv0", "type", "veth", "peer", "name", "vnrsv1").ExitCode, Is.Zero);
        Assert.That(_ns.Ip("link", "set", "vnrsv0", "master", Bridge, "up").ExitCode, Is.Zero);
        Assert.That(_ns.Ip("link", "set", "vnrsv1", "up").ExitCode, Is.Zero);
        // a datagram to a guest that is not there: the ARP request for it goes out through the tree
        var send = Tools.Run(_ns.IpPath, ["netns", "exec", _ns.Name, "bash", "-c", "echo x > /dev/udp/198.18.8.2/9"]);
        Assert.That(send.ExitCode, Is.Zero, send.ToString());
        var sw = Stopwatch.StartNew();
        while (_ns.Tc("-s", "qdisc", "show", "dev", Bridge).Stdout.Contains(" Sent 0 bytes", StringComparison.Ordinal) && sw.ElapsedMilliseconds < 3000) Thread.Sleep(50);
        string qdiscs = _ns.Tc("-s", "qdisc", "show", "dev", Bridge).Stdout, classes = _ns.Tc("-s", "class", "show", "dev", Bridge).Stdout;
        TestContext.Out.WriteLine(qdiscs + classes);
        ulong rootSent = Sent(qdiscs, "qdisc htb 1: root"), defaultSent = Sent(classes, "class htb 1:2 ");
        Assert.That(rootSent, Is.GreaterThan(0), "traffic went through the tree");

        _ns.KillDaemon();
        _ns.StartDaemon();
        _ns.ReloadAndWait();

        Assert.That(_ns.TcTree(Bridge), Is.EqualTo(tree), "the same qdiscs, classes (handles and rates) and filters");
        string qdiscsAfter = _ns.Tc("-s", "qdisc", "show", "dev", Bridge).Stdout, classesAfter = _ns.Tc("-s", "class", "show", "dev", Bridge).Stdout;
        Assert.That(Sent(qdiscsAfter, "qdisc htb 1: root"), Is.GreaterThanOrEqualTo(rootSent), "the root qdisc was not replaced: its counters go on");
        Assert.That(Sent(classesAfter, "class htb 1:2 "), Is.GreaterThanOrEqualTo(defaultSent), "nor the unguaranteed class");
        Assert.That(_ns.D.Stderr, Does.Not.Contain(Repaired));
    }
}
