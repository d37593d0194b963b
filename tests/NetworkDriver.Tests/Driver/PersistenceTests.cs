using VirtNetworkd.NetworkDriver.Driver;
using VirtNetworkd.Errors;

namespace VirtNetworkd.NetworkDriver.Tests.Driver;

[TestFixture]
public sealed class PersistenceTests : DriverTestBase
{
    private static string[] TempFiles(string dir) =>
        Directory.Exists(dir) ? Directory.GetFiles(dir, AtomicFile.TempPrefix + "*", SearchOption.AllDirectories) : [];

    [Test]
    public void NewDriverOverSameDirsSeesSameState()
    {
        NetworkRef a = Drv.DefineXml(Xml("a", U1), 0);
        Drv.SetAutostart(a, true);
        NetworkRef b = Drv.DefineXml(Xml("b", U2), 0);
        Drv.Create(b);
        Drv.CreateXml(Xml("t"), 0);
        string aXml = Drv.GetXmlDesc(a, 0), bXml = Drv.GetXmlDesc(b, 0), tXml = Drv.GetXmlDesc(Drv.LookupByName("t"), 0);

        // daemon restart: networks kept running by the host
        var d2 = NewDriver();
        d2.Load();
        Assert.That(d2.LoadErrors, Is.Empty);
        Assert.That(d2.ListAll(0).Select(n => n.Name), Is.EqualTo(new[] { "a", "b", "t" }));
        Assert.That(d2.GetXmlDesc(a, 0), Is.EqualTo(aXml));
        Assert.That(d2.GetXmlDesc(b, 0), Is.EqualTo(bXml));
        Assert.That(d2.GetXmlDesc(d2.LookupByName("t"), 0), Is.EqualTo(tXml));
        Assert.That(d2.GetAutostart(a), Is.True);
        Assert.That(d2.IsActive(a), Is.True, "autostart network started at load");
        Assert.That(d2.IsActive(b), Is.True, "still running on the host");
        Assert.That(d2.IsPersistent(d2.LookupByName("t")), Is.False);
    }

    [Test]
    public void AutostartRunsAtTheFirstLoadAfterABootNotAtEveryDaemonRestart()
    {
        NetworkRef a = Drv.DefineXml(Xml("a", U1), 0);
        Drv.SetAutostart(a, true);
        Drv.Load(); // the first daemon start since boot: starts it, leaves the mark
        Assert.That(Drv.IsActive(a), Is.True);
        Assert.That(File.Exists(Path.Combine(StateDir, "autostarted")), Is.True);
        Drv.Destroy(a); // stopped on purpose

        var restarted = NewDriver();
        restarted.Load();
        Assert.That(restarted.IsActive(restarted.LookupByName("a")), Is.False, "a daemon restart must not start it again (virDriverShouldAutostart)");

        File.Delete(Path.Combine(StateDir, "autostarted")); // a boot empties /run
        var booted = NewDriver(new FakeBackend());
        booted.Load();
        Assert.That(booted.IsActive(booted.LookupByName("a")), Is.True);
    }

    [Test]
    public void LoadAutostartsAndDropsStaleTransients()
    {
        NetworkRef a = Drv.DefineXml(Xml("a", U1), 0);
        Drv.SetAutostart(a, true);
        NetworkRef b = Drv.DefineXml(Xml("b", U2), 0);
        Drv.Create(b);
        Drv.CreateXml(Xml("t"), 0);

        // host reboot: nothing is running any more
        var fresh = new FakeBackend();
        var d2 = NewDriver(fresh);
        var ev = new List<string>();
        d2.Lifecycle += (_, e) => ev.Add(e.Network.Name + ":" + e.Event);
        d2.Load();
        Assert.That(d2.ListAll(0).Select(n => n.Name), Is.EqualTo(new[] { "a", "b" }));
        Assert.That(d2.IsActive(a), Is.True, "autostarted");
        Assert.That(d2.IsActive(b), Is.False, "not running any more");
        Assert.That(File.Exists(Path.Combine(StateDir, "t.xml")), Is.False);
        Assert.That(File.Exists(Path.Combine(StateDir, "b.xml")), Is.False);
        Assert.That(File.Exists(Path.Combine(StateDir, "a.xml")), Is.True);
        Assert.That(fresh.RunningNetworks, Is.EquivalentTo(new[] { "a" }));
        Assert.That(ev, Is.Empty);
    }

