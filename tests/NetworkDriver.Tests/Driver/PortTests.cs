using VirtNetworkd.NetworkDriver.Driver;
using VirtNetworkd.Errors;
using VirtNetworkd.NetworkDriver.Xml;
using VirtNetworkd.NetworkDriver.Xml.Net;

namespace VirtNetworkd.NetworkDriver.Tests.Driver;

[TestFixture]
public sealed class PortTests : DriverTestBase
{
    private const string P1 = "5d744f21-ba4a-4d6e-bdb2-30a35ff3207d";
    private const string P2 = "6d744f21-ba4a-4d6e-bdb2-30a35ff3207d";
    private const string P3 = "7d744f21-ba4a-4d6e-bdb2-30a35ff3207d";
    private const string Owner = "d54df46f-1ab5-4a22-8618-4560ef5fac2c";

    private static string PortXml(string uuid, string extra = "", string mac = "52:54:00:7b:35:93") =>
        $"<networkport><uuid>{uuid}</uuid><owner><name>guest</name><uuid>{Owner}</uuid></owner>" +
        $"<mac address='{mac}'/>{extra}</networkport>";

    private NetworkRef Started(string extra = "<forward mode='nat'/><ip address='192.168.122.1' prefix='24'/>", string name = "n1")
    {
        NetworkRef n = Drv.DefineXml(Xml(name, U1, extra), 0);
        Drv.Create(n);
        return n;
    }

    private static NetworkPortRef PortOf(NetworkRef n, string uuid) => new(n, VirUuid.Parse(uuid));

    [Test]
    public void CreateOnNatNetworkPlugsIntoItsBridgeAndCountsTheConnection()
    {
        NetworkRef n = Started();
        NetworkPortRef p = Drv.CreatePort(n, PortXml(P1), 0);
        Assert.That(p, Is.EqualTo(PortOf(n, P1)));
        Assert.That(Drv.GetPortXmlDesc(p, 0), Is.EqualTo(
            "<networkport>\n" +
            $"  <uuid>{P1}</uuid>\n" +
            "  <owner>\n    <name>guest</name>\n" +
            $"    <uuid>{Owner}</uuid>\n  </owner>\n" +
            "  <mac address='52:54:00:7b:35:93'/>\n" +
            "  <plug type='network' bridge='virbr0'/>\n" +
            "</networkport>\n"));
        Assert.That(Drv.GetXmlDesc(n, 0), Does.StartWith("<network connections='1'>"));
        Assert.That(Drv.GetXmlDesc(n, 1), Does.StartWith("<network>"));
        string file = Path.Combine(StateDir, "n1", "ports", P1 + ".xml");
        Assert.That(File.ReadAllText(file), Does.Contain($"  virsh net-port-create {P1}\n").And.Contain("<plug type='network' bridge='virbr0'/>"));
        Assert.That(Drv.LookupPort(n, VirUuid.Parse(P1)), Is.EqualTo(p));
    }

    [Test]
    public void PortsNeedARunningNetwork()
    {
        NetworkRef n = Drv.DefineXml(Xml("n1", U1), 0);
        Throws(() => Drv.CreatePort(n, PortXml(P1), 0))
            .Is(VirErrorCode.OperationInvalid, "Requested operation is not valid: network 'n1' is not active");
        Throws(() => Drv.ListAllPorts(n, 0))
            .Is(VirErrorCode.OperationInvalid, "Requested operation is not valid: network 'n1' is not active");
        Throws(() => Drv.LookupPort(n, VirUuid.Parse(P1)))
            .Is(VirErrorCode.NoNetworkPort, $"network port not found: Network port with UUID {P1} does not exist");
        Throws(() => Drv.CreatePort(new NetworkRef("gone", VirUuid.Parse(U2)), PortXml(P1), 0))
            .Is(VirErrorCode.NoNetwork, $"Network not found: no network with matching uuid '{U2}' (gone)");
    }

