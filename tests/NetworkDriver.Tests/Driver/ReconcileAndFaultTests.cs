using VirtNetworkd.NetworkDriver.Backend;
using VirtNetworkd.NetworkDriver.Driver;

namespace VirtNetworkd.NetworkDriver.Tests.Driver;

/// <summary>Networks that change on the host behind the driver's back: found at reload, or reported by the backend.</summary>
[TestFixture]
public sealed class ReconcileAndFaultTests : DriverTestBase
{
    private string StatusFile(string name) => Path.Combine(StateDir, name + ".xml");

    [Test]
    public void ReloadMarksAVanishedNetworkInactiveRemovesItsStatusAndRaisesStopped()
    {
        NetworkRef a = Drv.DefineXml(Xml("a", U1), 0);
        Drv.Create(a);
        NetworkRef t = Drv.CreateXml(Xml("t", U2), 0);
        Backend.Vanish("a");
        Backend.Vanish("t");
        Events.Clear();
        Drv.Reload();
        Assert.That(Drv.IsActive(a), Is.False);
        Assert.That(Drv.IsPersistent(a), Is.True);
        Assert.That(File.Exists(StatusFile("a")), Is.False);
        Assert.That(File.Exists(StatusFile("t")), Is.False);
        Throws(() => Drv.LookupByName("t")).Is(Errors.VirErrorCode.NoNetwork, "Network not found: no network with matching name 't'");
        Assert.That(Events, Is.EquivalentTo(new[] { "a:Stopped:0", "t:Stopped:0" }));
        // shut down fully: what is left of them on the host (firewall rules) goes, from their records
        Assert.That(Backend.Stops.Select(s => (s.Item1, s.Item2.Bridge)), Is.EquivalentTo(new[] { ("a", "virbr0"), ("t", "virbr1") }));
        Assert.That(Drv.LoadErrors, Is.Empty);
        _ = t;
    }

    [Test]
    public void ReloadKeepsARunningNetworkAndStoresWhatTheRepairChanged()
    {
        NetworkRef a = Drv.DefineXml(Xml("a", U1), 0);
        Drv.Create(a);
        Backend.Repair = (_, record) => record with { DnsmasqPid = 31337 }; // dnsmasq was restarted
        Events.Clear();
        Drv.Reload();
        Assert.That(Drv.IsActive(a), Is.True);
        Assert.That(File.ReadAllText(StatusFile("a")), Does.Contain("dnsmasqPid='31337'"));
        Assert.That(Events, Is.Empty);
        Drv.Destroy(a);
        Assert.That(Backend.Stops.Single().Record.DnsmasqPid, Is.EqualTo(31337));
    }

    [Test]
    public void AFaultSayingTheNetworkIsGoneStopsItWithItsRecord()
    {
        NetworkRef a = Drv.DefineXml(Xml("a", U1), 0);
        Drv.Create(a);
        var faults = new List<string>();
        Drv.BackendFault += (_, f) => faults.Add($"{f.Network}: {f.Message}");
        Events.Clear();
        Backend.Vanish("a");
        Backend.RaiseFault("a", a.Uuid, "bridge virbr0 was deleted", gone: true);
        Assert.That(faults, Is.EqualTo(new[] { "a: bridge virbr0 was deleted" }));
        Assert.That(Drv.IsActive(a), Is.False);
        Assert.That(File.Exists(StatusFile("a")), Is.False);
        Assert.That(Events, Is.EqualTo(new[] { "a:Stopped:0" }));
        Assert.That(Backend.Stops.Single().Record.Bridge, Is.EqualTo("virbr0"), "what is left is removed using the record");
    }

    [Test]
    public void AFaultOnARunningNetworkIsRepairedByReconcile()
    {
        NetworkRef a = Drv.DefineXml(Xml("a", U1), 0);
        Drv.Create(a);
        Backend.Repair = (_, record) => record with { DnsmasqPid = 77 };
        Events.Clear();
        Backend.RaiseFault("a", a.Uuid, "dnsmasq exited with status 1", gone: false);
        Assert.That(Drv.IsActive(a), Is.True);
        Assert.That(File.ReadAllText(StatusFile("a")), Does.Contain("dnsmasqPid='77'"));
        Assert.That(Events, Is.Empty);
    }