    [Test]
    public void RunningNetworkKeepsPendingConfigAcrossRestart()
    {
        NetworkRef r = Drv.DefineXml(Xml("n1", U1, "<bridge name='bra'/>"), 0);
        Drv.Create(r);
        Drv.DefineXml(Xml("n1", U1, "<bridge name='brb'/>"), 0);
        var d2 = NewDriver();
        d2.Load();
        Assert.That(d2.IsActive(r), Is.True);
        Assert.That(d2.GetBridgeName(r), Is.EqualTo("bra"));
        Assert.That(d2.GetXmlDesc(r, 1), Does.Contain("brb"));
        d2.Destroy(r);
        Assert.That(d2.GetBridgeName(r), Is.EqualTo("brb"));
    }

    [Test]
    public void LoadsFilesLibvirtWrote()
    {
        Directory.CreateDirectory(ConfigDir);
        Directory.CreateDirectory(AutostartDir);
        Directory.CreateDirectory(StateDir);
        File.WriteAllText(Path.Combine(ConfigDir, "default.xml"), $"""
            <!--
            WARNING: THIS IS AN AUTO-GENERATED FILE. CHANGES TO IT ARE LIKELY TO BE
            OVERWRITTEN AND LOST. Changes to this xml configuration should be made using:
              virsh net-edit default
            or other application using the libvirt API.
            -->

            <network>
              <name>default</name>
              <uuid>{U1}</uuid>
              <forward mode='nat'/>
              <bridge name='virbr0' stp='on' delay='0'/>
              <mac address='52:54:00:0a:0b:0c'/>
              <ip address='192.168.122.1' netmask='255.255.255.0'>
                <dhcp>
                  <range start='192.168.122.2' end='192.168.122.254'/>
                </dhcp>
              </ip>
            </network>
            """);
        File.CreateSymbolicLink(Path.Combine(AutostartDir, "default.xml"), Path.Combine(ConfigDir, "default.xml"));
        File.WriteAllText(Path.Combine(StateDir, "default.xml"), $"""
            <networkstatus>
              <class_id bitmap='0-2'/>
              <floor sum='0'/>
              <taint flag='hook-script'/>
              <network connections='2'>
                <name>default</name>
                <uuid>{U1}</uuid>
                <forward mode='nat'>
                  <nat>
                    <port start='1024' end='65535'/>
                  </nat>
                </forward>
                <bridge name='virbr0' stp='on' delay='0'/>
                <mac address='52:54:00:0a:0b:0c'/>
                <ip address='192.168.122.1' netmask='255.255.255.0'>
                  <dhcp>
                    <range start='192.168.122.2' end='192.168.122.254'/>
                  </dhcp>
                </ip>
              </network>
            </networkstatus>
            """);
        Backend.MarkRunning("default", "virbr0");
        Drv.Load();
        Assert.That(Drv.LoadErrors, Is.Empty);
        NetworkRef r = Drv.LookupByName("default");
        Assert.That(r.Uuid, Is.EqualTo(Guid.Parse(U1)));
        Assert.That(Drv.IsActive(r) && Drv.IsPersistent(r) && Drv.GetAutostart(r), Is.True);
        // like libvirt, connections are not read back (they are recounted from ports)
        Assert.That(Drv.GetXmlDesc(r, 0), Does.Contain("<port start='1024' end='65535'/>"));
        Assert.That(Drv.GetXmlDesc(r, 1), Does.Not.Contain("<port start="));
        // the taint survives the next status write
        Drv.SetMetadata(r, 1, "t", null, null, 1);
        Assert.That(File.ReadAllText(Path.Combine(StateDir, "default.xml")), Does.Contain("  <taint flag='hook-script'/>\n"));
    }

