using System.Diagnostics;

namespace VirtNetworkd.Integration.Tests;

/// <summary>
/// Guest traffic through a network our daemon started with the Linux backend, in namespaces this
/// test creates (never connected to the host's network): H runs the daemon, G is a guest whose
/// veth is a port of the network's bridge, U is an upstream host behind H's default route. A TCP
/// echo in U tells which address it saw: H's with NAT, G's own when routed; isolated reaches nothing.
/// The networks have STP off: with it on, the kernel holds a new port in listening and learning
/// for twice its minimum forward delay (2 s) before it forwards, as it does for libvirt's.
/// </summary>
[TestFixture("nftables")]
[TestFixture("iptables")]
public sealed class LinuxBackendTrafficTests(string firewallBackend)
{
    private string _h = "", _g = "", _u = "", _ip = "", _root = "";
    private DaemonProcess? _daemon;
    private Process? _echo;

    [SetUp]
    public void CreateTopology()
    {
        _ip = Tools.Require("ip", "iproute2");
        string id = Guid.NewGuid().ToString("N")[..6];
        (_h, _g, _u) = ("vndh" + id, "vndg" + id, "vndu" + id);
        foreach (var ns in new[] { _h, _g, _u }) Ip("netns", "add", ns);
        foreach (var ns in new[] { _h, _g, _u }) Ip("-n", ns, "link", "set", "lo", "up");
        // H <-> U, H's default route through U
        Ip("-n", _h, "link", "add", "vnhu", "type", "veth", "peer", "name", "vnuh", "netns", _u);
        Ip("-n", _h, "addr", "add", "198.51.100.1/24", "dev", "vnhu");
        Ip("-n", _h, "link", "set", "vnhu", "up");
        Ip("-n", _u, "addr", "add", "198.51.100.2/24", "dev", "vnuh");
        Ip("-n", _u, "link", "set", "vnuh", "up");
        Ip("-n", _h, "route", "add", "default", "via", "198.51.100.2");
        // H <-> G (H's end joins the bridge once the network runs)
        Ip("-n", _h, "link", "add", "vnhg", "type", "veth", "peer", "name", "vngh", "netns", _g);
        Ip("-n", _g, "addr", "add", "192.0.2.10/24", "dev", "vngh");
        Ip("-n", _g, "link", "set", "vngh", "up");
        Ip("-n", _g, "route", "add", "default", "via", "192.0.2.1");
        _root = DaemonProcess.NewRoot();
        Tools.Require(firewallBackend == "nftables" ? "nft" : "iptables-restore", firewallBackend);
        Directory.CreateDirectory(Path.Combine(_root, "etc/libvirt"));
        File.WriteAllText(Path.Combine(_root, "etc/libvirt/network.conf"), $"firewall_backend = \"{firewallBackend}\"\n");
        // the echo: tells each client the address it came from
        var psi = new ProcessStartInfo(_ip) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "netns", "exec", _u, "/usr/bin/python3", "-c",
            "import socket\ns=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('198.51.100.2', 7777)); s.listen(8)\n" +
            "while True:\n  c,a=s.accept(); c.sendall(a[0].encode()); c.close()" }) psi.ArgumentList.Add(a);
        _echo = Process.Start(psi);
    }

    [TearDown]
    public void RemoveTopology()
    {
        _daemon?.Dispose();
        try { _echo?.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
        _echo?.Dispose();
        foreach (var ns in new[] { _h, _g, _u }) Tools.Run(_ip, ["netns", "del", ns]);
        try { Directory.Delete(_root, recursive: true); } catch (IOException) { }
    }

    private void Ip(params string[] args)
    {
        var r = Tools.Run(_ip, args);
        Assert.That(r.ExitCode, Is.Zero, $"ip {string.Join(' ', args)}: {r}");
    }

    /// <summary>G connects to U's echo; returns the address U saw, or null when it could not connect.</summary>
    private string? FromGuest(double timeoutSeconds = 2)
    {
        var r = Tools.Run(_ip, ["netns", "exec", _g, "/usr/bin/python3", "-c",
            $"import socket\ntry:\n  print(socket.create_connection(('198.51.100.2', 7777), timeout={timeoutSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture)}).recv(64).decode())\nexcept OSError as e:\n  print('failed', e)"]);
        return r.Stdout.StartsWith("failed", StringComparison.Ordinal) ? null : r.Stdout;
    }

    private string? FromGuestQuick() => FromGuest(0.3);

    /// <summary>The firewall as the chosen backend lists it, in H.</summary>
    private string Rules() => firewallBackend == "nftables"
        ? Tools.Run(_ip, ["netns", "exec", _h, "nft", "list", "ruleset"]).Stdout
        : Tools.Run(_ip, ["netns", "exec", _h, "iptables-save"]).Stdout;

    private void StartNetwork(string forward)
    {
        _daemon = DaemonProcess.Start(root: _root, networkNamespace: _h, env: new Dictionary<string, string> { ["VIRTNETWORKD_BACKEND"] = "linux" });
        string xml = Path.Combine(_root, "net.xml");
        File.WriteAllText(xml, $"<network><name>traffic</name>{forward}<bridge name='vntr0' stp='off'/><ip address='192.0.2.1' netmask='255.255.255.0'/></network>");
        Assert.That(Tools.Virsh(_daemon.Uri, "net-define", xml).ExitCode, Is.Zero);
        var start = Tools.Virsh(_daemon.Uri, "net-start", "traffic");
        Assert.That(start.ExitCode, Is.Zero, start + "\n" + _daemon.Stderr);
        string status = File.ReadAllText(Path.Combine(_root, "run/libvirt/network/traffic.xml"));
        Assert.That(status, Does.Contain($"<firewall name='fwRemoval' backend='{firewallBackend}'>"));
        Ip("-n", _h, "link", "set", "vnhg", "master", "vntr0", "up");
    }

    private void WaitForEcho()
    {
        for (int i = 0; i < 50; i++)
        {
            if (Tools.Run(_ip, ["netns", "exec", _u, "/usr/bin/python3", "-c",
                "import socket\ns=socket.create_connection(('198.51.100.2', 7777), timeout=1); s.recv(64)"]).ExitCode == 0) return;
            Thread.Sleep(100);
        }
        Assert.Fail("the echo in the upstream namespace did not start");
    }

    [Test]
    public void WithNatTheUpstreamHostSeesTheHostsAddressAndNothingAfterDestroy()
    {
        WaitForEcho();
        StartNetwork("<forward mode='nat'/>");
        Assert.That(FromGuest(), Is.EqualTo("198.51.100.1"), "masqueraded to H's upstream address");
        Assert.That(Tools.Virsh(_daemon!.Uri, "net-destroy", "traffic").ExitCode, Is.Zero);
        Assert.That(FromGuest(), Is.Null, "no bridge, no rules: no way out");
        Assert.That(Rules(), Does.Not.Contain("192.0.2.0/24"), "no rule of the network is left");
    }

    [Test]
    public void RoutedTheUpstreamHostSeesTheGuestsOwnAddress()
    {
        WaitForEcho();
        Ip("-n", _u, "route", "add", "192.0.2.0/24", "via", "198.51.100.1");
        StartNetwork("<forward mode='route'/>");
        Assert.That(FromGuest(), Is.EqualTo("192.0.2.10"));
    }

    [Test]
    public void AnIsolatedGuestReachesNothingBeyondTheBridge()
    {
        WaitForEcho();
        StartNetwork("");
        Assert.That(FromGuest(), Is.Null);
    }

    [Test]
    public void RulesSomeoneElseRemovesAreBackWithinTwoSeconds()
    {
        WaitForEcho();
        StartNetwork("<forward mode='nat'/>");
        Assert.That(FromGuest(), Is.EqualTo("198.51.100.1"));
        // what a firewall service restart or an admin's flush does
        if (firewallBackend == "nftables") Ip("netns", "exec", _h, "nft", "flush", "ruleset");
        else
        {
            Ip("netns", "exec", _h, "iptables", "-F");
            Ip("netns", "exec", _h, "iptables", "-t", "nat", "-F");
        }
        Assert.That(Rules(), Does.Not.Contain("192.0.2.0/24"));
        var sw = Stopwatch.StartNew();
        string? seen = null;
        while (sw.Elapsed < TimeSpan.FromSeconds(5) && (seen = FromGuestQuick()) != "198.51.100.1") Thread.Sleep(100);
        sw.Stop();
        Assert.That(seen, Is.EqualTo("198.51.100.1"), "NAT works again");
        TestContext.Out.WriteLine($"healed after {sw.ElapsedMilliseconds} ms");
        Assert.That(sw.Elapsed, Is.LessThan(TimeSpan.FromSeconds(2.5)), "the rules are back within about 2 s");
        Assert.That(_daemon!.Stderr + _daemon.Stdout, Does.Contain("its firewall rules were missing"));
        // the new rules are what destroy removes
        Assert.That(Tools.Virsh(_daemon.Uri, "net-destroy", "traffic").ExitCode, Is.Zero);
        Assert.That(Rules(), Does.Not.Contain("192.0.2.0/24"));
    }
}