    [Test]
    public void DuplicateUnknownAndDeletedPorts()
    {
        NetworkRef n = Started();
        NetworkPortRef p = Drv.CreatePort(n, PortXml(P1), 0);
        Throws(() => Drv.CreatePort(n, PortXml(P1), 0))
            .Is(VirErrorCode.NetworkPortExist, $"network port Network port with UUID {P1} already exists exists already");
        Assert.That(Drv.GetXmlDesc(n, 0), Does.StartWith("<network connections='1'>"), "a refused duplicate gives its connection back");
        Throws(() => Drv.GetPortXmlDesc(PortOf(n, P2), 0))
            .Is(VirErrorCode.NoNetworkPort, $"network port not found: Network port with UUID {P2} does not exist");
        Drv.DeletePort(p, 0);
        Assert.That(Drv.GetXmlDesc(n, 0), Does.StartWith("<network>"));
        Assert.That(File.Exists(Path.Combine(StateDir, "n1", "ports", P1 + ".xml")), Is.False);
        Throws(() => Drv.DeletePort(p, 0)).Is(VirErrorCode.NoNetworkPort, $"network port not found: Network port with UUID {P1} does not exist");
        Throws(() => Drv.DeletePort(p, 1)).Is(VirErrorCode.InvalidArg, "unsupported flags (0x1) in function networkPortDelete");
    }

    [Test]
    public void ListIsSortedAndDestroyDropsEveryPort()
    {
        NetworkRef n = Started();
        Drv.CreatePort(n, PortXml(P3), 0);
        Drv.CreatePort(n, PortXml(P1), 0);
        Drv.CreatePort(n, PortXml(P2), 0);
        Assert.That(Drv.ListAllPorts(n, 0).Select(p => VirUuid.Format(p.Uuid)), Is.EqualTo(new[] { P1, P2, P3 }));
        Assert.That(Drv.GetXmlDesc(n, 0), Does.StartWith("<network connections='3'>"));
        Drv.Destroy(n);
        Assert.That(Directory.EnumerateFiles(Path.Combine(StateDir, "n1", "ports")), Is.Empty);
        Drv.Create(n);
        Assert.That(Drv.ListAllPorts(n, 0), Is.Empty);
        Assert.That(Drv.GetXmlDesc(n, 0), Does.StartWith("<network>"));
    }

    [Test]
    public void ReclaimFlagMustMatchWhetherThePortHasAPlug()
    {
        NetworkRef n = Started();
        Throws(() => Drv.CreatePort(n, PortXml(P1), NetworkDriver.Driver.NetworkDriver.PortCreateReclaim))
            .Is(VirErrorCode.InvalidArg, "invalid argument: Port reclaim requested but plug type is none");
        string plugged = PortXml(P1, "<plug type='network' bridge='virbr0'/>");
        Throws(() => Drv.CreatePort(n, plugged, 0))
            .Is(VirErrorCode.InvalidArg, "invalid argument: Port reclaim not requested but plug type is not none");
        Drv.CreatePort(n, plugged, NetworkDriver.Driver.NetworkDriver.PortCreateReclaim);
        Assert.That(Drv.GetXmlDesc(n, 0), Does.StartWith("<network connections='1'>"));
        Throws(() => Drv.CreatePort(n, PortXml(P2), 4))
            .Is(VirErrorCode.InvalidArg, "unsupported flags (0x4) in function networkPortCreateXML");
    }

    [Test]
    public void PortInheritsFromItsPortgroupThenTheNetwork()
    {
        NetworkRef n = Started(
            "<forward mode='nat'/><port isolated='yes'/>" +
            "<portgroup name='def' default='yes'><bandwidth><outbound average='100'/></bandwidth></portgroup>" +
            "<portgroup name='other' trustGuestRxFilters='yes'/>" +
            "<ip address='192.168.122.1' prefix='24'/>");
        string a = Drv.GetPortXmlDesc(Drv.CreatePort(n, PortXml(P1), 0), 0);
        Assert.That(a, Does.Not.Contain("<group>"));
        Assert.That(a, Does.Contain("<outbound average='100'/>").And.Contain("<port isolated='yes'/>").And.Not.Contain("rxfilters"));
        string b = Drv.GetPortXmlDesc(Drv.CreatePort(n, PortXml(P2, "<group>other</group>", "52:54:00:00:00:02"), 0), 0);
        Assert.That(b, Does.Contain("<rxfilters trustGuest='yes'/>").And.Not.Contain("bandwidth"));

        NetworkRef ovs = Drv.CreateXml("<network><name>ovs</name><forward mode='bridge'/><bridge name='ovsbr0'/>" +
            "<virtualport type='openvswitch'/><vlan><tag id='7'/></vlan>" +
            "<portgroup name='def' default='yes'><vlan><tag id='42'/></vlan></portgroup><portgroup name='other'/></network>", 0);
        Assert.That(Drv.GetPortXmlDesc(Drv.CreatePort(ovs, PortXml(P1), 0), 0), Does.Contain("<tag id='42'/>"));
        Assert.That(Drv.GetPortXmlDesc(Drv.CreatePort(ovs, PortXml(P2, "<group>other</group>"), 0), 0), Does.Contain("<tag id='7'/>"));
    }