    [Test]
    public void BadFilesAreSkippedAndReported()
    {
        Directory.CreateDirectory(ConfigDir);
        File.WriteAllText(Path.Combine(ConfigDir, "wrong.xml"), Xml("other", U1));
        File.WriteAllText(Path.Combine(ConfigDir, "broken.xml"), "<network><name>broken");
        File.WriteAllText(Path.Combine(ConfigDir, "good.xml"), Xml("good", U2));
        Drv.Load();
        Assert.That(Drv.ListAll(0).Select(n => n.Name), Is.EqualTo(new[] { "good" }));
        Assert.That(Drv.LoadErrors.Select(e => Path.GetFileName(e.File)), Is.EquivalentTo(new[] { "wrong.xml", "broken.xml" }));
        Assert.That(Drv.LoadErrors.Single(e => e.File.EndsWith("wrong.xml", StringComparison.Ordinal)).Error,
            Is.EqualTo($"internal error: Network config filename '{Path.Combine(ConfigDir, "wrong.xml")}' does not match network name 'other'"));
        // a config without MAC gets one and it is saved
        Assert.That(File.ReadAllText(Path.Combine(ConfigDir, "good.xml")), Does.Contain("<mac address='52:54:00:"));
    }

    [Test]
    public void WritesLeaveNoTempFilesAndLeftoverTempFilesAreIgnored()
    {
        NetworkRef r = Drv.DefineXml(Xml("n1", U1), 0);
        Drv.Create(r);
        Drv.SetAutostart(r, true);
        Drv.DefineXml(Xml("n1", U1), 0);
        Drv.SetMetadata(r, 0, "d", null, null, 0);
        Assert.That(TempFiles(Root), Is.Empty);
        string before = File.ReadAllText(Path.Combine(ConfigDir, "n1.xml"));

        // crash between write and rename: the temp file holds the new text, the old file is intact
        File.WriteAllText(Path.Combine(ConfigDir, AtomicFile.TempPrefix + "n1.xml.deadbeef"), Xml("n1", U1, "<bridge name='brnew'/>"));
        File.WriteAllText(Path.Combine(StateDir, AtomicFile.TempPrefix + "n1.xml.deadbeef"), "<networkstatus>");
        var d2 = NewDriver();
        d2.Load();
        Assert.That(d2.LoadErrors, Is.Empty);
        Assert.That(d2.ListAll(0).Select(n => n.Name), Is.EqualTo(new[] { "n1" }));
        Assert.That(d2.GetXmlDesc(r, 1), Does.Not.Contain("brnew"));
        Assert.That(File.ReadAllText(Path.Combine(ConfigDir, "n1.xml")), Is.EqualTo(before));
    }

    [Test]
    public void ReloadPicksUpNewConfigFiles()
    {
        Drv.Load();
        Drv.DefineXml(Xml("a", U1), 0);
        File.WriteAllText(Path.Combine(ConfigDir, "b.xml"), Xml("b", U2));
        Drv.Reload();
        Assert.That(Drv.ListAll(0).Select(n => n.Name), Is.EqualTo(new[] { "a", "b" }));
        Assert.That(Drv.IsPersistent(Drv.LookupByName("b")), Is.True);
    }

    [Test]
    public void AtomicWriteReplacesContent()
    {
        string f = Path.Combine(Root, "x", "f.xml");
        AtomicFile.Write(f, "one");
        AtomicFile.Write(f, "two");
        Assert.That(File.ReadAllText(f), Is.EqualTo("two"));
        Assert.That(Directory.GetFiles(Path.Combine(Root, "x")), Has.Length.EqualTo(1));
        Assert.That(AtomicFile.Delete(f), Is.True);
        Assert.That(AtomicFile.Delete(f), Is.False);
    }

