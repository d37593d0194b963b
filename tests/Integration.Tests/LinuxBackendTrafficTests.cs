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
    public void CreateTopology() => Tools.UndoIfFails(CreateTopologySteps, RemoveTopology);

    private void CreateTopologySteps()
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
        // the same over IPv6 (no duplicate address detection: usable at once)
        Ip("-n", _h, "addr", "add", "2001:db8:ff::1/64", "dev", "vnhu", "nodad");
        Ip("-n", _u, "addr", "add", "2001:db8:ff::2/64", "dev", "vnuh", "nodad");
        Ip("-n", _h, "-6", "route", "add", "default", "via", "2001:db8:ff::2");
        // H <-> G (H's end joins the bridge once the network runs)
        Ip("-n", _h, "link", "add", "vnhg", "type", "veth", "peer", "name", "vngh", "netns", _g);
        Ip("-n", _g, "addr", "add", "192.0.2.10/24", "dev", "vngh");
        Ip("-n", _g, "link", "set", "vngh", "up");
        Ip("-n", _g, "route", "add", "default", "via", "192.0.2.1");
        Ip("-n", _g, "addr", "add", "2001:db8:1::10/64", "dev", "vngh", "nodad");
        Ip("-n", _g, "-6", "route", "add", "default", "via", "2001:db8:1::1");
        _root = DaemonProcess.NewRoot();
        Tools.Require(firewallBackend == "nftables" ? "nft" : "iptables-restore", firewallBackend);
        Directory.CreateDirectory(Path.Combine(_root, "etc/libvirt"));
        File.WriteAllText(Path.Combine(_root, "etc/libvirt/network.conf"), $"firewall_backend = \"{firewallBackend}\"\n");
        // the echo: over TCP (IPv4 and IPv6) tells each client the address it came from; over UDP
        // (port 7778) sends each datagram back, for the prober
        var psi = new ProcessStartInfo(_ip) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "netns", "exec", _u, "/usr/bin/python3", "-c", Echo }) psi.ArgumentList.Add(a);
        _echo = Process.Start(psi);
    }

    private const string Echo = """
        import select, socket
        listeners = []
        for family, address in ((socket.AF_INET, '198.51.100.2'), (socket.AF_INET6, '2001:db8:ff::2')):
            s = socket.socket(family)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind((address, 7777))
            s.listen(8)
            listeners.append(s)
        udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        udp.bind(('198.51.100.2', 7778))
        while True:
            ready, _, _ = select.select(listeners + [udp], [], [])
            for s in ready:
                if s is udp:
                    data, peer = udp.recvfrom(64)
                    udp.sendto(data, peer)
                else:
                    c, a = s.accept()
                    c.sendall(a[0].encode())
                    c.close()
        """;

    /// <summary>G's prober: a numbered datagram to U's UDP echo every 50 ms (20 a second, as a
    /// ping -i 0.05) until the stop file appears; then prints how many went out and which never
    /// came back.</summary>
    private const string Prober = """
        import os, socket, sys, time
        stop = sys.argv[1]
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setblocking(False)
        sent, back = 0, set()
        def drain():
            while True:
                try:
                    back.add(int(s.recv(64)))
                except BlockingIOError:
                    return
        end = time.time() + 120
        next_at = time.time()
        while not os.path.exists(stop) and time.time() < end:
            s.sendto(str(sent).encode(), ('198.51.100.2', 7778))
            sent += 1
            next_at += 0.05
            while time.time() < next_at:
                drain()
                time.sleep(0.005)
        deadline = time.time() + 1
        while time.time() < deadline:
            drain()
            time.sleep(0.01)
        lost = [i for i in range(sent) if i not in back]
        print(f"sent {sent} lost {len(lost)} {lost[:20]}")
        """;

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
    private string? FromGuest(double timeoutSeconds = 2, string upstream = "198.51.100.2")
    {
        var r = Tools.Run(_ip, ["netns", "exec", _g, "/usr/bin/python3", "-c",
            $"import socket\ntry:\n  print(socket.create_connection(('{upstream}', 7777), timeout={timeoutSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture)}).recv(64).decode())\nexcept OSError as e:\n  print('failed', e)"]);
        return r.Stdout.StartsWith("failed", StringComparison.Ordinal) ? null : r.Stdout;
    }

    /// <summary>G to U over IPv6. The bridge's IPv6 address answers neighbour solicitations only
    /// once its duplicate address detection is over (about a second after the first port joins,
    /// as with libvirt's bridges): tried for up to 5 s.</summary>
    private string? FromGuestOverIPv6()
    {
        var sw = Stopwatch.StartNew();
        string? seen;
        while ((seen = FromGuest(0.5, "2001:db8:ff::2")) is null && sw.Elapsed < TimeSpan.FromSeconds(5)) Thread.Sleep(100);
        return seen;
    }

    private string? FromGuestQuick() => FromGuest(0.3);

    /// <summary>The firewall as the chosen backend lists it, in H.</summary>
    private string Rules() => firewallBackend == "nftables"
        ? Tools.Run(_ip, ["netns", "exec", _h, "nft", "list", "ruleset"]).Stdout
        : Tools.Run(_ip, ["netns", "exec", _h, "iptables-save"]).Stdout + Tools.Run(_ip, ["netns", "exec", _h, "ip6tables-save"]).Stdout;

    private const string IPv6Address = "<ip family='ipv6' address='2001:db8:1::1' prefix='64'/>";

    private DaemonProcess StartDaemon() =>
        _daemon = DaemonProcess.Start(root: _root, networkNamespace: _h, env: new Dictionary<string, string> { ["VIRTNETWORKD_BACKEND"] = "linux" });

    private void StartNetwork(string forward, string extraIp = "")
    {
        StartDaemon();
        string xml = Path.Combine(_root, "net.xml");
        File.WriteAllText(xml, $"<network><name>traffic</name>{forward}<bridge name='vntr0' stp='off'/><ip address='192.0.2.1' netmask='255.255.255.0'/>{extraIp}</network>");
        Assert.That(Tools.Virsh(_daemon!.Uri, "net-define", xml).ExitCode, Is.Zero);
        var start = Tools.Virsh(_daemon.Uri, "net-start", "traffic");
        Assert.That(start.ExitCode, Is.Zero, start + "\n" + _daemon.Stderr);
        string status = File.ReadAllText(Path.Combine(_root, "run/libvirt/network/traffic.xml"));
        if (!forward.Contains("'open'", StringComparison.Ordinal))
            Assert.That(status, Does.Contain($"<firewall name='fwRemoval' backend='{firewallBackend}'>"));
        Ip("-n", _h, "link", "set", "vnhg", "master", "vntr0", "up");
    }

    private void DestroyAndCheckNothingIsLeft()
    {
        var destroy = Tools.Virsh(_daemon!.Uri, "net-destroy", "traffic");
        Assert.That(destroy.ExitCode, Is.Zero, destroy.ToString());
        Assert.That(Tools.Run(_ip, ["-n", _h, "link", "show", "vntr0"]).ExitCode, Is.Not.Zero, "the bridge is gone");
        string rules = Rules();
        Assert.That(rules, Does.Not.Contain("192.0.2.0/24").And.Not.Contain("2001:db8:1::/64").And.Not.Contain("vntr0"), "no rule of the network is left");
        Assert.That(FromGuest(), Is.Null, "no way out any more");
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

    [Test]
    public void OpenForwardingRoutesTheGuestWithoutAnyRule()
    {
        WaitForEcho();
        Ip("-n", _u, "route", "add", "192.0.2.0/24", "via", "198.51.100.1");
        StartNetwork("<forward mode='open'/>");
        Assert.That(FromGuest(), Is.EqualTo("192.0.2.10"), "routed: U sees the guest's own address");
        Assert.That(Rules(), Does.Not.Contain("192.0.2.0/24").And.Not.Contain("vntr0"), "open: libvirt adds no firewall rule");
        DestroyAndCheckNothingIsLeft();
    }

    [Test]
    public void IPv6NatTheUpstreamHostSeesTheHostsIPv6Address()
    {
        WaitForEcho();
        StartNetwork("<forward mode='nat'><nat ipv6='yes'/></forward>", IPv6Address);
        Assert.That(FromGuestOverIPv6(), Is.EqualTo("2001:db8:ff::1"), "masqueraded to H's upstream IPv6 address");
        Assert.That(FromGuest(), Is.EqualTo("198.51.100.1"), "and IPv4 as before");
        DestroyAndCheckNothingIsLeft();
        Assert.That(FromGuest(0.5, "2001:db8:ff::2"), Is.Null);
    }

    [Test]
    public void IPv6RoutedTheUpstreamHostSeesTheGuestsIPv6Address()
    {
        WaitForEcho();
        Ip("-n", _u, "-6", "route", "add", "2001:db8:1::/64", "via", "2001:db8:ff::1");
        StartNetwork("<forward mode='route'/>", IPv6Address);
        Assert.That(FromGuestOverIPv6(), Is.EqualTo("2001:db8:1::10"), "routed: U sees the guest's own IPv6 address");
        DestroyAndCheckNothingIsLeft();
        Assert.That(FromGuest(0.5, "2001:db8:ff::2"), Is.Null);
    }

    [Test]
    public void AKilledDaemonLosesNoGuestPacketAndTheRestartedOneAdoptsTheNetwork()
    {
        WaitForEcho();
        StartNetwork("<forward mode='nat'/>");
        Assert.That(FromGuest(), Is.EqualTo("198.51.100.1"));
        string stop = Path.Combine(_root, "stop-prober");
        var psi = new ProcessStartInfo(_ip) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "netns", "exec", _g, "/usr/bin/python3", "-c", Prober, stop }) psi.ArgumentList.Add(a);
        using var prober = Process.Start(psi)!;
        Thread.Sleep(1000);
        _daemon!.Process.Kill(); // SIGKILL: nothing of the daemon runs any more
        _daemon.Process.WaitForExit();
        Thread.Sleep(1000);
        StartDaemon();
        Assert.That(Tools.Virsh(_daemon.Uri, "net-list", "--name").Stdout, Does.Contain("traffic"), "active after the restart");
        Thread.Sleep(1000);
        File.WriteAllText(stop, "");
        Assert.That(prober.WaitForExit(10_000), Is.True, "the prober stops");
        string report = prober.StandardOutput.ReadToEnd().Trim();
        TestContext.Out.WriteLine(report);
        var m = System.Text.RegularExpressions.Regex.Match(report, @"^sent (\d+) lost (\d+)");
        Assert.That(m.Success, Is.True, report + prober.StandardError.ReadToEnd());
        Assert.That(int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), Is.GreaterThanOrEqualTo(60), "at least 3 s of probes");
        Assert.That(m.Groups[2].Value, Is.EqualTo("0"), "not one probe lost: " + report);
        DestroyAndCheckNothingIsLeft();
    }
}
