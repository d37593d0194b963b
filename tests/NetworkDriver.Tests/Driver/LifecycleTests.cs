using VirtNetworkd.NetworkDriver.Driver;
using VirtNetworkd.Errors;
using VirtNetworkd.NetworkDriver.Xml;

namespace VirtNetworkd.NetworkDriver.Tests.Driver;

[TestFixture]
public sealed class LifecycleTests : DriverTestBase
{
    [Test]
    public void DefineAssignsUuidBridgeAndMacAndWritesConfig()
    {
        NetworkRef r = Drv.DefineXml(Xml("n1"), 0);
        Assert.That(r.Uuid, Is.Not.EqualTo(Guid.Empty));
        Assert.That(Drv.GetBridgeName(r), Is.EqualTo("virbr0"));
        string xml = Drv.GetXmlDesc(r, 0);
        Assert.That(xml, Does.Contain("<mac address='52:54:00:"));
        Assert.That(xml, Does.Contain("<bridge name='virbr0'"));
        string file = File.ReadAllText(Path.Combine(ConfigDir, "n1.xml"));
        Assert.That(file, Does.StartWith("<!--\nWARNING: THIS IS AN AUTO-GENERATED FILE."));
        Assert.That(file, Does.Contain("  virsh net-edit n1\n"));
        Assert.That(file, Does.Contain(VirtNetworkd.NetworkDriver.Xml.Net.VirUuid.Format(r.Uuid)));
        Assert.That(Drv.IsPersistent(r), Is.True);
        Assert.That(Drv.IsActive(r), Is.False);
        Assert.That(Events, Is.EqualTo(new[] { "n1:Defined:0" }));
    }

    [Test]
    public void BridgeNamesSkipOtherNetworksAndHostDevices()
    {
        Backend.AddHostDevice("virbr1");
        Assert.That(Drv.GetBridgeName(Drv.DefineXml(Xml("a"), 0)), Is.EqualTo("virbr0"));
        Assert.That(Drv.GetBridgeName(Drv.DefineXml(Xml("b"), 0)), Is.EqualTo("virbr2"));
        Drv.DeviceExists = n => n is "virbr1" or "virbr3";
        Assert.That(Drv.GetBridgeName(Drv.DefineXml(Xml("c"), 0)), Is.EqualTo("virbr4"));
        Assert.That(Drv.GetBridgeName(Drv.DefineXml(Xml("d", extra: "<bridge name='br%d'/>"), 0)), Is.EqualTo("br0"));
        Throws(() => Drv.DefineXml(Xml("e", extra: "<bridge name='virbr0'/>"), 0))
            .Is(VirErrorCode.InternalError, "internal error: bridge name 'virbr0' already in use.");
        // redefining a network keeps its own bridge (it does not conflict with itself)
        NetworkRef a = Drv.LookupByName("a");
        Drv.DefineXml(Xml("a", VirtNetworkd.NetworkDriver.Xml.Net.VirUuid.Format(a.Uuid), "<bridge name='virbr0'/>"), 0);
    }

    [Test]
    public void DefineUniquenessErrors()
    {
        Drv.DefineXml(Xml("n1", U1), 0);
        Throws(() => Drv.DefineXml(Xml("n2", U1), 0))
            .Is(VirErrorCode.OperationFailed, $"operation failed: network 'n1' is already defined with uuid {U1}");
        Throws(() => Drv.DefineXml(Xml("n1", U2), 0))
            .Is(VirErrorCode.OperationFailed, $"operation failed: network 'n1' already exists with uuid {U1}");
        Throws(() => Drv.DefineXml(Xml("n1"), 0))
            .Is(VirErrorCode.OperationFailed, $"operation failed: network 'n1' already exists with uuid {U1}");
        Throws(() => Drv.DefineXml(Xml("n1", U1), 2))
            .Is(VirErrorCode.InvalidArg, "unsupported flags (0x2) in function networkDefineXMLFlags");
        // same name and uuid: replaces the definition
        Drv.DefineXml(Xml("n1", U1, "<bridge name='brx'/>"), 0);
        Assert.That(Drv.GetBridgeName(Drv.LookupByName("n1")), Is.EqualTo("brx"));
        Assert.That(Events, Is.EqualTo(new[] { "n1:Defined:0", "n1:Defined:0" }));
    }

