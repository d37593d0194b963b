using System.Diagnostics;

namespace VirtNetworkd.Integration.Tests;

/// <summary>Debian's virsh and python3-libvirt against our daemon, compared with libvirtd where the issue asks.</summary>
public class RealClientTests : DaemonFixture
{
    [Test]
    public void VirshUri()
    {
        var r = Tools.Virsh(Daemon.Uri, "uri");
        Assert.That(r.ExitCode, Is.Zero, r.ToString());
        Assert.That(r.Stdout, Is.EqualTo(Daemon.Uri));
    }

    [TestCase("hostname")]
    [TestCase("version")]
    [TestCase("sysinfo")]
    [TestCase("list")]
    public void VirshErrorsMatchTheReferenceDaemon(string command)
    {
        var ours = Tools.Virsh(Daemon.Uri, command);
        var theirs = Tools.Virsh(ReferenceDaemon.Uri, command);
        Assert.That(ours.ExitCode, Is.EqualTo(theirs.ExitCode), $"ours: {ours}\ntheirs: {theirs}");
        Assert.That(ours.Stderr, Is.EqualTo(theirs.Stderr));
        // "version" prints the library versions first; the API line names the driver type
        Assert.That(ours.Stdout.Replace("10.8.0", "9.0.0"), Is.EqualTo(theirs.Stdout.Replace("10.8.0", "9.0.0")));
    }

    [Test]
    public void VirshReadOnlyRefusal()
    {
        var xml = Path.Combine(Daemon.Root, "ro.xml");
        File.WriteAllText(xml, "<network><name>ro</name></network>");
        var r = Tools.Virsh(Daemon.ReadOnlyUri, "net-define", xml);
        Assert.That(r.ExitCode, Is.EqualTo(1));
        Assert.That(r.Stderr, Does.Contain("error: operation forbidden: read only access prevents virNetworkDefineXML"));
    }

    [Test]
    public void PythonOpenAndGetters()
    {
        const string script = """
            import sys, libvirt
            c = libvirt.open(sys.argv[1])
            print(c.getURI()); print(c.getLibVersion()); print(c.isAlive()); print(c.getType())
            print(c.isSecure(), c.isEncrypted())
            print(c.close())
            """;
        var r = Tools.Python(script, Daemon.Uri);
        Assert.That(r.ExitCode, Is.Zero, r.ToString());
        Assert.That(r.Stdout.Split('\n'), Is.EqualTo(new[] { Daemon.Uri, "10008000", "1", "network", "1 0", "0" }));
    }

    [Test]
    public void PythonReadOnlyOpen()
    {
        const string script = """
            import sys, libvirt
            c = libvirt.openReadOnly(sys.argv[1])
            try:
                c.networkDefineXML("<network><name>x</name></network>")
            except libvirt.libvirtError as e:
                print(e.get_error_code(), e.get_error_domain(), e)
            """;
        var r = Tools.Python(script, Daemon.Uri);
        Assert.That(r.Stdout, Is.EqualTo("29 19 operation forbidden: read only access prevents virNetworkDefineXML"), r.ToString());
    }

    [Test]
    public void InteractiveVirshSessionSurvivesTwentySecondsWithKeepalive()
    {
        var psi = new ProcessStartInfo(Tools.Require("virsh", "libvirt-clients"))
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        // virsh's own keepalive: ping every 2 s, give up after 3 unanswered
        foreach (var a in new[] { "-q", "-k", "2", "-K", "3", "-c", Daemon.Uri }) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        p.StandardInput.WriteLine("uri");
        p.StandardInput.Flush();
        Thread.Sleep(20_000);
        p.StandardInput.WriteLine("uri");
        p.StandardInput.WriteLine("quit");
        p.StandardInput.Close();
        Assert.That(p.WaitForExit(30_000), Is.True);
        var stdout = p.StandardOutput.ReadToEnd();
        var stderr = p.StandardError.ReadToEnd();
        Assert.That(stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Count(l => l.Contains(Daemon.Uri, StringComparison.Ordinal)), Is.EqualTo(2), stdout + stderr);
        Assert.That(stderr, Is.Empty);
    }
}
