using System.Diagnostics;
using System.Globalization;
using VirtNetworkd.NetworkDriver.Backend.Dnsmasq;

namespace VirtNetworkd.Integration.Tests;

/// <summary>
/// virsh net-dhcp-leases on a NAT network of the daemon with the Linux backend (in a network
/// namespace this test makes): the leases are what the built leases helper wrote for the
/// network's bridge, driven here by hand as dnsmasq would drive it (no dnsmasq needed).
/// </summary>
public sealed class LinuxBackendLeasesTests
{
    private string _ns = "";
    private string _ip = "";
    private string _root = "";
    private DaemonProcess? _daemon;

    private const string Nat = """
        <network><name>lsnat</name><forward mode='nat'/><bridge name='vnls0'/>
        <ip address='192.0.2.1' netmask='255.255.255.0'><dhcp><range start='192.0.2.2' end='192.0.2.254'/></dhcp></ip>
        <ip family='ipv6' address='2001:db8:ca2:2::1' prefix='64'/></network>
        """;

    [SetUp]
    public void CreateNamespace() => Tools.UndoIfFails(CreateNamespaceSteps, RemoveNamespace);

    private void CreateNamespaceSteps()
    {
        _ip = Tools.Require("ip", "iproute2");
        Tools.Require("nft", "nftables");
        _ns = "vndls" + Guid.NewGuid().ToString("N")[..8];
        Assert.That(Tools.Run(_ip, ["netns", "add", _ns]).ExitCode, Is.Zero);
        Tools.Run(_ip, ["-n", _ns, "link", "set", "lo", "up"]);
        _root = DaemonProcess.NewRoot();
    }

    [TearDown]
    public void RemoveNamespace()
    {
        _daemon?.Dispose();
        Tools.Run(_ip, ["netns", "del", _ns]);
        try { Directory.Delete(_root, recursive: true); } catch (IOException) { }
    }

    private Tools.Result Virsh(params string[] args) => Tools.Virsh(_daemon!.Uri, args);

    private void Helper(string bridge, IDictionary<string, string> env, params string[] args)
    {
        var psi = new ProcessStartInfo(DnsmasqSettings.DefaultLeasesHelper) { RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment.Clear();
        psi.Environment["PATH"] = "/usr/sbin:/usr/bin:/sbin:/bin";
        if (Environment.GetEnvironmentVariable("DOTNET_ROOT") is { } dotnetRoot) psi.Environment["DOTNET_ROOT"] = dotnetRoot;
        psi.Environment["VIRTNETWORKD_ROOT"] = _root;
        psi.Environment["DNSMASQ_INTERFACE"] = bridge;
        foreach (var (k, v) in env) psi.Environment[k] = v;
        using var p = Process.Start(psi)!;
        string err = p.StandardError.ReadToEnd();
        p.WaitForExit();
        Assert.That(p.ExitCode, Is.Zero, $"leases helper {string.Join(' ', args)}: {err}");
    }

    [Test]
    public void NetDhcpLeasesShowsWhatTheHelperWrote()
    {
        _daemon = DaemonProcess.Start(root: _root, networkNamespace: _ns,
            env: new Dictionary<string, string> { ["VIRTNETWORKD_BACKEND"] = "linux" });
        string xml = Path.Combine(_root, "nat.xml");
        File.WriteAllText(xml, Nat);
        Assert.That(Virsh("net-define", xml).ExitCode, Is.Zero);
        var start = Virsh("net-start", "lsnat");
        Assert.That(start.ExitCode, Is.Zero, start + "\n" + _daemon.Stderr);
        Assert.That(Virsh("net-dhcp-leases", "lsnat").Stdout, Does.Not.Contain("192.0.2"), "no lease yet (no status file)");

        long soon = DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 3600;
        string Exp(long t) => t.ToString(CultureInfo.InvariantCulture);
        Helper("vnls0", new Dictionary<string, string> { ["DNSMASQ_LEASE_EXPIRES"] = Exp(soon), ["DNSMASQ_SUPPLIED_HOSTNAME"] = "guest1", ["DNSMASQ_CLIENT_ID"] = "01:52:54:00:12:34:56" },
            "add", "52:54:00:12:34:56", "192.0.2.10");
        Helper("vnls0", new Dictionary<string, string> { ["DNSMASQ_LEASE_EXPIRES"] = Exp(soon) }, "add", "52:54:00:ab:cd:ef", "192.0.2.11");
        Helper("vnls0", new Dictionary<string, string> { ["DNSMASQ_LEASE_EXPIRES"] = "1000" }, "add", "52:54:00:00:00:99", "192.0.2.99");
        Helper("vnls0", new Dictionary<string, string>
        {
            ["DNSMASQ_IAID"] = "1234567", ["DNSMASQ_MAC"] = "52:54:00:12:34:56", ["DNSMASQ_SERVER_DUID"] = "00:01:00:01:2c:aa:bb:cc:52:54:00:00:00:01",
            ["DNSMASQ_LEASE_EXPIRES"] = "0", ["DNSMASQ_SUPPLIED_HOSTNAME"] = "guest1",
        }, "add", "00:04:aa:bb:cc:dd:ee:ff", "2001:db8:ca2:2::10");
        Assert.That(File.Exists(Path.Combine(_root, "var/lib/libvirt/dnsmasq/vnls0.status")), Is.True, "the helper follows VIRTNETWORKD_ROOT as the daemon does");

        var all = Virsh("net-dhcp-leases", "lsnat");
        Assert.That(all.ExitCode, Is.Zero, all.ToString());
        string[] lines = all.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(lines, Has.Length.EqualTo(3), "the expired lease is not listed:\n" + all.Stdout);
        // virsh sorts by MAC address (qsort: the two leases of one MAC come in either order)
        Assert.That(lines, Has.One.Match(@"^\s*\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\s+52:54:00:12:34:56\s+ipv4\s+192\.0\.2\.10/24\s+guest1\s+01:52:54:00:12:34:56\s*$"));
        Assert.That(lines[2], Does.Match(@"52:54:00:ab:cd:ef\s+ipv4\s+192\.0\.2\.11/24\s+-\s+-\s*$"), "no hostname, no client id");
        Assert.That(lines, Has.One.Match(@"52:54:00:12:34:56\s+ipv6\s+2001:db8:ca2:2::10/64\s+guest1\s+00:04:aa:bb:cc:dd:ee:ff\s*$"), "DHCPv6, expiry 0 never expires");

        var one = Virsh("net-dhcp-leases", "lsnat", "--mac", "52:54:00:AB:CD:EF");
        Assert.That(one.ExitCode, Is.Zero, one.ToString());
        Assert.That(one.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries), Has.Length.EqualTo(1).And.All.Contain("192.0.2.11/24"), "the MAC filter ignores case");
        Assert.That(Virsh("net-dhcp-leases", "lsnat", "--mac", "52:54:00:12:34:56").Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries), Has.Length.EqualTo(2), "both leases of that MAC");