    [Test]
    public void VirtualPortsAreCheckedAgainstTheForwardMode()
    {
        NetworkRef nat = Started();
        Throws(() => Drv.CreatePort(nat, PortXml(P1, "<virtualport type='openvswitch'/>"), 0))
            .Is(VirErrorCode.ConfigUnsupported,
                "unsupported configuration: <virtualport type='openvswitch'> not supported for network 'n1' which uses IP forwarding");
        Assert.That(Drv.GetXmlDesc(nat, 0), Does.StartWith("<network>"));

        NetworkRef ovs = Drv.CreateXml("<network><name>ovs</name><forward mode='bridge'/><bridge name='ovsbr0'/>" +
            "<virtualport type='openvswitch'/></network>", 0);
        string xml = Drv.GetPortXmlDesc(Drv.CreatePort(ovs, PortXml(P1), 0), 0);
        Assert.That(xml, Does.Match("<virtualport type='openvswitch'>\\s*<parameters interfaceid='[0-9a-f-]{36}'/>"));
        Assert.That(xml, Does.Contain("<plug type='bridge' bridge='ovsbr0'/>"));
    }

    [Test]
    public void DirectModePicksTheLeastUsedDeviceAndPassthroughNeedsAFreeOne()
    {
        NetworkRef vepa = Drv.CreateXml("<network><name>mv</name><forward mode='vepa'><interface dev='eth0'/><interface dev='eth1'/></forward></network>", 0);
        string[] devs = new[] { P1, P2, P3 }.Select(u => Drv.GetPortXmlDesc(Drv.CreatePort(vepa, PortXml(u), 0), 0)).ToArray();
        Assert.That(devs[0], Does.Contain("<plug type='direct' dev='eth0' mode='vepa'/>"));
        Assert.That(devs[1], Does.Contain("<plug type='direct' dev='eth1' mode='vepa'/>"));
        Assert.That(devs[2], Does.Contain("<plug type='direct' dev='eth0' mode='vepa'/>"));
        Assert.That(Drv.GetXmlDesc(vepa, 0), Does.Contain("<interface dev='eth0' connections='2'/>").And.Contain("<interface dev='eth1' connections='1'/>"));

        NetworkRef pt = Drv.CreateXml("<network><name>pt</name><forward mode='passthrough'><interface dev='eth2'/></forward></network>", 0);
        Drv.CreatePort(pt, PortXml(P1), 0);
        Throws(() => Drv.CreatePort(pt, PortXml(P2), 0))
            .Is(VirErrorCode.InternalError, "internal error: network 'pt' requires exclusive access to interfaces, but none are available");
    }

