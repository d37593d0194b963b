using System.Diagnostics;

namespace VirtNetworkd.Integration.Tests;

/// <summary>
/// Name service through the dnsmasq of a network our daemon started with the Linux backend, as a
/// guest sees it (namespaces of <see cref="GuestNamespaces"/>; G's resolv.conf names the
/// network's address, and G asks with dig): the network's &lt;dns&gt; hosts, its own DHCP
/// hostname under the network's domain, TXT and SRV records, and the forwarders, which lead to
/// two upstream DNS servers in U (dnsmasqs of the test, each with its own pid file).
/// </summary>
public sealed class LinuxBackendDnsTests
{
    private const string Upstream = "198.51.100.2", OtherUpstream = "198.51.100.3";

    // <forwarder domain=…> sends example.test to the first upstream, plain <forwarder> the rest to
    // the second, which knows up.example.test too, with another address: its answer shows which one asked
    private const string NetXml = $"""
        <network><name>dnsnet</name><forward mode='nat'/><bridge name='vnds0' stp='off'/>
        <domain name='example.com'/>
        <dns>
          <forwarder domain='example.test' addr='{Upstream}'/>
          <forwarder addr='{OtherUpstream}'/>
          <txt name='example' value='example value'/>
          <host ip='192.0.2.60'><hostname>web</hostname><hostname>www.example.org</hostname></host>
          <srv service='ldap' protocol='tcp' domain='example.com' target='ldap.example.com' port='389' priority='1' weight='10'/>
        </dns>
        <ip address='192.0.2.1' netmask='255.255.255.0'><dhcp><range start='192.0.2.100' end='192.0.2.150'/></dhcp></ip>
        </network>
        """;

    private GuestNamespaces? _t;
    private string _dig = "";

    [SetUp]
    public void CreateTopology()
    {
        _dig = Tools.Require("dig", "bind9-dnsutils");
        _t = new GuestNamespaces("vnns", upstream: true, guestResolvConf: "nameserver 192.0.2.1\n");
        _t.Ip("-n", _t.U!, "addr", "add", OtherUpstream + "/24", "dev", GuestNamespaces.UpstreamLink);
        StartUpstream(Upstream, "up.example.test/198.51.100.7");
        StartUpstream(OtherUpstream, "elsewhere.test/198.51.100.8", "up.example.test/198.51.100.99");
    }

    [TearDown]
    public void RemoveTopology() => _t?.Dispose();

    /// <summary>A DNS server in U on <paramref name="address"/> that knows only <paramref name="answers"/> (--address=/NAME/IP).</summary>
    private void StartUpstream(string address, params string[] answers)
    {
        string pidFile = Path.Combine(_t!.Root, $"upstream-{address}.pid");
        var psi = new ProcessStartInfo(_t.IpPath) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "netns", "exec", _t.U!, Tools.Require("dnsmasq", "dnsmasq-base"), "--keep-in-foreground", "--conf-file=/dev/null",
                     "--no-resolv", "--no-hosts", "--bind-interfaces", "--listen-address=" + address, "--pid-file=" + pidFile, "--log-queries", "--log-facility=-" })
            psi.ArgumentList.Add(a);
        foreach (var answer in answers) psi.ArgumentList.Add($"--address=/{answer}");
        var p = Process.Start(psi)!;
        _t.Started.Add(p);
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        // ready when it answers in U
        string name = answers[0].Split('/')[0];
        var sw = Stopwatch.StartNew();
        while (_t.In(_t.U!, _dig, ["+short", "+time=1", "+tries=1", "@" + address, name]).Stdout.Length == 0)
        {
            Assert.That(p.HasExited, Is.False, $"the upstream dnsmasq on {address} exited");
            Assert.That(sw.Elapsed, Is.LessThan(TimeSpan.FromSeconds(20)), $"the upstream dnsmasq on {address} did not answer");
            Thread.Sleep(50);
        }
    }

    /// <summary>dig in G with G's resolv.conf: the short answer, asked until there is one (15 s at most).</summary>
    private string Resolve(string name, string type = "A")
    {
        var sw = Stopwatch.StartNew();
        while (true)
        {
            var r = _t!.In(_t.G, _dig, ["+short", "+time=2", "+tries=1", name, type]);
            if (r.ExitCode == 0 && r.Stdout.Length > 0) return r.Stdout;
            if (sw.Elapsed > TimeSpan.FromSeconds(15))
            {
                var full = _t.In(_t.G, _dig, ["+time=2", "+tries=1", name, type]);
                Assert.Fail($"no answer for {name} {type} in the guest:\n{full}\n{_t.Daemon?.Stderr}");
            }
            Thread.Sleep(100);
        }
    }

    [Test]
    public void TheGuestResolvesHostsItsOwnNameRecordsAndForwardedNamesThroughTheNetwork()
    {
        _t!.StartNetwork("dnsnet", "vnds0", NetXml);
        string ip = _t.LeaseAndConfigure("52:54:00:00:00:61", "guest61", 24);

        // (a) the network's <host> names, the plain one also under the network's domain (expand-hosts)
        Assert.That(Resolve("web"), Is.EqualTo("192.0.2.60"));
        Assert.That(Resolve("web.example.com"), Is.EqualTo("192.0.2.60"));
        Assert.That(Resolve("www.example.org"), Is.EqualTo("192.0.2.60"));
        // (b) the guest's own DHCP hostname under <domain name='example.com'>
        Assert.That(Resolve("guest61.example.com"), Is.EqualTo(ip), "the address it leased");
        Assert.That(Resolve("guest61"), Is.EqualTo(ip), "the plain name too");
        // (c) TXT, (d) SRV
        Assert.That(Resolve("example", "TXT"), Is.EqualTo("\"example value\""));
        Assert.That(Resolve("_ldap._tcp.example.com", "SRV"), Is.EqualTo("1 10 389 ldap.example.com."));
        // (e) the forwarders: example.test to the first upstream, the rest to the second
        Assert.That(Resolve("up.example.test"), Is.EqualTo("198.51.100.7"), "<forwarder domain='example.test'>");
        Assert.That(Resolve("elsewhere.test"), Is.EqualTo("198.51.100.8"), "<forwarder addr=…> for everything else");
    }
}
