using VirtNetworkd.Errors;
using VirtNetworkd.NetworkDriver.Backend;
using VirtNetworkd.NetworkDriver.Driver;
using VirtNetworkd.NetworkDriver.Xml.Dom;

namespace VirtNetworkd.NetworkDriver.Tests.Driver;

/// <summary>The backend's record in the status file: libvirt's &lt;fwRemoval&gt; both ways, and ours.</summary>
[TestFixture]
public sealed class StatusRecordTests : DriverTestBase
{
    private const string Header = """
        <!--
        WARNING: THIS IS AN AUTO-GENERATED FILE. CHANGES TO IT ARE LIKELY TO BE
        OVERWRITTEN AND LOST. Changes to this xml configuration should be made using:
          virsh net-edit default
        or other application using the libvirt API.
        -->


        """;

    // built by hand from virNetworkObjFormat + virFirewallFormat (libvirt 11.3) and the rollback
    // commands nftables' virFirewallApply records ("delete rule ip TABLE CHAIN handle N", in reverse)
    private const string FwRemoval = """
          <firewall name='fwRemoval' backend='nftables'>
            <group ignoreErrors='yes'>
              <action layer='ipv4'>
                <args>
                  <item>delete</item>
                  <item>rule</item>
                  <item>ip</item>
                  <item>libvirt_network</item>
                  <item>guest_nat</item>
                  <item>handle</item>
                  <item>12</item>
                </args>
              </action>
              <action layer='ipv4'>
                <args>
                  <item>delete</item>
                  <item>rule</item>
                  <item>ip</item>
                  <item>libvirt_network</item>
                  <item>guest_output</item>
                  <item>handle</item>
                  <item>7</item>
                </args>
              </action>
              <action layer='tc'>
                <args>
                  <item>filter</item>
                  <item>del</item>
                  <item>dev</item>
                  <item>virbr0</item>
                  <item>prio</item>
                  <item>2</item>
                  <item>protocol</item>
                  <item>ip</item>
                  <item>parent</item>
                  <item>1:</item>
                  <item>u32</item>
                  <item>match</item>
                  <item>ip</item>
                  <item>dport</item>
                  <item>68</item>
                  <item>ffff</item>
                  <item>action</item>
                  <item>csum</item>
                  <item>ip</item>
                  <item>and</item>
                  <item>udp</item>
                </args>
              </action>
            </group>
          </firewall>

        """;

    private static string LibvirtStatus(string fw = FwRemoval) => Header + $"""
        <networkstatus>
          <class_id bitmap='0-2'/>
          <floor sum='0'/>
          <network>
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

        """ + fw + "</networkstatus>";

    private string WriteStatus(string text)
    {
        Directory.CreateDirectory(StateDir);
        string file = Path.Combine(StateDir, "default.xml");
        File.WriteAllText(file, text);
        return file;
    }

    [Test]
    public void ALibvirtStatusFileWithFwRemovalRoundTripsByteForByte()
    {
        string text = LibvirtStatus();
        WriteStatus(text);
        NetworkStatus st = Drv.Store.LoadStatus("default");
        Assert.That(st.Record.FirewallRemoval, Is.Not.Null);
        Assert.That(st.Record.FirewallRemoval!.Backend, Is.EqualTo(FirewallBackendType.Nftables));
        Assert.That(st.Record.FirewallRemoval.Groups.Single().IgnoreErrors, Is.True);
        Assert.That(st.Record.FirewallRemoval.Groups[0].Actions.Select(a => a.Layer), Is.EqualTo(new[] { FirewallLayer.Ipv4, FirewallLayer.Ipv4, FirewallLayer.Tc }));
        Assert.That(st.Record.FirewallRemoval.Groups[0].Actions[1].Args, Is.EqualTo(new[] { "delete", "rule", "ip", "libvirt_network", "guest_output", "handle", "7" }));
        Assert.That(NetworkStore.StatusText(st.Def, st.ClassIdBitmap, st.FloorSum, st.Taints, st.Record), Is.EqualTo(text));
    }

    [Test]
    public void ALibvirtStatusFileLoadsAndDestroyGivesTheRemovalPlanBack()
    {
        WriteStatus(LibvirtStatus());
        Backend.MarkRunning("default", "virbr0");
        Drv.Load();
        Assert.That(Drv.LoadErrors, Is.Empty);
        NetworkRef r = Drv.LookupByName("default");
        Assert.That(Drv.IsActive(r), Is.True);
        Drv.Destroy(r);
        (string network, BackendRecord record) = Backend.Stops.Single();
        Assert.That(network, Is.EqualTo("default"));
        Assert.That(FirewallPlanXml.Format(record.FirewallRemoval!, 2), Is.EqualTo(FwRemoval));
        Assert.That(File.Exists(Path.Combine(StateDir, "default.xml")), Is.False);
    }

    [Test]
    public void OnlyAFirewallNamedFwRemovalIsTheRemovalPlan()
    {
        WriteStatus(LibvirtStatus(FwRemoval.Replace("name='fwRemoval' ", "name='other' ", StringComparison.Ordinal)));
        Assert.That(Drv.Store.LoadStatus("default").Record.FirewallRemoval, Is.Null);
    }