        Helper("vnls0", new Dictionary<string, string>(), "del", "52:54:00:ab:cd:ef", "192.0.2.11");
        Assert.That(Virsh("net-dhcp-leases", "lsnat").Stdout, Does.Not.Contain("192.0.2.11"), "a released lease is gone");

        File.WriteAllText(Path.Combine(_root, "var/lib/libvirt/dnsmasq/vnls0.status"), "[{\"ip-address\": 5}]");
        var bad = Virsh("net-dhcp-leases", "lsnat");
        Assert.That(bad.ExitCode, Is.Not.Zero);
        Assert.That(bad.Stderr, Does.Contain("internal error: found lease without mac-address"));
        Assert.That(Virsh("net-list", "--name").ExitCode, Is.Zero, "the daemon is still there");
    }

    [Test]
    public void UndefiningTheStoppedNetworkRemovesItsLeasesAndDnsmasqFiles()
    {
        // libvirt's networkRemoveInactive: a network defined again under the name starts without the old leases
        _daemon = DaemonProcess.Start(root: _root, networkNamespace: _ns,
            env: new Dictionary<string, string> { ["VIRTNETWORKD_BACKEND"] = "linux" });
        string xml = Path.Combine(_root, "nat.xml");
        File.WriteAllText(xml, Nat);
        Assert.That(Virsh("net-define", xml).ExitCode, Is.Zero);
        var start = Virsh("net-start", "lsnat");
        Assert.That(start.ExitCode, Is.Zero, start + "\n" + _daemon.Stderr);
        long soon = DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 3600;
        Helper("vnls0", new Dictionary<string, string> { ["DNSMASQ_LEASE_EXPIRES"] = soon.ToString(CultureInfo.InvariantCulture) }, "add", "52:54:00:12:34:56", "192.0.2.10");
        string dir = Path.Combine(_root, "var/lib/libvirt/dnsmasq");
        string[] files = ["vnls0.status", "lsnat.conf", "lsnat.hostsfile", "lsnat.addnhosts"];
        Assert.That(files.Select(f => Path.Combine(dir, f)), Is.All.Matches<string>(File.Exists));
        Assert.That(Virsh("net-destroy", "lsnat").ExitCode, Is.Zero);
        Assert.That(File.Exists(Path.Combine(dir, "vnls0.status")), Is.True, "a stopped network keeps its leases (libvirt too)");
        Assert.That(Virsh("net-undefine", "lsnat").ExitCode, Is.Zero);
        Assert.That(files.Select(f => Path.Combine(dir, f)), Is.All.Not.Matches<string>(File.Exists));
        Assert.That(Virsh("net-define", xml).ExitCode, Is.Zero);
        Assert.That(Virsh("net-start", "lsnat").ExitCode, Is.Zero);
        Assert.That(Virsh("net-dhcp-leases", "lsnat").Stdout, Does.Not.Contain("192.0.2.10"));
    }
}