    [Test]
    public void AFaultThatCannotBeRepairedStopsATransientNetworkForGood()
    {
        NetworkRef t = Drv.CreateXml(Xml("t", U1), 0);
        Events.Clear();
        Backend.Vanish("t");
        Backend.RaiseFault("t", t.Uuid, "dnsmasq exited", gone: false);
        Throws(() => Drv.LookupByName("t")).Is(Errors.VirErrorCode.NoNetwork, "Network not found: no network with matching name 't'");
        Assert.That(File.Exists(StatusFile("t")), Is.False);
        Assert.That(Events, Is.EqualTo(new[] { "t:Stopped:0" }));
    }

    [Test]
    public void AFaultAboutANetworkNoLongerRunningOrDefinedIsOnlyReported()
    {
        NetworkRef a = Drv.DefineXml(Xml("a", U1), 0);
        int reported = 0;
        Drv.BackendFault += (_, _) => reported++;
        Events.Clear();
        Backend.RaiseFault("a", a.Uuid, "late", gone: true);
        Backend.RaiseFault("gone", Guid.Parse(U2), "unknown", gone: true);
        Assert.That(reported, Is.EqualTo(2));
        Assert.That(Events, Is.Empty);
        Assert.That(Backend.Stops, Is.Empty);
    }

    [Test]
    public void LiveUpdatesOfARunningNetworkGoToTheBackend()
    {
        NetworkRef n = Drv.CreateXml(Xml("n", U1, "<ip address='192.168.10.1' netmask='255.255.255.0'><dhcp><range start='192.168.10.2' end='192.168.10.9'/></dhcp></ip>"), 0);
        Drv.Update(n, 3, 4, -1, "<host mac='52:54:00:00:00:09' ip='192.168.10.5'/>", 0);
        Assert.That(Backend.LiveUpdates, Is.EqualTo(new[] { ("n", 4, 3) }));
        Assert.That(File.ReadAllText(StatusFile("n")), Does.Contain("52:54:00:00:00:09"));
    }

    [Test]
    public void AFailedLiveUpdateChangesNothing()
    {
        var failing = new FailingUpdateBackend();
        var d = NewDriver(failing);
        NetworkRef n = d.CreateXml(Xml("n", U1, "<ip address='192.168.10.1' netmask='255.255.255.0'><dhcp><range start='192.168.10.2' end='192.168.10.9'/></dhcp></ip>"), 0);
        string before = d.GetXmlDesc(n, 0), status = File.ReadAllText(StatusFile("n"));
        Throws(() => d.Update(n, 3, 4, -1, "<host mac='52:54:00:00:00:09' ip='192.168.10.5'/>", 0))
            .Is(Errors.VirErrorCode.InternalError, "internal error: dnsmasq refused");
        Assert.That(d.GetXmlDesc(n, 0), Is.EqualTo(before));
        Assert.That(File.ReadAllText(StatusFile("n")), Is.EqualTo(status));
    }

    private sealed class FailingUpdateBackend : INetworkBackend
    {
        private readonly InProcessBackend _inner = new();
        public event EventHandler<BackendFaultEventArgs>? Fault { add { } remove { } }
        public BackendRecord Start(Xml.NetworkDef def) => _inner.Start(def);
        public void Stop(Xml.NetworkDef def, BackendRecord record) => _inner.Stop(def, record);
        public BackendRecord UpdateLive(Xml.NetworkDef oldDef, Xml.NetworkDef newDef, BackendRecord record, int section, int command) =>
            throw new Errors.LibvirtError(Errors.VirErrorCode.InternalError, Errors.VirErrorDomain.Network, "dnsmasq refused");
        public ReconcileResult Reconcile(Xml.NetworkDef def, BackendRecord record) => _inner.Reconcile(def, record);
        public bool DeviceExists(string name) => false;
        public IReadOnlyList<DhcpLease> GetDhcpLeases(Xml.NetworkDef def, string? mac, bool needResults) => [];
        public IReadOnlyList<VirtualFunction>? GetVirtualFunctions(string pfDev) => null;
        public void PlugBandwidth(Xml.NetworkDef net, Xml.Net.MacAddr mac, Xml.BandwidthDef portBandwidth, uint classId) { }
        public void UnplugBandwidth(Xml.NetworkDef net, uint classId) { }
        public void UpdateBandwidthRate(Xml.NetworkDef net, uint classId, ulong rate) { }
        public void ReconcileBandwidth(Xml.NetworkDef net, IReadOnlyList<PortFloor> floors, ulong? unguaranteedRate) { }
    }
}
