namespace VirtNetworkd.Integration.Tests;

/// <summary>Network ports through virsh and python3-libvirt, and across a daemon restart.</summary>
public class NetworkPortTests : DaemonFixture
{
    private const string Port1 = "5d744f21-ba4a-4d6e-bdb2-30a35ff3207d";
    private const string Port2 = "6d744f21-ba4a-4d6e-bdb2-30a35ff3207d";

    internal static string NetworkXml(string name, int subnet) => $"""
        <network>
          <name>{name}</name>
          <forward mode='nat'/>
          <bridge name='vndp{subnet}'/>
          <bandwidth><inbound average='1000' peak='2000'/></bandwidth>
          <ip address='192.168.{subnet}.1' prefix='24'/>
        </network>
        """;

    internal static string PortXml(string uuid, ulong floor, string mac = "52:54:00:7b:35:93") => $"""
        <networkport>
          <uuid>{uuid}</uuid>
          <owner><name>guest</name><uuid>d54df46f-1ab5-4a22-8618-4560ef5fac2c</uuid></owner>
          <mac address='{mac}'/>
          <bandwidth><inbound average='10' floor='{floor}'/></bandwidth>
        </networkport>
        """;

    private string File(string name, string text)
    {
        string path = Path.Combine(Daemon.Root, name);
        System.IO.File.WriteAllText(path, text);
        return path;
    }

    private Tools.Result Virsh(params string[] args) => Tools.Virsh(Daemon.Uri, args);

    [Test]
    public void VirshPortCreateListDumpxmlDelete()
    {
        Assert.That(Virsh("net-create", File("pnet1.xml", NetworkXml("pnet1", 160))).ExitCode, Is.Zero);
        // without -q, to see virsh's own report
        var create = Tools.Run("virsh", ["-c", Daemon.Uri, "net-port-create", "pnet1", File("p1.xml", PortXml(Port1, 300))]);
        Assert.That(create.ExitCode, Is.Zero, create.ToString());
        Assert.That(create.Stdout, Does.Contain($"Network port {Port1} created from "));
        Assert.That(Virsh("net-port-list", "pnet1", "--uuid").Stdout.Trim(), Is.EqualTo(Port1));
        Assert.That(Virsh("net-port-dumpxml", "pnet1", Port1).Stdout.Trim(), Is.EqualTo($"""
            <networkport>
              <uuid>{Port1}</uuid>
              <owner>
                <name>guest</name>
                <uuid>d54df46f-1ab5-4a22-8618-4560ef5fac2c</uuid>
              </owner>
              <mac address='52:54:00:7b:35:93'/>
              <bandwidth classID='3'>
                <inbound average='10' floor='300'/>
              </bandwidth>
              <plug type='network' bridge='vndp160'/>
            </networkport>
            """));
        Assert.That(Virsh("net-dumpxml", "pnet1").Stdout, Does.StartWith("<network connections='1'>"));

        var dup = Virsh("net-port-create", "pnet1", File("p1.xml", PortXml(Port1, 300)));
        Assert.That(dup.ExitCode, Is.EqualTo(1));
        Assert.That(dup.Stderr, Does.Contain($"error: network port Network port with UUID {Port1} already exists exists already"));
        var over = Virsh("net-port-create", "pnet1", File("p2.xml", PortXml(Port2, 1800, "52:54:00:00:00:02")));
        Assert.That(over.Stderr, Does.Contain(
            "error: Requested operation is not valid: Cannot plug '52:54:00:00:00:02' interface into 'vndp160' because new combined inbound floor=2100 would overcommit peak=2000 on network 'pnet1'"));
        Assert.That(Virsh("net-port-dumpxml", "pnet1", Port2).Stderr,
            Does.Contain($"error: failed to get network port '{Port2}'"));

        Assert.That(Tools.Run("virsh", ["-c", Daemon.Uri, "net-port-delete", "pnet1", Port1]).Stdout, Does.Contain($"Network port {Port1} deleted"));
        Assert.That(Virsh("net-port-list", "pnet1", "--uuid").Stdout.Trim(), Is.Empty);
        Assert.That(Virsh("net-dumpxml", "pnet1").Stdout, Does.StartWith("<network>"));
        Assert.That(Tools.Virsh(Daemon.ReadOnlyUri, "net-port-create", "pnet1", File("p1.xml", PortXml(Port1, 300))).Stderr,
            Does.Contain("operation forbidden: read only access prevents virNetworkPortCreateXML"));
        Virsh("net-destroy", "pnet1");
    }