    [Test]
    public void DefineValidateFlagChecksSchema()
    {
        var e = Assert.Throws<LibvirtError>(() => Drv.DefineXml("<network><name>x</name><bogus/></network>", 1))!;
        Assert.That(e.Code, Is.EqualTo(VirErrorCode.XmlInvalidSchema));
        Assert.That(Drv.ListAll(0), Is.Empty);
    }

    [Test]
    public void LookupErrors()
    {
        Throws(() => Drv.LookupByName("nope"))
            .Is(VirErrorCode.NoNetwork, "Network not found: no network with matching name 'nope'");
        Throws(() => Drv.LookupByUuid(Guid.Parse(U1)))
            .Is(VirErrorCode.NoNetwork, $"Network not found: no network with matching uuid '{U1}'");
        Throws(() => Drv.Create(new NetworkRef("ghost", Guid.Parse(U1))))
            .Is(VirErrorCode.NoNetwork, $"Network not found: no network with matching uuid '{U1}' (ghost)");
        NetworkRef r = Drv.DefineXml(Xml("n1", U1), 0);
        Assert.That(Drv.LookupByName("n1"), Is.EqualTo(r));
        Assert.That(Drv.LookupByUuid(Guid.Parse(U1)), Is.EqualTo(r));
    }

    [Test]
    public void StartDestroyPersistent()
    {
        NetworkRef r = Drv.DefineXml(Xml("n1", U1), 0);
        Throws(() => Drv.Destroy(r)).Is(VirErrorCode.OperationInvalid, "Requested operation is not valid: network 'n1' is not active");
        Drv.Create(r);
        Assert.That(Drv.IsActive(r), Is.True);
        Assert.That(Backend.RunningNetworks, Is.EquivalentTo(new[] { "n1" }));
        string status = File.ReadAllText(Path.Combine(StateDir, "n1.xml"));
        // as virNetworkSaveXML: behind virXMLSaveFile's warning, and the backend's record after the definition
        Assert.That(status, Does.StartWith("<!--\nWARNING: THIS IS AN AUTO-GENERATED FILE. CHANGES TO IT ARE LIKELY TO BE\n" +
            "OVERWRITTEN AND LOST. Changes to this xml configuration should be made using:\n  virsh net-edit n1\n" +
            "or other application using the libvirt API.\n-->\n\n<networkstatus>\n  <class_id bitmap='0-2'/>\n  <floor sum='0'/>\n  <network"));
        Assert.That(status, Does.EndWith("  </network>\n  <vnd:host xmlns:vnd='urn:virtnetworkd:network-status:1' bridge='virbr0' bridgeCreated='yes'/>\n</networkstatus>"));
        Throws(() => Drv.Create(r)).Is(VirErrorCode.OperationInvalid, "Requested operation is not valid: network is already active");
        Drv.Destroy(r);
        Assert.That(File.Exists(Path.Combine(StateDir, "n1.xml")), Is.False);
        Assert.That(Drv.IsActive(r), Is.False);
        Assert.That(Drv.IsPersistent(r), Is.True);
        Assert.That(Backend.RunningNetworks, Is.Empty);
        Assert.That(Events, Is.EqualTo(new[] { "n1:Defined:0", "n1:Started:0", "n1:Stopped:0" }));
    }

    [Test]
    public void TransientCreateAndDestroy()
    {
        NetworkRef r = Drv.CreateXml(Xml("t1", U1), 0);
        Assert.That(Drv.IsActive(r), Is.True);
        Assert.That(Drv.IsPersistent(r), Is.False);
        Assert.That(File.Exists(Path.Combine(ConfigDir, "t1.xml")), Is.False);
        Throws(() => Drv.Undefine(r)).Is(VirErrorCode.OperationInvalid, "Requested operation is not valid: can't undefine transient network");
        Throws(() => Drv.SetAutostart(r, true)).Is(VirErrorCode.OperationInvalid, "Requested operation is not valid: cannot set autostart for transient network");
        Throws(() => Drv.CreateXml(Xml("t1", U1), 0)).Is(VirErrorCode.OperationInvalid, "Requested operation is not valid: network is already active as 't1'");
        Drv.Destroy(r);
        Throws(() => Drv.LookupByName("t1")).Is(VirErrorCode.NoNetwork, "Network not found: no network with matching name 't1'");
        Assert.That(Events, Is.EqualTo(new[] { "t1:Started:0", "t1:Stopped:0" }));
    }

