using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using Tmds.DBus.Protocol;

namespace VirtNetworkd.Integration.Tests;

/// <summary>
/// &lt;domain register='yes'/&gt; with the real systemd-resolved (<see cref="SystemdResolvedPackage"/>):
/// resolved runs in the test's network namespace and in a mount namespace of its own (a tmpfs on
/// /run, so the host's /run/systemd is never written; it never writes /etc/resolv.conf), connected
/// to a private dbus-daemon that DBUS_SYSTEM_BUS_ADDRESS names for it, for our daemon (Linux
/// backend, same namespace) and for the real resolvectl that reads the result.
/// <para>
/// resolved started as root wants its user systemd-resolve, which the host does not have (it is
/// made by the package's sysusers.d file; no user is added to the host for a test): it runs as
/// nobody with the ambient capabilities its unit file gives it (CAP_SETPCAP, CAP_NET_RAW,
/// CAP_NET_BIND_SERVICE), which is how resolved expects to run when it is not started as root;
/// it then authorizes our root daemon's calls as it authorizes root's on a real host.
/// </para>
/// </summary>
public sealed partial class LinuxBackendResolvedTests
{
    private const string Networks = """
        <network><name>resolv4</name><forward mode='nat'/><bridge name='vndrs4' stp='off'/>
        <domain name='example.test' localOnly='yes' register='yes'/>
        <ip address='192.0.2.1' netmask='255.255.255.0'><dhcp><range start='192.0.2.100' end='192.0.2.150'/></dhcp></ip>
        <ip family='ipv6' address='2001:db8:7::1' prefix='64'/></network>
        ---
        <network><name>resolv6</name><bridge name='vndrs6' stp='off'/>
        <domain name='six.test' localOnly='yes' register='yes'/>
        <ip family='ipv6' address='2001:db8:8::1' prefix='64'/><ip address='198.51.100.1' netmask='255.255.255.0'/></network>
        ---
        <network><name>local</name><bridge name='vndrsl' stp='off'/>
        <domain name='local.test' localOnly='yes'/>
        <ip address='203.0.113.1' netmask='255.255.255.0'/></network>
        """;

    private string _ns = "", _ip = "", _root = "";
    private PrivateSystemBus? _bus;
    private Process? _resolved;
    private readonly StringBuilder _resolvedLog = new();
    private DaemonProcess? _daemon;
    private (byte[] Content, DateTime Written) _hostResolvConf;
    private string[] _hostRunSystemd = [];

    [SetUp]
    public void CreateNamespace()
    {
        _ip = Tools.Require("ip", "iproute2");
        Tools.Require("nft", "nftables");
        Tools.Require("dnsmasq", "dnsmasq-base");
        _hostResolvConf = (File.ReadAllBytes("/etc/resolv.conf"), File.GetLastWriteTimeUtc("/etc/resolv.conf"));
        _hostRunSystemd = RunSystemd();
        _ns = "vndrs" + Guid.NewGuid().ToString("N")[..8];
        Ip("netns", "add", _ns);
        Ip("-n", _ns, "link", "set", "lo", "up");
        _root = DaemonProcess.NewRoot();
        Directory.CreateDirectory(Path.Combine(_root, "etc/libvirt"));
        File.WriteAllText(Path.Combine(_root, "etc/libvirt/network.conf"), "firewall_backend = \"nftables\"\n");
    }

    [TearDown]
    public void RemoveNamespace()
    {
        try
        {
            _daemon?.Dispose();
            if (_resolved is { HasExited: false }) _resolved.Kill();
            _resolved?.WaitForExit(5000);
            _resolved?.Dispose();
            _bus?.Dispose();
        }
        finally
        {
            (_daemon, _resolved, _bus) = (null, null, null); // one instance runs every test of the fixture
            lock (_resolvedLog) _resolvedLog.Clear();
            Tools.Run(_ip, ["netns", "del", _ns]);
            try { Directory.Delete(_root, recursive: true); } catch (IOException) { }
        }
    }