    [Test]
    public void PoolsComeFromThePhysicalFunctionsVirtualFunctions()
    {
        Backend.SetVirtualFunctions("enp1s0", [
            new VirtualFunction(new PciAddress(0, 1, 16, 0), "enp1s0v0"),
            new VirtualFunction(new PciAddress(0, 1, 16, 2), null),
        ]);
        NetworkRef hd = Drv.CreateXml("<network><name>hd</name><forward mode='hostdev' managed='yes'><pf dev='enp1s0'/></forward></network>", 0);
        Assert.That(Drv.GetXmlDesc(hd, 0), Does.Contain("<address type='pci' domain='0x0000' bus='0x01' slot='0x10' function='0x2'/>"));
        Assert.That(Drv.GetXmlDesc(hd, 1), Does.Not.Contain("<address"), "the pool is part of the live definition only");
        string a = Drv.GetPortXmlDesc(Drv.CreatePort(hd, PortXml(P1), 0), 0);
        Assert.That(a, Does.Contain("<plug type='hostdev-pci' managed='yes'>").And.Contain("slot='0x10' function='0x0'"));
        Drv.CreatePort(hd, PortXml(P2), 0);
        Throws(() => Drv.CreatePort(hd, PortXml(P3), 0))
            .Is(VirErrorCode.InternalError, "internal error: network 'hd' requires exclusive access to interfaces, but none are available");

        NetworkRef mv = Drv.CreateXml("<network><name>mv</name><forward mode='private'><pf dev='enp1s0'/></forward></network>", 0);
        Assert.That(Drv.GetPortXmlDesc(Drv.CreatePort(mv, PortXml(P1), 0), 0), Does.Contain("<plug type='direct' dev='enp1s0v0' mode='private'/>"));

        Throws(() => Drv.CreateXml("<network><name>none</name><forward mode='hostdev'><pf dev='nosuchpf0'/></forward></network>", 0))
            .Is(VirErrorCode.InternalError, "internal error: Could not get Virtual functions on nosuchpf0");
    }

    private const string QosNet =
        "<forward mode='nat'/><bandwidth><inbound average='1000' peak='2000'/></bandwidth><ip address='192.168.122.1' prefix='24'/>";

    private static string Floor(ulong floor) => $"<bandwidth><inbound average='10' floor='{floor}'/></bandwidth>";

    [Test]
    public void FloorsAreAccountedAgainstTheNetworksInboundPeak()
    {
        NetworkRef n = Started(QosNet);
        NetworkPortRef a = Drv.CreatePort(n, PortXml(P1, Floor(500)), 0);
        Assert.That(Drv.GetPortXmlDesc(a, 0), Does.Contain("<bandwidth classID='3'>"));
        string status = File.ReadAllText(Path.Combine(StateDir, "n1.xml"));
        Assert.That(status, Does.Contain("<class_id bitmap='0-3'/>").And.Contain("<floor sum='500'/>"));
        Assert.That(Backend.BandwidthClasses("virbr0"), Does.ContainKey(3u));
        Assert.That(Backend.BandwidthClasses("virbr0")[2], Is.EqualTo(1500), "the unguaranteed class gets what the floors leave of the peak");

        Throws(() => Drv.CreatePort(n, PortXml(P2, Floor(1600), "52:54:00:00:00:02"), 0))
            .Is(VirErrorCode.OperationInvalid,
                "Requested operation is not valid: Cannot plug '52:54:00:00:00:02' interface into 'virbr0' because new combined inbound floor=2100 would overcommit peak=2000 on network 'n1'");
        NetworkPortRef b = Drv.CreatePort(n, PortXml(P2, Floor(1500), "52:54:00:00:00:02"), 0);
        Assert.That(Drv.GetPortXmlDesc(b, 0), Does.Contain("<bandwidth classID='4'>"));

        Drv.DeletePort(a, 0);
        status = File.ReadAllText(Path.Combine(StateDir, "n1.xml"));
        Assert.That(status, Does.Contain("<class_id bitmap='0-2,4'/>").And.Contain("<floor sum='1500'/>"));
        NetworkPortRef c = Drv.CreatePort(n, PortXml(P3, Floor(100), "52:54:00:00:00:03"), 0);
        Assert.That(Drv.GetPortXmlDesc(c, 0), Does.Contain("<bandwidth classID='3'>"), "the lowest free class id is reused");
    }

    [Test]
    public void FloorNeedsAnInboundLimitAndAnL3Network()
    {
        NetworkRef n = Started();
        Throws(() => Drv.CreatePort(n, PortXml(P1, Floor(5)), 0))
            .Is(VirErrorCode.OperationUnsupported,
                "Operation not supported: Invalid use of 'floor' on interface with MAC address 52:54:00:7b:35:93 - network 'n1' has no inbound QoS set");
        NetworkRef br = Drv.CreateXml("<network><name>br</name><forward mode='bridge'/><bridge name='br0'/></network>", 0);
        Throws(() => Drv.CreatePort(br, PortXml(P1, Floor(5)), 0))
            .Is(VirErrorCode.OperationUnsupported,
                "Operation not supported: Invalid use of 'floor' on interface with MAC address 52:54:00:7b:35:93 - 'floor' is only supported for interface type 'network' with forward type 'nat', 'route', 'open' or none");
    }