    [Test]
    public void CreateXmlOverInactivePersistentRunsNewDefAndRestoresConfigOnStop()
    {
        NetworkRef r = Drv.DefineXml(Xml("n1", U1, "<bridge name='bra'/>"), 0);
        Drv.CreateXml(Xml("n1", U1, "<bridge name='brb'/>"), 0);
        Assert.That(Drv.GetBridgeName(r), Is.EqualTo("brb"));
        Assert.That(Drv.GetXmlDesc(r, 1), Does.Contain("bra"));
        Assert.That(Drv.IsPersistent(r), Is.True);
        Drv.Destroy(r);
        Assert.That(Drv.GetBridgeName(r), Is.EqualTo("bra"));
        Assert.That(Drv.IsPersistent(r), Is.True);
    }

    [Test]
    public void StartFailureLeavesNetworkInactive()
    {
        NetworkRef r = Drv.DefineXml(Xml("n1", U1), 0);
        Backend.OnStart = _ => throw new LibvirtError(VirErrorCode.InternalError, VirErrorDomain.Network, "boom");
        Throws(() => Drv.Create(r)).Is(VirErrorCode.InternalError, "internal error: boom");
        Assert.That(Drv.IsActive(r), Is.False);
        Assert.That(Drv.GetXmlDesc(r, 1), Is.EqualTo(Drv.GetXmlDesc(r, 0)));
        Throws(() => Drv.CreateXml(Xml("t", U2), 0)).Is(VirErrorCode.InternalError, "internal error: boom");
        Assert.That(Drv.ListAll(0).Select(n => n.Name), Is.EqualTo(new[] { "n1" }));
        Assert.That(File.Exists(Path.Combine(StateDir, "n1.xml")), Is.False);
        Assert.That(Events, Is.EqualTo(new[] { "n1:Defined:0" }));
    }

    [Test]
    public void UndefineInactiveAndActive()
    {
        NetworkRef a = Drv.DefineXml(Xml("a", U1), 0);
        Drv.SetAutostart(a, true);
        Drv.Undefine(a);
        Assert.That(File.Exists(Path.Combine(ConfigDir, "a.xml")), Is.False);
        Assert.That(new FileInfo(Path.Combine(AutostartDir, "a.xml")).LinkTarget, Is.Null);
        Throws(() => Drv.Undefine(a)).Is(VirErrorCode.NoNetwork, $"Network not found: no network with matching uuid '{U1}' (a)");

        NetworkRef b = Drv.DefineXml(Xml("b", U2), 0);
        Drv.Create(b);
        Drv.Undefine(b);
        Assert.That(Drv.IsActive(b), Is.True);
        Assert.That(Drv.IsPersistent(b), Is.False);
        Drv.Destroy(b);
        Assert.That(Drv.ListAll(0), Is.Empty);
        Assert.That(Events, Is.EqualTo(new[] { "a:Defined:0", "a:Undefined:0", "b:Defined:0", "b:Started:0", "b:Undefined:0", "b:Stopped:0" }));
    }

    [Test]
    public void DefineOverActiveTransientMakesItPersistentWithPendingConfig()
    {
        NetworkRef r = Drv.CreateXml(Xml("n1", U1, "<bridge name='bra'/>"), 0);
        Drv.DefineXml(Xml("n1", U1, "<bridge name='brb'/>"), 0);
        Assert.That(Drv.IsPersistent(r), Is.True);
        Assert.That(Drv.GetBridgeName(r), Is.EqualTo("bra"));
        Assert.That(Drv.GetXmlDesc(r, 1), Does.Contain("brb"));
        Drv.Destroy(r);
        Assert.That(Drv.GetBridgeName(r), Is.EqualTo("brb"));
    }

