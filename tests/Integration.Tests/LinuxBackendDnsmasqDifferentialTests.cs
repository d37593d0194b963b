using System.Globalization;

namespace VirtNetworkd.Integration.Tests;

/// <summary>
/// The same NAT network with DHCP and DNS records started on the reference daemon (libvirt 9.0,
/// in its namespace, with libvirt's real folders) and on ours (Linux backend, in a namespace this
/// test creates, every path under its VIRTNETWORKD_ROOT): the dnsmasq each starts has the same
/// command line and environment (modulo the root and the --dhcp-script), and the config,
/// hosts and addn-hosts files are the same.
/// </summary>
public sealed class LinuxBackendDnsmasqDifferentialTests
{
    private const string Name = "dqdiff";
    private const string Xml = """
        <network><name>dqdiff</name><uuid>0b2f4a52-7c1e-4d5e-8f90-0000000d0c01</uuid><forward mode='nat'/>
        <bridge name='vndqd0' stp='on' delay='0'/><mac address='52:54:00:de:ad:02'/><domain name='example.test'/>
        <dns><txt name='t' value='a value'/><host ip='198.51.100.7'><hostname>h1</hostname><hostname>h2</hostname></host>
        <srv service='ldap' protocol='tcp' target='h1' port='389'/></dns>
        <ip address='198.51.100.1' netmask='255.255.255.0'><dhcp><range start='198.51.100.100' end='198.51.100.199'/>
        <host mac='52:54:00:aa:bb:0d' name='fixed' ip='198.51.100.50'/></dhcp></ip></network>
        """;

    private string _ns = "", _ip = "", _root = "";
    private DaemonProcess? _daemon;

    [SetUp]
    public void StartOurs() => Tools.UndoIfFails(StartOursSteps, StopOurs);

    private void StartOursSteps()
    {
        _ip = Tools.Require("ip", "iproute2");
        Tools.Require("dnsmasq", "dnsmasq-base");
        Tools.Require("iptables-save", "iptables");
        _ns = "vndqd" + Guid.NewGuid().ToString("N")[..8];
        Assert.That(Tools.Run(_ip, ["netns", "add", _ns]).ExitCode, Is.Zero);
        _root = DaemonProcess.NewRoot();
        Directory.CreateDirectory(Path.Combine(_root, "etc/libvirt"));
        File.WriteAllText(Path.Combine(_root, "etc/libvirt/network.conf"), "firewall_backend = \"iptables\"\n");
        string helper = Path.Combine(_root, "helper.sh");
        File.WriteAllText(helper, "#!/bin/sh\nexit 0\n");
        File.SetUnixFileMode(helper, (UnixFileMode)0b111_101_101);
        _daemon = DaemonProcess.Start(root: _root, networkNamespace: _ns, env: new Dictionary<string, string>
        {
            ["VIRTNETWORKD_BACKEND"] = "linux",
            ["VIRTNETWORKD_LEASES_HELPER"] = helper,
        });
    }

    [TearDown]
    public void StopOurs()
    {
        string root = _root;
        _daemon?.Dispose();
        Tools.Run(_ip, ["netns", "del", _ns]);
        try { Directory.Delete(root, recursive: true); } catch (IOException) { }
    }

    private static string[] Argv(int pid) => File.ReadAllText($"/proc/{pid}/cmdline").Split('\0', StringSplitOptions.RemoveEmptyEntries);
    private static string[] Environ(int pid) => File.ReadAllText($"/proc/{pid}/environ").Split('\0', StringSplitOptions.RemoveEmptyEntries);
    private static int Pid(string file) => int.Parse(File.ReadAllText(file).Trim(), CultureInfo.InvariantCulture);

    private static string[] Normal(string[] argv, string root) =>
        argv.Select(a => a.StartsWith("--dhcp-script=", StringComparison.Ordinal) ? "--dhcp-script=SCRIPT" : a.Replace(root, "", StringComparison.Ordinal)).ToArray();

    [Test]
    public void CommandLineAndFilesAreTheReferences()
    {
        string xml = Path.Combine(_root, "diff.xml");
        File.WriteAllText(xml, Xml);
        string reference = ReferenceDaemon.Uri;
        try
        {
            foreach (string uri in new[] { reference, _daemon!.Uri })
            {
                Assert.That(Tools.Virsh(uri, "net-define", xml).ExitCode, Is.Zero);
                var start = Tools.Virsh(uri, "net-start", Name);
                Assert.That(start.ExitCode, Is.Zero, start.ToString() + (uri == reference ? "" : "\n" + _daemon.Stderr));
            }
            int theirs = Pid($"/run/libvirt/network/{Name}.pid");
            int ours = Pid(Path.Combine(_root, $"run/libvirt/network/{Name}.pid"));
            TestContext.Out.WriteLine(string.Join(' ', Argv(theirs)));
            Assert.That(Normal(Argv(ours), _root), Is.EqualTo(Normal(Argv(theirs), _root)));
            // the one variable we add: a re-rooted daemon's root, for the leases helper dnsmasq runs
            Assert.That(Environ(ours), Is.EqualTo(Environ(theirs).Append("VIRTNETWORKD_ROOT=" + _root)));
            foreach (string file in new[] { $"{Name}.conf", $"{Name}.hostsfile", $"{Name}.addnhosts" })
            {
                string expected = File.ReadAllText(Path.Combine("/var/lib/libvirt/dnsmasq", file));
                string actual = File.ReadAllText(Path.Combine(_root, "var/lib/libvirt/dnsmasq", file)).Replace(_root, "", StringComparison.Ordinal);
                Assert.That(actual, Is.EqualTo(expected), file);
            }
            Assert.That(File.ReadAllText(Path.Combine("/var/lib/libvirt/dnsmasq", $"{Name}.addnhosts")), Is.EqualTo("198.51.100.7\th1\th2\t\n"));
        }
        finally
        {
            foreach (string uri in new[] { reference, _daemon!.Uri })
            {
                Tools.Virsh(uri, "net-destroy", Name);
                Tools.Virsh(uri, "net-undefine", Name);
            }
        }
    }
}