    [Test]
    public void ParametersReadAndReplaceTheBandwidth()
    {
        NetworkRef n = Started(QosNet);
        NetworkPortRef p = Drv.CreatePort(n, PortXml(P1, "<bandwidth><inbound average='10' peak='20' floor='300' burst='5'/><outbound average='7'/></bandwidth>"), 0);
        Assert.That(Drv.GetPortParameters(p, 0).Select(x => $"{x.Field}={x.Value}"), Is.EqualTo(new[]
        {
            "inbound.average=10", "inbound.peak=20", "inbound.floor=300", "inbound.burst=5",
            "outbound.average=7", "outbound.peak=0", "outbound.burst=0",
        }));

        Drv.SetPortParameters(p, [new("inbound.average", 50), new("inbound.floor", 700), new("bogus", 1)], 0);
        Assert.That(Drv.GetPortParameters(p, 0).Select(x => $"{x.Field}={x.Value}"),
            Is.EqualTo(new[] { "inbound.average=50", "inbound.peak=0", "inbound.floor=700", "inbound.burst=0" }));
        Assert.That(File.ReadAllText(Path.Combine(StateDir, "n1.xml")), Does.Contain("<floor sum='700'/>"));
        Assert.That(File.ReadAllText(Path.Combine(StateDir, "n1", "ports", P1 + ".xml")),
            Does.Contain("<bandwidth classID='3'>").And.Contain("<inbound average='50' floor='700'/>"));

        Throws(() => Drv.SetPortParameters(p, [new("inbound.floor", 2500)], 0))
            .Is(VirErrorCode.OperationInvalid,
                "Requested operation is not valid: Cannot plug '52:54:00:7b:35:93' interface into 'virbr0' because new combined inbound floor=2500 would overcommit peak=2000 on network 'n1'");
        Assert.That(Drv.GetPortParameters(p, 0)[2], Is.EqualTo(new PortParameter("inbound.floor", 700)), "a refused change leaves the port as it was");

        Drv.SetPortParameters(p, [], 0);
        Assert.That(Drv.GetPortParameters(p, 0), Is.Empty);
        Assert.That(File.ReadAllText(Path.Combine(StateDir, "n1.xml")), Does.Contain("<floor sum='0'/>").And.Contain("<class_id bitmap='0-2'/>"));
        Assert.That(Drv.GetPortXmlDesc(p, 0), Does.Contain("<bandwidth>\n  </bandwidth>"));
    }

    [Test]
    public void RunningNetworksKeepTheirPortsAcrossADaemonRestart()
    {
        var backend = new InProcessBackend();
        var d1 = NewDriver(backend);
        d1.Load();
        NetworkRef n = d1.CreateXml("<network><name>mv</name><forward mode='vepa'><interface dev='eth0'/><interface dev='eth1'/></forward></network>", 0);
        d1.CreatePort(n, PortXml(P1), 0);
        d1.CreatePort(n, PortXml(P2), 0);

        var d2 = NewDriver(new InProcessBackend());
        d2.Load();
        Assert.That(d2.LoadErrors, Is.Empty);
        Assert.That(d2.ListAllPorts(n, 0).Select(p => VirUuid.Format(p.Uuid)), Is.EqualTo(new[] { P1, P2 }));
        Assert.That(d2.GetXmlDesc(n, 0), Does.Contain("<network connections='2'>")
            .And.Contain("<interface dev='eth0' connections='1'/>").And.Contain("<interface dev='eth1' connections='1'/>"));
        d2.DeletePort(PortOf(n, P1), 0);
        Assert.That(d2.GetXmlDesc(n, 0), Does.Contain("<network connections='1'>"));
    }