    [Test]
    public void AutostartLinks()
    {
        NetworkRef r = Drv.DefineXml(Xml("n1", U1), 0);
        Assert.That(Drv.GetAutostart(r), Is.False);
        Drv.SetAutostart(r, true);
        Drv.SetAutostart(r, true);
        Assert.That(Drv.GetAutostart(r), Is.True);
        var link = new FileInfo(Path.Combine(AutostartDir, "n1.xml"));
        Assert.That(link.LinkTarget, Is.EqualTo(Path.Combine(ConfigDir, "n1.xml")));
        Drv.SetAutostart(r, false);
        Assert.That(Drv.GetAutostart(r), Is.False);
        Assert.That(File.Exists(link.FullName), Is.False);
    }

    [Test]
    public void ListingAndFilters()
    {
        NetworkRef a = Drv.DefineXml(Xml("a"), 0);           // inactive persistent
        NetworkRef b = Drv.DefineXml(Xml("b"), 0);           // active persistent autostart
        Drv.SetAutostart(b, true);
        Drv.Create(b);
        Drv.CreateXml(Xml("c"), 0);                           // active transient
        string[] N(uint f) => Drv.ListAll(f).Select(n => n.Name).ToArray();
        Assert.That(N(0), Is.EqualTo(new[] { "a", "b", "c" }));
        Assert.That(N(NetworkDriver.Driver.NetworkDriver.ListActive), Is.EqualTo(new[] { "b", "c" }));
        Assert.That(N(NetworkDriver.Driver.NetworkDriver.ListInactive), Is.EqualTo(new[] { "a" }));
        Assert.That(N(NetworkDriver.Driver.NetworkDriver.ListPersistent), Is.EqualTo(new[] { "a", "b" }));
        Assert.That(N(NetworkDriver.Driver.NetworkDriver.ListTransient), Is.EqualTo(new[] { "c" }));
        Assert.That(N(NetworkDriver.Driver.NetworkDriver.ListAutostart), Is.EqualTo(new[] { "b" }));
        Assert.That(N(NetworkDriver.Driver.NetworkDriver.ListNoAutostart), Is.EqualTo(new[] { "a", "c" }));
        Assert.That(N(3), Is.EqualTo(new[] { "a", "b", "c" }));
        Assert.That(N(2 | 4), Is.EqualTo(new[] { "b" }));
        Throws(() => Drv.ListAll(64)).Is(VirErrorCode.InvalidArg, "unsupported flags (0x40) in function networkConnectListAllNetworks");
        // virReportInvalidArg: the message has no "invalid argument: " prefix; str1/str2 name function and argument
        var e = Assert.Throws<Errors.LibvirtError>(() => Drv.ListAll(64))!;
        Assert.That((e.Template, e.Detail), Is.EqualTo(("networkConnectListAllNetworks", "flags")));
        Assert.That(Drv.NumOfNetworks(), Is.EqualTo(2));
        Assert.That(Drv.ListNetworks(10), Is.EqualTo(new[] { "b", "c" }));
        Assert.That(Drv.ListNetworks(1), Is.EqualTo(new[] { "b" }));
        Assert.That(Drv.NumOfDefined(), Is.EqualTo(1));
        Assert.That(Drv.ListDefined(10), Is.EqualTo(new[] { "a" }));
        _ = a;
    }

    [Test]
    public void XmlDescAndBridgeName()
    {
        NetworkRef r = Drv.DefineXml(Xml("n1", U1, "<forward mode='bridge'/><bridge name='br0'/>"), 0);
        Assert.That(Drv.GetBridgeName(r), Is.EqualTo("br0"));
        Throws(() => Drv.GetXmlDesc(r, 2)).Is(VirErrorCode.InvalidArg, "unsupported flags (0x2) in function networkGetXMLDesc");
        NetworkRef h = Drv.DefineXml(Xml("h", U2, "<forward mode='hostdev'><pf dev='eth9'/></forward>"), 0);
        Throws(() => Drv.GetBridgeName(h)).Is(VirErrorCode.InternalError, "internal error: network 'h' does not have a bridge name.");
        Assert.That(Drv.GetXmlDesc(r, 0), Is.EqualTo(NetworkXml.Format(NetworkXml.Parse(Drv.GetXmlDesc(r, 0)))));
    }