    [Test]
    public void PythonPortsAndParameters()
    {
        Assert.That(Virsh("net-create", File("pnet2.xml", NetworkXml("pnet2", 161))).ExitCode, Is.Zero);
        string script = $$"""
            import sys, libvirt
            c = libvirt.open(sys.argv[1])
            net = c.networkLookupByName('pnet2')
            port = net.portCreateXML('''{{PortXml(Port1, 300)}}''', 0)
            print('uuid', port.UUIDString(), port.network().name())
            print('list', [p.UUIDString() for p in net.listAllPorts(0)])
            print('lookup', net.portLookupByUUIDString('{{Port1}}').UUIDString())
            print('params', sorted(port.parameters(0).items()))
            port.setParameters({'inbound.average': 50, 'inbound.floor': 700}, 0)
            print('params', sorted(port.parameters(0).items()))
            try:
                port.setParameters({'inbound.floor': 2500}, 0)
            except libvirt.libvirtError as e:
                print('error', e.get_error_code(), e.get_error_domain(), e.get_error_message())
            port.delete(0)
            try:
                net.portLookupByUUIDString('{{Port1}}')
            except libvirt.libvirtError as e:
                print('error', e.get_error_code(), e.get_error_domain(), e.get_error_message())
            c.networkDefineXML(net.XMLDesc(1))
            net.destroy()
            try:
                net.listAllPorts(0)
            except libvirt.libvirtError as e:
                print('error', e.get_error_code(), e.get_error_domain(), e.get_error_message())
            net.undefine()
            """;
        var r = Tools.Python(script, Daemon.Uri);
        Assert.That(r.ExitCode, Is.Zero, r.ToString());
        Assert.That(r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries), Is.EqualTo(new[]
        {
            $"uuid {Port1} pnet2",
            $"list ['{Port1}']",
            $"lookup {Port1}",
            "params [('inbound.average', 10), ('inbound.burst', 0), ('inbound.floor', 300), ('inbound.peak', 0)]",
            "params [('inbound.average', 50), ('inbound.burst', 0), ('inbound.floor', 700), ('inbound.peak', 0)]",
            "error 55 19 Requested operation is not valid: Cannot plug '52:54:00:7b:35:93' interface into 'vndp161' because new combined inbound floor=2500 would overcommit peak=2000 on network 'pnet2'",
            $"error 107 19 network port not found: Network port with UUID {Port1} does not exist",
            "error 55 19 Requested operation is not valid: network 'pnet2' is not active",
        }));
    }
}

public class NetworkPortRestartTests
{
    [Test]
    public void PortsOfARunningNetworkSurviveARestart()
    {
        var root = DaemonProcess.NewRoot();
        string net = Path.Combine(root, "net.xml"), port = Path.Combine(root, "port.xml");
        File.WriteAllText(net, NetworkPortTests.NetworkXml("pkeep", 162));
        File.WriteAllText(port, NetworkPortTests.PortXml("5d744f21-ba4a-4d6e-bdb2-30a35ff3207d", 300));
        // not disposed: that would delete the root the second daemon needs
        var first = DaemonProcess.Start(root: root);
        Assert.That(Tools.Virsh(first.Uri, "net-create", net).ExitCode, Is.Zero);
        Assert.That(Tools.Virsh(first.Uri, "net-port-create", "pkeep", port).ExitCode, Is.Zero);
        string live = Tools.Virsh(first.Uri, "net-dumpxml", "pkeep").Stdout;
        string portXml = Tools.Virsh(first.Uri, "net-port-dumpxml", "pkeep", "5d744f21-ba4a-4d6e-bdb2-30a35ff3207d").Stdout;
        Assert.That(first.Stop(), Is.Zero);
        first.Process.Dispose();
        using var d = DaemonProcess.Start(root: root);
        Assert.That(Tools.Virsh(d.Uri, "net-dumpxml", "pkeep").Stdout, Is.EqualTo(live).And.StartWith("<network connections='1'>"));
        Assert.That(Tools.Virsh(d.Uri, "net-port-dumpxml", "pkeep", "5d744f21-ba4a-4d6e-bdb2-30a35ff3207d").Stdout, Is.EqualTo(portXml));
        Assert.That(Tools.Virsh(d.Uri, "net-port-delete", "pkeep", "5d744f21-ba4a-4d6e-bdb2-30a35ff3207d").ExitCode, Is.Zero);
        Assert.That(Tools.Virsh(d.Uri, "net-dumpxml", "pkeep").Stdout, Does.StartWith("<network>"));
        d.Stop();
    }
}
