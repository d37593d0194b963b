using System.Diagnostics;
using System.Text.RegularExpressions;

namespace VirtNetworkd.Integration.Tests;

/// <summary>
/// IPv6 for a guest of a network our daemon started with the Linux backend (namespaces of
/// <see cref="GuestNamespaces"/>): router advertisements from the network's dnsmasq give a
/// network without a DHCPv6 range SLAAC addresses, and a network with one gives a real DHCPv6
/// client (ISC dhclient -6, with a script that only sets the address and its lease and pid
/// files in the test's folder) a lease from the range that net-dhcp-leases lists as libvirt does.
/// G accepts router advertisements and autoconfigures (its own sysctls, in its namespace).
/// </summary>
public sealed class LinuxBackendIPv6GuestTests
{
    private const string GuestMac = "52:54:00:00:00:66";
    private GuestNamespaces? _t;

    [SetUp]
    public void CreateTopology()
    {
        _t = new GuestNamespaces("vn6");
        // G's link comes up once it is a port of the bridge: its router solicitation then reaches dnsmasq
        _t.Ip("-n", _t.G, "link", "set", GuestNamespaces.GuestLink, "down");
        _t.Ip("-n", _t.G, "link", "set", GuestNamespaces.GuestLink, "address", GuestMac);
        _t.Sysctl(_t.G, $"net.ipv6.conf.{GuestNamespaces.GuestLink}.forwarding", "0");
        _t.Sysctl(_t.G, $"net.ipv6.conf.{GuestNamespaces.GuestLink}.accept_ra", "1");
        _t.Sysctl(_t.G, $"net.ipv6.conf.{GuestNamespaces.GuestLink}.autoconf", "1");
    }

    [TearDown]
    public void RemoveTopology() => _t?.Dispose();

    private void StartNetworkAndGuest(string name, string bridge, string dnsAndIpv6)
    {
        _t!.StartNetwork(name, bridge,
            $"<network><name>{name}</name><forward mode='nat'/><bridge name='{bridge}' stp='off'/>" +
            $"<ip address='192.0.2.1' netmask='255.255.255.0'/>{dnsAndIpv6}</network>");
        _t.Ip("-n", _t.G, "link", "set", GuestNamespaces.GuestLink, "up");
    }

    /// <summary>G's global IPv6 addresses (ip -6 -o addr show), waited for until one matches (30 s at most).</summary>
    private string WaitForGuestAddress(Regex expected)
    {
        var sw = Stopwatch.StartNew();
        string shown;
        while (!expected.IsMatch(shown = _t!.In(_t.G, _t.IpPath, ["-6", "-o", "addr", "show", "dev", GuestNamespaces.GuestLink, "scope", "global"]).Stdout))
        {
            if (sw.Elapsed > TimeSpan.FromSeconds(30))
                Assert.Fail($"no address matching {expected} in the guest after 30 s:\n{shown}\n{_t.Daemon?.Stderr}");
            Thread.Sleep(100);
        }
        TestContext.Out.WriteLine($"after {sw.ElapsedMilliseconds} ms: {shown}");
        return shown;
    }

    [Test]
    public void WithoutADhcpv6RangeTheGuestConfiguresItselfFromRouterAdvertisements()
    {
        StartNetworkAndGuest("slaacnet", "vnsl0", "<ip family='ipv6' address='fd00:7::1' prefix='64'/>");
        Assert.That(File.ReadAllText(Path.Combine(_t!.Root, "var/lib/libvirt/dnsmasq/slaacnet.conf")), Does.Contain("\ndhcp-range=fd00:7::1,ra-only\n"));
        // the kernel's EUI-64 address from the MAC, marked dynamic: it came with a prefix of a router advertisement
        string shown = WaitForGuestAddress(new Regex(@"inet6 fd00:7::5054:ff:fe00:66/64 scope global dynamic"));
        Assert.That(shown, Does.Contain("mngtmpaddr"), "autoconfigured (SLAAC)");
        string route = _t.In(_t.G, _t.IpPath, ["-6", "route", "show", "default"]).Stdout;
        Assert.That(route, Does.Match(@"default via fe80::\S+ dev vngh proto ra"), "the network's bridge is the guest's router");
        var leases = Tools.Virsh(_t.Daemon!.Uri, "net-dhcp-leases", "slaacnet");
        Assert.That(leases.ExitCode, Is.Zero, leases.ToString());
        Assert.That(leases.Stdout, Does.Not.Contain("fd00:7"), "SLAAC is no lease: libvirt lists none either");
    }