    [Test]
    public void DhcpLeases()
    {
        NetworkRef r = Drv.DefineXml(Xml("n1", U1), 0);
        Assert.That(Drv.GetDhcpLeases(r, null, 0), Is.Empty);
        Drv.Create(r);
        Assert.That(Drv.GetDhcpLeases(r, "52:54:00:00:00:01", 0), Is.Empty);
        Assert.That(Assert.Throws<LibvirtError>(() => Drv.GetDhcpLeases(r, "zz", 0))!.Code, Is.EqualTo(VirErrorCode.InvalidMac));
    }

    [Test]
    public void FailingSubscriberDoesNotFailTheCall()
    {
        Drv.Lifecycle += (_, _) => throw new InvalidOperationException("subscriber bug");
        NetworkRef r = Drv.DefineXml(Xml("n1", U1), 0);
        Assert.That(Drv.IsPersistent(r), Is.True);
        Assert.That(Events, Is.EqualTo(new[] { "n1:Defined:0" }));
    }

    [Test]
    public void EventsAreRaisedAfterTheChangeIsOnDisk()
    {
        var seen = new List<string>();
        Drv.Lifecycle += (_, e) =>
        {
            string cfg = Path.Combine(ConfigDir, e.Network.Name + ".xml"), st = Path.Combine(StateDir, e.Network.Name + ".xml");
            string active;
            try { active = Drv.IsActive(e.Network).ToString(); } catch (VirtNetworkd.Errors.LibvirtError) { active = "gone"; }
            seen.Add($"{e.Event} cfg={File.Exists(cfg)} status={File.Exists(st)} active={active}");
        };
        Drv.MetadataChange += (_, e) =>
            seen.Add($"meta {File.ReadAllText(Path.Combine(ConfigDir, e.Network.Name + ".xml")).Contains("<title>x</title>", StringComparison.Ordinal)}");
        NetworkRef r = Drv.DefineXml(Xml("n1", U1), 0);
        Drv.Create(r);
        Drv.Destroy(r);
        Drv.SetMetadata(r, 1, "x", null, null, 0);
        Drv.Undefine(r);
        Assert.That(seen, Is.EqualTo(new[]
        {
            "Defined cfg=True status=False active=False",
            "Started cfg=True status=True active=True",
            "Stopped cfg=True status=False active=False",
            "meta True",
            "Undefined cfg=False status=False active=gone",
        }));
        Assert.That(Events, Is.EqualTo(new[] { "n1:Defined:0", "n1:Started:0", "n1:Stopped:0", "n1:meta:1:", "n1:Undefined:0" }));
    }

    [Test]
    public void GenerationMovesWithEveryChangeAndOnlyThen()
    {
        long g0 = Drv.Generation;
        NetworkRef n = Drv.DefineXml(Xml("gen1", U1), 0);
        long g1 = Drv.Generation;
        Assert.That(g1, Is.GreaterThan(g0));
        Drv.ListAll(0);
        Drv.GetXmlDesc(n, 0);
        Drv.IsActive(n);
        Assert.That(Drv.Generation, Is.EqualTo(g1), "queries change nothing");
        long before = g1;
        foreach (Action change in new Action[] { () => Drv.SetAutostart(n, true), () => Drv.Create(n), () => Drv.Destroy(n), () => Drv.Undefine(n) })
        {
            change();
            Assert.That(Drv.Generation, Is.GreaterThan(before));
            before = Drv.Generation;
        }
    }

    [Test]
    public void WhatAnEventHandlerReadsIsNotKeptPastTheRestOfTheChange()
    {
        NetworkRef n = Drv.CreateXml(Xml("trans1", U1), 0);
        Drv.Lifecycle += (_, e) =>
        {
            // called with the change half done: the transient network is stopped, not yet removed
            Drv.ListAll(0);
            Drv.NumOfDefined();
        };
        Drv.Destroy(n);
        Assert.That(Drv.ListAll(0), Is.Empty);
        Assert.That(Drv.NumOfDefined(), Is.Zero);
        Assert.That(Drv.NumOfNetworks(), Is.Zero);
    }
}