    [Test]
    public void OurRecordIsWrittenAfterTheRemovalPlanAndReadBack()
    {
        var plan = new FirewallPlan(FirewallBackendType.Iptables,
        [
            new FirewallGroup([new FirewallAction(FirewallLayer.Ipv4, ["-w", "--table", "filter", "--delete", "LIBVIRT_FWO", "--comment", "it's <odd> & \"quoted\""])], IgnoreErrors: true),
            new FirewallGroup([new FirewallAction(FirewallLayer.Ipv6, ["-D", "X"], IgnoreErrors: true), new FirewallAction(FirewallLayer.Ethernet, ["-F"])]),
        ]);
        Backend.RecordFor = def => new BackendRecord { FirewallRemoval = plan, Bridge = def.Bridge, BridgeCreated = true, DnsmasqPid = 4242 };
        NetworkRef r = Drv.DefineXml(Xml("n1", U1, "<forward mode='nat'/><bridge name='virbr5'/><ip address='10.0.0.1' prefix='24'/>"), 0);
        Drv.Create(r);
        string status = File.ReadAllText(Path.Combine(StateDir, "n1.xml"));
        Assert.That(status, Does.EndWith("""
              </network>
              <firewall name='fwRemoval' backend='iptables'>
                <group ignoreErrors='yes'>
                  <action layer='ipv4'>
                    <args>
                      <item>-w</item>
                      <item>--table</item>
                      <item>filter</item>
                      <item>--delete</item>
                      <item>LIBVIRT_FWO</item>
                      <item>--comment</item>
                      <item>it&apos;s &lt;odd&gt; &amp; &quot;quoted&quot;</item>
                    </args>
                  </action>
                </group>
                <group>
                  <action layer='ipv6' ignoreErrors='yes'>
                    <args>
                      <item>-D</item>
                      <item>X</item>
                    </args>
                  </action>
                  <action layer='ethernet'>
                    <args>
                      <item>-F</item>
                    </args>
                  </action>
                </group>
              </firewall>
              <vnd:host xmlns:vnd='urn:virtnetworkd:network-status:1' bridge='virbr5' bridgeCreated='yes' dnsmasqPid='4242'/>
            </networkstatus>
            """));

        // a restarted daemon gives the same record back to Stop, from the status file alone
        var d2 = NewDriver();
        d2.Load();
        Assert.That(d2.LoadErrors, Is.Empty);
        d2.Destroy(r);
        BackendRecord back = Backend.Stops.Single().Record;
        Assert.That(back.Bridge, Is.EqualTo("virbr5"));
        Assert.That(back.BridgeCreated, Is.True);
        Assert.That(back.DnsmasqPid, Is.EqualTo(4242));
        Assert.That(FirewallPlanXml.Format(back.FirewallRemoval!), Is.EqualTo(FirewallPlanXml.Format(plan with { Name = FirewallPlan.RemovalName })));
        Assert.That(back.FirewallRemoval!.Groups[0].Actions[0].Args[^1], Is.EqualTo("it's <odd> & \"quoted\""));
    }

    [Test]
    public void ALiveDefinitionCompletedByTheBackendIsWhatRunsAndIsStored()
    {
        Backend.RecordFor = def =>
        {
            var live = def.Clone();
            live.Title = "completed by the backend";
            return new BackendRecord { LiveDefinition = live };
        };
        NetworkRef r = Drv.DefineXml(Xml("n1", U1), 0);
        Drv.Create(r);
        Assert.That(Drv.GetXmlDesc(r, 0), Does.Contain("<title>completed by the backend</title>"));
        Assert.That(Drv.GetXmlDesc(r, 1), Does.Not.Contain("<title>"));
        Assert.That(File.ReadAllText(Path.Combine(StateDir, "n1.xml")), Does.Contain("<title>completed by the backend</title>"));
    }

    [TestCase("<firewall name='fwRemoval'/>", VirErrorCode.XmlError, "XML error: Missing required attribute 'backend' in element 'firewall'")]
    [TestCase("<firewall name='fwRemoval' backend='ufw'/>", VirErrorCode.XmlError, "XML error: Invalid value for attribute 'backend' in element 'firewall': 'ufw'.")]
    [TestCase("<firewall name='fwRemoval' backend='nftables'><group ignoreErrors='absent'><action layer='ipv4'><args><item>x</item></args></action></group></firewall>",
        VirErrorCode.XmlError, "XML error: Invalid value for attribute 'ignoreErrors' in element 'group': 'absent'.")]
    [TestCase("<firewall name='fwRemoval' backend='nftables'><group><action layer='l2'><args><item>x</item></args></action></group></firewall>",
        VirErrorCode.XmlError, "XML error: Invalid value for attribute 'layer' in element 'action': 'l2'.")]
    [TestCase("<firewall name='fwRemoval' backend='nftables'><group><action layer='ipv4'><args/></action></group></firewall>",
        VirErrorCode.InternalError, "internal error: Invalid firewall command has 0 arguments")]
    public void BadFirewallElementsAreRefusedAsLibvirtRefusesThem(string xml, VirErrorCode code, string message)
    {
        DomElement node = SafeXmlParser.Parse(xml, null, VirErrorDomain.Network);
        Throws(() => FirewallPlanXml.Parse(node)).Is(code, message);
    }

    [Test]
    public void EmptyGroupsAndActionsWithoutArgsAreSkippedAsLibvirtSkipsThem()
    {
        DomElement node = SafeXmlParser.Parse(
            "<firewall backend='none'><group/><group><action layer='ipv4'/><action layer='tc'><args><item>a</item></args></action></group></firewall>",
            null, VirErrorDomain.Network);
        FirewallPlan plan = FirewallPlanXml.Parse(node);
        Assert.That(plan.Name, Is.Null);
        Assert.That(FirewallPlanXml.Format(plan), Is.EqualTo(
            "<firewall backend='none'>\n  <group>\n    <action layer='tc'>\n      <args>\n        <item>a</item>\n      </args>\n    </action>\n  </group>\n</firewall>\n"));
        Assert.That(FirewallPlanXml.Format(new FirewallPlan(FirewallBackendType.Nftables, [])), Is.EqualTo("<firewall backend='nftables'/>\n"));
    }
}