    [Test]
    public void WithADhcpv6RangeARealClientGetsALeaseThatNetDhcpLeasesLists()
    {
        string dhclient = Tools.Require("dhclient", "isc-dhcp-client");
        string dig = Tools.Require("dig", "bind9-dnsutils");
        StartNetworkAndGuest("dhcp6net", "vnd60",
            "<dns><host ip='fd00:6::50'><hostname>v6host</hostname></host></dns>" +
            "<ip family='ipv6' address='fd00:6::1' prefix='64'><dhcp><range start='fd00:6::100' end='fd00:6::1ff'/></dhcp></ip>");
        // dhclient -6 binds to G's link-local address, usable once its duplicate address detection is over
        var sw = Stopwatch.StartNew();
        while (!Regex.IsMatch(_t!.In(_t.G, _t.IpPath, ["-6", "-o", "addr", "show", "dev", GuestNamespaces.GuestLink, "scope", "link", "-tentative"]).Stdout, "inet6 fe80::"))
        {
            Assert.That(sw.Elapsed, Is.LessThan(TimeSpan.FromSeconds(20)), "G's link-local address stays tentative");
            Thread.Sleep(50);
        }

        string address = RunDhclient(dhclient);
        Assert.That(address, Does.Match(@"^fd00:6::1[0-9a-f]{2}$"), "an address from the range");
        string lease = WaitForLease(address);
        TestContext.Out.WriteLine(lease);
        // virsh: expiry, MAC (dnsmasq's DNSMASQ_MAC), ipv6, address/prefix of the network's <ip>, hostname, client id (the DUID)
        Assert.That(lease, Does.Match($@"^\s*\d{{4}}-\d\d-\d\d \d\d:\d\d:\d\d\s+{GuestMac}\s+ipv6\s+{Regex.Escape(address)}/64\s+v6guest\s+(?<duid>[0-9a-f]{{2}}(:[0-9a-f]{{2}})+)\s*$"));
        string duid = Regex.Match(lease, @"\S+\s*$").Value.Trim();
        Assert.That(duid, Does.Match(@"^00:0[13]:00:01:").And.EndWith(GuestMac), "dhclient's DUID (LLT or LL, Ethernet, from the guest's MAC)");

        // the fields virsh does not print, as python3-libvirt returns them (iaid)
        var py = Tools.Python("""
            import libvirt, sys
            c = libvirt.open(sys.argv[1])
            for l in c.networkLookupByName('dhcp6net').DHCPLeases():
                print(l['type'], l['iaid'], l['ipaddr'], l['prefix'], l['mac'], l['hostname'], l['clientid'], l['iface'])
            """, _t.Daemon!.Uri);
        Assert.That(py.ExitCode, Is.Zero, py + "\n" + _t.Daemon.Stderr);
        // dhclient's IAID is the last four bytes of the link's MAC: 00:00:00:66
        Assert.That(py.Stdout, Is.EqualTo($"1 {0x66} {address} 64 {GuestMac} v6guest {duid} vnd60"));

        // dnsmasq (bind-dynamic) took the bridge's IPv6 address once its duplicate address detection
        // was over (it was tentative when dnsmasq started: the bridge had no port yet); libvirt does not wait for it either
        // G's route to it comes with dnsmasq's router advertisement (prefix on-link, default route), which may follow the lease
        sw.Restart();
        while (_t.In(_t.G, _t.IpPath, ["-6", "route", "get", "fd00:6::1"]).ExitCode != 0)
        {
            Assert.That(sw.Elapsed, Is.LessThan(TimeSpan.FromSeconds(30)), "no route to the bridge from a router advertisement in the guest");
            Thread.Sleep(100);
        }
        Assert.That(_t.In(_t.G, _t.IpPath, ["-6", "addr", "show", "dev", GuestNamespaces.GuestLink]).Stdout, Does.Not.Contain("fd00:6::5054"),
            "with a DHCPv6 range the advertisement is state-full (managed): no SLAAC address");
        var answer = _t.In(_t.G, dig, ["+short", "+time=2", "+tries=3", "@fd00:6::1", "v6host", "AAAA"]);
        Assert.That(answer.Stdout, Is.EqualTo("fd00:6::50"), "DNS on the bridge's IPv6 address: " + answer);

        string status = File.ReadAllText(Path.Combine(_t.Root, "var/lib/libvirt/dnsmasq/vnd60.status"));
        Assert.That(status, Does.Contain($"\"iaid\": \"{0x66}\"").And.Contain($"\"client-id\": \"{duid}\"").And.Contain("\"server-duid\": \""),
            "the status file in libvirt's format, with the DHCPv6 members");
    }