    [Test]
    public void FailedConfigWriteLeavesNothingDefined()
    {
        File.WriteAllText(Path.Combine(Root, "networks"), "not a directory");
        var e = Assert.Throws<VirtNetworkd.Errors.LibvirtError>(() => Drv.DefineXml(Xml("n1", U1), 0))!;
        Assert.That(e.Code, Is.EqualTo(VirErrorCode.SystemError));
        Assert.That(e.Message, Does.StartWith($"cannot save config file '{Path.Combine(ConfigDir, "n1.xml")}': "));
        Assert.That(Drv.ListAll(0), Is.Empty);
        Assert.That(Events, Is.Empty);
    }

    [Test]
    public void RelativeAutostartLinkIsRecognisedAndDanglingOneIsNot()
    {
        Directory.CreateDirectory(AutostartDir);
        File.WriteAllText(Path.Combine(ConfigDir, "a.xml"), Xml("a", U1));
        File.WriteAllText(Path.Combine(ConfigDir, "b.xml"), Xml("b", U2));
        File.CreateSymbolicLink(Path.Combine(AutostartDir, "a.xml"), "../a.xml");
        File.CreateSymbolicLink(Path.Combine(AutostartDir, "b.xml"), "/nonexistent/b.xml");
        Drv.Load();
        Assert.That(Drv.GetAutostart(Drv.LookupByName("a")), Is.True);
        Assert.That(Drv.IsActive(Drv.LookupByName("a")), Is.True);
        Assert.That(Drv.GetAutostart(Drv.LookupByName("b")), Is.False);
    }

    [Test]
    public void NetworkWhoseNameStartsWithADotSurvivesARestart()
    {
        NetworkRef dot = Drv.DefineXml(Xml(".x", U1), 0);
        Drv.SetAutostart(dot, true);
        NetworkRef running = Drv.DefineXml(Xml(".y", U2), 0);
        Drv.Create(running);

        var d2 = NewDriver();
        d2.Load();
        Assert.That(d2.LoadErrors, Is.Empty);
        Assert.That(d2.ListAll(0).Select(n => n.Name), Is.EqualTo(new[] { ".x", ".y" }));
        Assert.That(d2.GetAutostart(d2.LookupByName(".x")), Is.True);
        Assert.That(d2.IsActive(d2.LookupByName(".y")), Is.True);
    }

    [Test]
    public void LoadRemovesOnlyOurOwnTemporaryFiles()
    {
        NetworkRef n = Drv.DefineXml(Xml("n", U1), 0);
        Drv.Create(n);
        string portDir = Path.Combine(StateDir, "n", "ports");
        Directory.CreateDirectory(portDir);
        string hex = new('a', 32), hex2 = "0123456789abcdef0123456789abcdef";
        string[] ours =
        [
            Path.Combine(ConfigDir, $".tmp-n.xml.{hex}"),
            Path.Combine(ConfigDir, $".tmp-.x.xml.{hex2}"),
            Path.Combine(AutostartDir, $".tmp-n.xml.{hex}"),
            Path.Combine(StateDir, $".tmp-n.xml.{hex}"),
            Path.Combine(portDir, $".tmp-{U2}.xml.{hex2}"),
        ];
        string[] others =
        [
            Path.Combine(ConfigDir, ".tmp-keep"),
            Path.Combine(ConfigDir, $".tmp-n.xml.{hex.ToUpperInvariant()}"),
            Path.Combine(ConfigDir, $".tmp-n.xml.{hex}0"),
            Path.Combine(ConfigDir, $"tmp-n.xml.{hex}"),
            Path.Combine(Root, $".tmp-n.xml.{hex}"),
        ];
        foreach (string f in ours.Concat(others))
        {
            Directory.CreateDirectory(Path.GetDirectoryName(f)!);
            File.WriteAllText(f, "<network><name>half-writ");
        }

        var d2 = NewDriver();
        d2.Load();
        Assert.That(ours.Where(File.Exists), Is.Empty, "the temporary files of interrupted writes are removed");
        Assert.That(others.Where(File.Exists), Is.EqualTo(others), "nothing else is touched");
        Assert.That(d2.StaleTempsRemoved, Is.EqualTo(ours.Length));
        Assert.That(d2.LoadErrors, Is.Empty);
        Assert.That(d2.IsActive(d2.LookupByName("n")), Is.True);
    }
}