    private static string[] RunSystemd() => Directory.Exists("/run/systemd")
        ? Directory.GetFileSystemEntries("/run/systemd", "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToArray()
        : [];

    private void Ip(params string[] args)
    {
        var r = Tools.Run(_ip, args);
        Assert.That(r.ExitCode, Is.Zero, $"ip {string.Join(' ', args)}: {r}");
    }

    /// <summary>The private bus and the real resolved on it, in the namespace; returns when resolved owns its name.</summary>
    private void StartResolved()
    {
        Tools.Require("unshare", "util-linux");
        Tools.Require("setpriv", "util-linux");
        SystemdResolvedPackage.Require();
        _bus = new PrivateSystemBus(SystemdResolvedPackage.ServiceDir);
        const string Caps = "+setpcap,+net_raw,+net_bind_service";
        string script = string.Join(" && ",
            "mount -t tmpfs tmpfs /run",
            "mkdir -p /run/systemd/resolve /run/systemd/resolved.conf.d",
            "chown 65534:65534 /run/systemd/resolve",
            // no stub listener on 127.0.0.53, no LLMNR/mDNS sockets: the test needs only the bus API
            @"printf '[Resolve]\nDNSStubListener=no\nLLMNR=no\nMulticastDNS=no\n' > /run/systemd/resolved.conf.d/test.conf",
            $"exec setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps={Caps} --ambient-caps={Caps} {SystemdResolvedPackage.Daemon}");
        var psi = new ProcessStartInfo(_ip) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string a in new[] { "netns", "exec", _ns, "unshare", "--mount", "--propagation", "private", "sh", "-c", script }) psi.ArgumentList.Add(a);
        psi.Environment["DBUS_SYSTEM_BUS_ADDRESS"] = _bus.Address;
        psi.Environment["SYSTEMD_LOG_TARGET"] = "console";
        psi.Environment["SYSTEMD_LOG_LEVEL"] = "debug";
        psi.Environment.Remove("NOTIFY_SOCKET");
        _resolved = Process.Start(psi)!;
        _resolved.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (_resolvedLog) _resolvedLog.AppendLine(e.Data); };
        _resolved.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (_resolvedLog) _resolvedLog.AppendLine(e.Data); };
        _resolved.BeginOutputReadLine();
        _resolved.BeginErrorReadLine();
        using var connection = new DBusConnection(_bus.Address);
        connection.ConnectAsync().AsTask().Wait(10_000);
        var sw = Stopwatch.StartNew();
        while (!connection.ListServicesAsync().Result.Contains("org.freedesktop.resolve1"))
        {
            if (_resolved.HasExited) Assert.Fail($"systemd-resolved exited with {_resolved.ExitCode}:\n{ResolvedLog}");
            if (sw.ElapsedMilliseconds > 15_000) Assert.Fail($"systemd-resolved did not take its bus name within 15 s:\n{ResolvedLog}");
            Thread.Sleep(20);
        }
    }

    private string ResolvedLog { get { lock (_resolvedLog) return _resolvedLog.ToString(); } }

    private Tools.Result Resolvectl(params string[] args) =>
        Tools.Run(_ip, ["netns", "exec", _ns, SystemdResolvedPackage.Resolvectl, .. args],
            env: new Dictionary<string, string> { ["DBUS_SYSTEM_BUS_ADDRESS"] = _bus!.Address, ["SYSTEMD_PAGER"] = "", ["SYSTEMD_COLORS"] = "0" });

    private void StartDaemonAndNetworks(string busAddress, params string[] names)
    {
        _daemon = DaemonProcess.Start(root: _root, networkNamespace: _ns,
            env: new Dictionary<string, string> { ["VIRTNETWORKD_BACKEND"] = "linux", ["DBUS_SYSTEM_BUS_ADDRESS"] = busAddress });
        string[] xmls = Networks.Split("---");
        foreach (string xml in xmls)
        {
            string file = Path.Combine(_root, "net.xml");
            File.WriteAllText(file, xml.Trim());
            var define = Tools.Virsh(_daemon.Uri, "net-define", file);
            Assert.That(define.ExitCode, Is.Zero, define.ToString());
        }
        foreach (string name in names)
        {
            var start = Tools.Virsh(_daemon.Uri, "net-start", name);
            Assert.That(start.ExitCode, Is.Zero, $"{start}\n{_daemon.Stderr}\n{(_resolved is null ? "" : ResolvedLog)}");
        }
    }

    [GeneratedRegex(@"^Link \d+ \((\S+)\):(.*)$", RegexOptions.Multiline)]
    private static partial Regex LinkLine();

    /// <summary>What `resolvectl dns|domain BRIDGE` says for the bridge ("" when nothing).</summary>
    private string ForLink(string what, string bridge)
    {
        var r = Resolvectl(what, bridge);
        Assert.That(r.ExitCode, Is.Zero, $"resolvectl {what} {bridge}: {r}");
        var m = LinkLine().Match(r.Stdout);
        Assert.That(m.Success && m.Groups[1].Value == bridge, $"resolvectl {what} {bridge}: {r}");
        return m.Groups[2].Value.Trim();
    }

    [Test]
    public void ResolvedGetsTheFirstAddressAndTheRoutingDomainOfEachRegisteringNetwork()
    {
        StartResolved();
        StartDaemonAndNetworks(_bus!.Address, "resolv4", "resolv6", "local");

        // the first <ip>, whatever its family; the domain routing only ("~")
        Assert.That(ForLink("dns", "vndrs4"), Is.EqualTo("192.0.2.1"));
        Assert.That(ForLink("domain", "vndrs4"), Is.EqualTo("~example.test"));
        Assert.That(ForLink("dns", "vndrs6"), Is.EqualTo("2001:db8:8::1"));
        Assert.That(ForLink("domain", "vndrs6"), Is.EqualTo("~six.test"));
        // localOnly without register: resolved is not told
        Assert.That(ForLink("dns", "vndrsl"), Is.Empty);
        Assert.That(ForLink("domain", "vndrsl"), Is.Empty);
        Assert.That(_daemon!.Stderr, Does.Not.Contain("systemd-resolved"), "nothing skipped, nothing failed");

        // destroy takes nothing back, as libvirt: the bridge goes, and resolved forgets its link
        Assert.That(Tools.Virsh(_daemon.Uri, "net-destroy", "resolv4").ExitCode, Is.Zero);
        var sw = Stopwatch.StartNew();
        string all;
        while ((all = Resolvectl("dns").Stdout).Contains("vndrs4", StringComparison.Ordinal) && sw.ElapsedMilliseconds < 5000) Thread.Sleep(50);
        Assert.That(all, Does.Not.Contain("vndrs4").And.Contain("vndrs6"));

        // and the host's own resolver files were never touched
        Assert.That(File.ReadAllBytes("/etc/resolv.conf"), Is.EqualTo(_hostResolvConf.Content), "the host's /etc/resolv.conf");
        Assert.That(File.GetLastWriteTimeUtc("/etc/resolv.conf"), Is.EqualTo(_hostResolvConf.Written), "the host's /etc/resolv.conf");
        Assert.That(RunSystemd(), Is.EqualTo(_hostRunSystemd), "the host's /run/systemd");
    }

    [Test]
    public void WithoutASystemBusTheNetworkStartsAndTheLogSaysTheRegistrationWasSkipped()
    {
        string noBus = "unix:path=" + Path.Combine(_root, "no-system-bus");
        var sw = Stopwatch.StartNew();
        StartDaemonAndNetworks(noBus, "resolv4");
        TestContext.Out.WriteLine(_daemon!.Stderr);
        Assert.That(_daemon!.Stderr, Does.Contain(
            $"network 'resolv4': <domain register='yes'>: registering name server 192.0.2.1 for domain 'example.test' with systemd-resolved skipped: systemd-resolved is not available (no system bus at {noBus} ("));
        Assert.That(Tools.Run(_ip, ["-n", _ns, "link", "show", "vndrs4", "up"]).Stdout, Does.Contain("vndrs4"), "the network runs");
        Assert.That(Tools.Virsh(_daemon.Uri, "net-info", "resolv4").Stdout, Does.Match(@"Active:\s+yes"));
    }

    [Test]
    public void ACallResolvedRefusesFailsTheStartAsLibvirtsAndLeavesNothing()
    {
        // a resolve1 that refuses every call (here one of the test's own on the private bus: the
        // real resolved refuses only what cannot happen to a bridge libvirt just made)
        _bus = new PrivateSystemBus(PrivateSystemBus.ResolvedServiceDir(_root));
        var refusing = new RecordingResolved { ErrorName = "org.freedesktop.resolve1.NoSuchLink" };
        using var service = _bus.Own("org.freedesktop.resolve1", refusing);
        StartDaemonAndNetworks(_bus.Address);
        var start = Tools.Virsh(_daemon!.Uri, "net-start", "resolv4");
        Assert.That(start.ExitCode, Is.Not.Zero);
        Assert.That(start.Stderr, Does.Contain("error: internal error: failed to register name server"));
        Assert.That(_daemon.Stderr, Does.Contain(
            "network 'resolv4': registering name server 192.0.2.1 for domain 'example.test' with systemd-resolved failed: org.freedesktop.resolve1.NoSuchLink: refused by the test"));
        Assert.That(refusing.Calls, Has.Count.EqualTo(1).And.Some.Contains("SetLinkDomains"));
        // the steps before were undone: no bridge, no dnsmasq, inactive
        Assert.That(Tools.Run(_ip, ["-n", _ns, "link", "show", "vndrs4"]).ExitCode, Is.Not.Zero, "no bridge");
        Assert.That(File.Exists(Path.Combine(_root, "run/libvirt/network/resolv4.pid")) &&
            File.ReadAllText(Path.Combine(_root, "run/libvirt/network/resolv4.pid")).Trim() is { Length: > 0 } pid &&
            Directory.Exists("/proc/" + pid), Is.False, "no dnsmasq");
        Assert.That(Tools.Virsh(_daemon.Uri, "net-info", "resolv4").Stdout, Does.Match(@"Active:\s+no"));
    }
}
