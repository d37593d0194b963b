namespace VirtNetworkd.Integration.Tests;

/// <summary>virsh's network commands against the daemon with the in-process backend.</summary>
public class NetworkVirshTests : DaemonFixture
{
    private const string Nat = """
        <network>
          <name>NAME</name>
          <forward mode='nat'/>
          <ip address='192.168.150.1' netmask='255.255.255.0'>
            <dhcp><range start='192.168.150.2' end='192.168.150.254'/></dhcp>
          </ip>
        </network>
        """;

    private string Xml(string name)
    {
        var path = Path.Combine(Daemon.Root, name + ".xml");
        File.WriteAllText(path, Nat.Replace("NAME", name, StringComparison.Ordinal));
        return path;
    }

    private Tools.Result Virsh(params string[] args) => Tools.Virsh(Daemon.Uri, args);

    [Test]
    public void DefineStartListInfoDestroyUndefine()
    {
        var define = Virsh("net-define", Xml("flow1"));
        Assert.That(define.ExitCode, Is.Zero, define.ToString());
        var list = Virsh("net-list", "--all").Stdout;
        Assert.That(list, Does.Contain("flow1").And.Contain("inactive"));
        Assert.That(Virsh("net-start", "flow1").ExitCode, Is.Zero);
        Assert.That(Virsh("net-autostart", "flow1").ExitCode, Is.Zero);
        var info = Virsh("net-info", "flow1").Stdout;
        Assert.That(info, Does.Match(@"Active:\s+yes").And.Match(@"Persistent:\s+yes").And.Match(@"Autostart:\s+yes").And.Match(@"Bridge:\s+virbr\d+"));
        var xml = Virsh("net-dumpxml", "flow1").Stdout;
        Assert.That(xml, Does.Contain("<name>flow1</name>").And.Contain("<uuid>").And.Contain("<mac address='52:54:00:"));
        var uuid = Virsh("net-uuid", "flow1").Stdout.Trim();
        Assert.That(Virsh("net-name", uuid).Stdout.Trim(), Is.EqualTo("flow1"));
        Assert.That(Virsh("net-list", "--autostart", "--name").Stdout, Does.Contain("flow1"));
        Assert.That(Virsh("net-destroy", "flow1").ExitCode, Is.Zero);
        Assert.That(Virsh("net-autostart", "--disable", "flow1").ExitCode, Is.Zero);
        Assert.That(Virsh("net-undefine", "flow1").ExitCode, Is.Zero);
        Assert.That(Virsh("net-list", "--all", "--name").Stdout, Does.Not.Contain("flow1"));
    }

    [Test]
    public void ErrorsAreLibvirts()
    {
        Virsh("net-define", Xml("err1"));
        var dup = Virsh("net-define", Xml("err1"));
        Assert.That(dup.Stderr, Does.Contain("error: operation failed: network 'err1' already exists with uuid "));
        Assert.That(Virsh("net-destroy", "err1").Stderr, Does.Contain("error: Requested operation is not valid: network 'err1' is not active"));
        Virsh("net-start", "err1");
        Assert.That(Virsh("net-start", "err1").Stderr, Does.Contain("error: Requested operation is not valid: network is already active"));
        Assert.That(Virsh("net-info", "nosuch").Stderr, Does.Contain("error: Network not found: no network with matching name 'nosuch'"));
        var bad = Path.Combine(Daemon.Root, "bad.xml");
        File.WriteAllText(bad, "<network><name>x</name><ip address='nonsense'/></network>");
        Assert.That(Virsh("net-define", bad).ExitCode, Is.EqualTo(1));
        Virsh("net-destroy", "err1");
        Virsh("net-undefine", "err1");
    }

    [Test]
    public void TransientNetworkFromCreate()
    {
        Assert.That(Virsh("net-create", Xml("trans1")).ExitCode, Is.Zero);
        Assert.That(Virsh("net-info", "trans1").Stdout, Does.Match(@"Persistent:\s+no"));
        Assert.That(Virsh("net-destroy", "trans1").ExitCode, Is.Zero);
        Assert.That(Virsh("net-list", "--all", "--name").Stdout, Does.Not.Contain("trans1"));
    }

    [Test]
    public void ReadOnlySocketCanListButNotDefine()
    {
        Virsh("net-define", Xml("ro1"));
        Assert.That(Tools.Virsh(Daemon.ReadOnlyUri, "net-list", "--all", "--name").Stdout, Does.Contain("ro1"));
        Assert.That(Tools.Virsh(Daemon.ReadOnlyUri, "net-start", "ro1").Stderr,
            Does.Contain("operation forbidden: read only access prevents virNetworkCreate"));
        Virsh("net-undefine", "ro1");
    }

    [Test]
    public void PythonListAllNetworksWithFlags()
    {
        Virsh("net-define", Xml("py1"));
        Virsh("net-create", Xml("py2"));
        const string script = """
            import sys, libvirt
            c = libvirt.open(sys.argv[1])
            f = lambda flags: sorted(n.name() for n in c.listAllNetworks(flags) if n.name().startswith('py'))
            print(f(0), f(libvirt.VIR_CONNECT_LIST_NETWORKS_ACTIVE), f(libvirt.VIR_CONNECT_LIST_NETWORKS_INACTIVE),
                  f(libvirt.VIR_CONNECT_LIST_NETWORKS_PERSISTENT), f(libvirt.VIR_CONNECT_LIST_NETWORKS_TRANSIENT))
            """;
        var r = Tools.Python(script, Daemon.Uri);
        Assert.That(r.Stdout, Is.EqualTo("['py1', 'py2'] ['py2'] ['py1'] ['py1'] ['py2']"), r.ToString());
        Virsh("net-destroy", "py2");
        Virsh("net-undefine", "py1");
    }
}

/// <summary>A running network outlives a daemon restart, with the same live XML.</summary>
public class NetworkRestartTests
{
    [Test]
    public void ActiveNetworkSurvivesARestart()
    {
        var root = DaemonProcess.NewRoot();
        var xml = Path.Combine(root, "keep.xml");
        File.WriteAllText(xml, "<network><name>keep</name><ip address='192.168.151.1' netmask='255.255.255.0'/></network>");
        string live;
        // not disposed: that would delete the root the second daemon needs
        var first = DaemonProcess.Start(root: root);
        Assert.That(Tools.Virsh(first.Uri, "net-define", xml).ExitCode, Is.Zero);
        Assert.That(Tools.Virsh(first.Uri, "net-start", "keep").ExitCode, Is.Zero);
        live = Tools.Virsh(first.Uri, "net-dumpxml", "keep").Stdout;
        Assert.That(first.Stop(), Is.Zero);
        first.Process.Dispose();
        using (var d = DaemonProcess.Start(root: root))
        {
            Assert.That(Tools.Virsh(d.Uri, "net-info", "keep").Stdout, Does.Match(@"Active:\s+yes"));
            Assert.That(Tools.Virsh(d.Uri, "net-dumpxml", "keep").Stdout, Is.EqualTo(live));
            d.Stop();
        }
    }
}
