using System.Text.RegularExpressions;

namespace VirtNetworkd.Integration.Tests;

/// <summary>
/// The namespaces of a kernel test of the Linux backend, never connected to the host's network:
/// H runs our daemon with the Linux backend (firewall backend nftables), G is a guest whose veth
/// vngh has its H end vnhg plugged into a network's bridge by <see cref="StartNetwork"/>, and,
/// when asked for, U is an upstream host on H's vnhu (H 198.51.100.1/24, U 198.51.100.2/24).
/// G has its own /etc/netns/G/resolv.conf, made before anything runs in G, so that nothing in G
/// can touch the host's /etc/resolv.conf. Dispose removes the daemon, its dnsmasqs, the
/// namespaces, G's /etc/netns folder and the root, also when the construction failed half way.
/// </summary>
public sealed partial class GuestNamespaces : IDisposable
{
    public const string GuestLink = "vngh", HostLink = "vnhg", UpstreamLink = "vnuh";

    private readonly List<string> _namespaces = [];

    /// <param name="prefix">the start of the namespace names (a random suffix follows)</param>
    /// <param name="guestResolvConf">G's resolv.conf (a comment when null)</param>
    public GuestNamespaces(string prefix, bool upstream = false, string? guestResolvConf = null)
    {
        IpPath = Tools.Require("ip", "iproute2");
        Tools.Require("dnsmasq", "dnsmasq-base");
        Tools.Require("nft", "nftables");
        string id = Guid.NewGuid().ToString("N")[..6];
        (H, G, U) = (prefix + "h" + id, prefix + "g" + id, upstream ? prefix + "u" + id : null);
        Root = DaemonProcess.NewRoot();
        try
        {
            // G's own resolv.conf first: `ip netns exec G` mounts it over /etc/resolv.conf in G only
            Directory.CreateDirectory($"/etc/netns/{G}");
            File.WriteAllText($"/etc/netns/{G}/resolv.conf", guestResolvConf ?? "# guest namespace of a test\n");
            foreach (var ns in new[] { H, G, U })
            {
                if (ns is null) continue;
                Ip("netns", "add", ns);
                _namespaces.Add(ns);
                Ip("-n", ns, "link", "set", "lo", "up");
            }
            Ip("-n", H, "link", "add", HostLink, "type", "veth", "peer", "name", GuestLink, "netns", G);
            Ip("-n", G, "link", "set", GuestLink, "up");
            if (U is not null)
            {
                Ip("-n", H, "link", "add", "vnhu", "type", "veth", "peer", "name", UpstreamLink, "netns", U);
                Ip("-n", H, "addr", "add", "198.51.100.1/24", "dev", "vnhu");
                Ip("-n", H, "link", "set", "vnhu", "up");
                Ip("-n", U, "addr", "add", "198.51.100.2/24", "dev", UpstreamLink);
                Ip("-n", U, "link", "set", UpstreamLink, "up");
            }
            Directory.CreateDirectory(Path.Combine(Root, "etc/libvirt"));
            File.WriteAllText(Path.Combine(Root, "etc/libvirt/network.conf"), "firewall_backend = \"nftables\"\n");
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public string IpPath { get; }
    public string H { get; }
    public string G { get; }
    public string? U { get; }
    public string Root { get; }
    public DaemonProcess? Daemon { get; set; }

    /// <summary>Processes the test started in a namespace (killed, with their children, on Dispose).</summary>
    public List<System.Diagnostics.Process> Started { get; } = [];

    public void Ip(params string[] args)
    {
        var r = Tools.Run(IpPath, args);
        Assert.That(r.ExitCode, Is.Zero, $"ip {string.Join(' ', args)}: {r}");
    }

    /// <summary>Runs a program in the namespace <paramref name="ns"/>.</summary>
    public Tools.Result In(string ns, string program, IEnumerable<string> args, int timeoutMs = 60_000) =>
        Tools.Run(IpPath, new[] { "netns", "exec", ns, program }.Concat(args), timeoutMs: timeoutMs);

    /// <summary>Writes a sysctl of namespace <paramref name="ns"/> (never the host's).</summary>
    public void Sysctl(string ns, string key, string value)
    {
        var r = In(ns, "sh", ["-c", $"echo {value} > /proc/sys/{key.Replace('.', '/')}"]);
        Assert.That(r.ExitCode, Is.Zero, $"sysctl {key}={value} in {ns}: {r}");
    }

    /// <summary>Our daemon in H with the Linux backend.</summary>
    public DaemonProcess StartDaemon(IDictionary<string, string>? env = null)
    {
        var all = new Dictionary<string, string> { ["VIRTNETWORKD_BACKEND"] = "linux" };
        if (env is not null) foreach (var (k, v) in env) all[k] = v;
        return Daemon = DaemonProcess.Start(root: Root, networkNamespace: H, env: all);
    }

    /// <summary>Defines and starts <paramref name="xml"/> (on the running daemon, or a new one), then plugs G into its bridge.</summary>
    public void StartNetwork(string name, string bridge, string xml)
    {
        Daemon ??= StartDaemon();
        string file = Path.Combine(Root, name + ".xml");
        File.WriteAllText(file, xml);
        var define = Tools.Virsh(Daemon.Uri, "net-define", file);
        Assert.That(define.ExitCode, Is.Zero, define.ToString());
        var start = Tools.Virsh(Daemon.Uri, "net-start", name);
        Assert.That(start.ExitCode, Is.Zero, start + "\n" + Daemon.Stderr);
        Ip("-n", H, "link", "set", HostLink, "master", bridge, "up");
    }

    /// <summary>
    /// A DHCPv4 exchange from G with busybox udhcpc (its script only prints the lease): the
    /// address granted, or null. G's link gets <paramref name="mac"/> first; the address is not
    /// configured (<see cref="LeaseAndConfigure"/> does that).
    /// </summary>
    public string? Lease(string mac, string? hostname = null)
    {
        Tools.Require("busybox", "busybox");
        string script = Path.Combine(Root, "udhcpc.sh");
        if (!File.Exists(script))
        {
            File.WriteAllText(script, "#!/bin/sh\n[ \"$1\" = bound ] && echo \"LEASE $ip\"\nexit 0\n");
            File.SetUnixFileMode(script, (UnixFileMode)0b111_101_101);
        }
        Ip("-n", G, "link", "set", GuestLink, "address", mac);
        string[] name = hostname is null ? [] : ["-x", "hostname:" + hostname];
        var r = In(G, "busybox", ["udhcpc", "-i", GuestLink, "-f", "-q", "-n", "-t", "6", "-T", "1", "-s", script, .. name], timeoutMs: 30_000);
        var m = LeaseLine().Match(r.Stdout);
        return m.Success ? m.Groups[1].Value : null;
    }

    /// <summary><see cref="Lease"/>, then the address on G's link with <paramref name="prefix"/>.</summary>
    public string LeaseAndConfigure(string mac, string? hostname, int prefix)
    {
        string? ip = Lease(mac, hostname);
        Assert.That(ip, Is.Not.Null, "a DHCP lease for the guest\n" + Daemon?.Stderr);
        Ip("-n", G, "addr", "add", $"{ip}/{prefix}", "dev", GuestLink);
        return ip!;
    }

    [GeneratedRegex(@"LEASE (\S+)")]
    private static partial Regex LeaseLine();

    public void Dispose()
    {
        Daemon?.Dispose();
        DaemonProcess.KillDnsmasqs(Root);
        foreach (var p in Started)
        {
            try
            {
                if (!p.HasExited) p.Kill(entireProcessTree: true);
                p.WaitForExit(5000);
            }
            catch (InvalidOperationException) { }
            p.Dispose();
        }
        foreach (var ns in _namespaces) Tools.Run(IpPath, ["netns", "del", ns]);
        try { Directory.Delete($"/etc/netns/{G}", recursive: true); } catch (IOException) { }
        try { Directory.Delete(Root, recursive: true); } catch (IOException) { }
    }
}