    /// <summary>
    /// dhclient -6 in G, in the foreground with this test's config (asks for the FQDN v6guest),
    /// script (only adds the address) and lease/pid files; returns the address once its script
    /// reports it (60 s at most), and leaves it running (Dispose ends it).
    /// </summary>
    private string RunDhclient(string dhclient)
    {
        string dir = _t!.Root;
        string script = Path.Combine(dir, "dhclient6.sh");
        File.WriteAllText(script, $"""
            #!/bin/sh
            case "$reason" in
            BOUND6|RENEW6|REBIND6|REBOOT6)
              {_t.IpPath} -6 addr add "$new_ip6_address/$new_ip6_prefixlen" dev "$interface" nodad
              echo "LEASE6 $new_ip6_address" ;;
            esac
            exit 0

            """);
        File.SetUnixFileMode(script, (UnixFileMode)0b111_101_101);
        string conf = Path.Combine(dir, "dhclient6.conf");
        File.WriteAllText(conf, "send fqdn.fqdn \"v6guest\";\n");
        var got = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var output = new System.Text.StringBuilder();
        var psi = new ProcessStartInfo(_t.IpPath) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "netns", "exec", _t.G, dhclient, "-6", "-d", "-v", "-cf", conf, "-sf", script,
                     "-lf", Path.Combine(dir, "dhclient6.leases"), "-pf", Path.Combine(dir, "dhclient6.pid"), GuestNamespaces.GuestLink })
            psi.ArgumentList.Add(a);
        var p = Process.Start(psi)!;
        _t.Started.Add(p);
        void Line(string? line)
        {
            if (line is null) return;
            lock (output) output.AppendLine(line);
            var m = Regex.Match(line, @"^LEASE6 (\S+)");
            if (m.Success) got.TrySetResult(m.Groups[1].Value);
        }
        p.OutputDataReceived += (_, e) => Line(e.Data);
        p.ErrorDataReceived += (_, e) => Line(e.Data);
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        if (!got.Task.Wait(TimeSpan.FromSeconds(60)))
        {
            string seen;
            lock (output) seen = output.ToString();
            Assert.Fail($"dhclient -6 got no lease within 60 s:\n{seen}\n{_t.Daemon?.Stderr}");
        }
        return got.Task.Result;
    }

    /// <summary>The net-dhcp-leases line of <paramref name="address"/>, asked for until it is there (15 s at most).</summary>
    private string WaitForLease(string address)
    {
        var sw = Stopwatch.StartNew();
        while (true)
        {
            var r = Tools.Virsh(_t!.Daemon!.Uri, "net-dhcp-leases", "dhcp6net");
            string? line = r.Stdout.Split('\n').FirstOrDefault(l => l.Contains(address + "/", StringComparison.Ordinal));
            if (line is not null) return line;
            if (sw.Elapsed > TimeSpan.FromSeconds(15))
            {
                string status = Path.Combine(_t.Root, "var/lib/libvirt/dnsmasq/vnd60.status");
                Assert.Fail($"the DHCPv6 lease {address} is not listed:\n{r}\nstatus file: {(File.Exists(status) ? File.ReadAllText(status) : "none")}\n{_t.Daemon.Stderr}");
            }
            Thread.Sleep(100);
        }
    }
}