    [Test]
    public void FloorsOfRunningPortsAreGivenToTheBackendAgainAfterARestartAndOnReload()
    {
        NetworkRef n = Started(QosNet);
        Drv.CreatePort(n, PortXml(P1, Floor(500)), 0);
        Drv.CreatePort(n, PortXml(P2, Floor(300), "52:54:00:00:00:02"), 0);
        Drv.DeletePort(PortOf(n, P1), 0);
        Drv.CreatePort(n, PortXml(P3, Floor(100), "52:54:00:00:00:03"), 0); // takes class 3 again

        var backend = new InProcessBackend();
        var d2 = NewDriver(backend);
        d2.Load();
        Assert.That(d2.LoadErrors, Is.Empty);
        Assert.That(backend.BandwidthClasses("virbr0"), Is.EquivalentTo(new Dictionary<uint, ulong> { [3] = 100, [4] = 300, [2] = 1600 }),
            "each floor with the class id its port's status keeps; class 2 gets what the floors leave of the peak");

        Backend.BandwidthReconciles.Clear();
        Drv.Reload();
        Assert.That(Backend.BandwidthReconciles, Has.Count.EqualTo(1));
        var (network, floors, rate) = Backend.BandwidthReconciles[0];
        Assert.That(network, Is.EqualTo("n1"));
        Assert.That(floors.Select(f => (f.Mac.ToString(), f.ClassId, f.Bandwidth.Inbound!.Floor)),
            Is.EqualTo(new[] { ("52:54:00:00:00:03", 3u, 100ul), ("52:54:00:00:00:02", 4u, 300ul) }));
        Assert.That(rate, Is.EqualTo(1600));
    }

    [Test]
    public void ANetworkWithoutBandwidthHasNothingToReconcile()
    {
        Started();
        Backend.BandwidthReconciles.Clear();
        Drv.Reload();
        Assert.That(Backend.BandwidthReconciles, Is.Empty);
    }

    [Test]
    public void XmlDescIsFormattedOnceUntilSomethingChanges()
    {
        NetworkRef n = Started();
        string first = Drv.GetXmlDesc(n, 0);
        Assert.That(Drv.GetXmlDesc(n, 0), Is.SameAs(first));
        Assert.That(Drv.GetXmlDesc(n, 1), Is.Not.SameAs(first));
        NetworkPortRef p = Drv.CreatePort(n, PortXml(P1), 0);
        Assert.That(Drv.GetXmlDesc(n, 0), Does.StartWith("<network connections='1'>"));
        Drv.DeletePort(p, 0);
        Assert.That(Drv.GetXmlDesc(n, 0), Is.EqualTo(first));
        Drv.Update(n, 3, 4, -1, "<host mac='52:54:00:00:00:09' ip='192.168.122.9'/>", 0);
        Assert.That(Drv.GetXmlDesc(n, 0), Does.Contain("52:54:00:00:00:09"));
    }

    [Test]
    public void PortsAreListedInTheOrderOfTheirUuidText()
    {
        NetworkRef n = Started();
        string[] uuids = ["f0000000-0000-0000-0000-000000000001", "0fffffff-ffff-ffff-ffff-ffffffffffff", "00000000-8000-0000-0000-000000000000",
            "00000000-0000-0000-8000-000000000000", "00000000-0000-0000-0000-800000000000", "00000000-0000-0000-0000-000000000001"];
        for (int i = 0; i < uuids.Length; i++)
            Drv.CreatePort(n, PortXml(uuids[i], mac: $"52:54:00:00:01:{i:x2}"), 0);
        Assert.That(Drv.ListAllPorts(n, 0).Select(p => VirUuid.Format(p.Uuid)), Is.EqualTo(uuids.Order(StringComparer.Ordinal)));
    }

    [Test]
    public void ClassIdMapFormatsAndParsesLikeVirBitmap()
    {
        ClassIdMap m = ClassIdMap.Parse("0-2,5,7-9")!;
        Assert.That(m.ToString(), Is.EqualTo("0-2,5,7-9"));
        Assert.That(m.TakeNext(), Is.EqualTo(3));
        Assert.That(m.ToString(), Is.EqualTo("0-3,5,7-9"));
        Assert.That(ClassIdMap.Parse("x"), Is.Null);
        Assert.That(ClassIdMap.Default().ToString(), Is.EqualTo("0-2"));
    }
}
