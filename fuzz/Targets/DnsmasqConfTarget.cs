using VirtNetworkd.Errors;
using VirtNetworkd.NetworkDriver.Backend.Dnsmasq;
using VirtNetworkd.NetworkDriver.Xml;

namespace VirtNetworkd.Fuzz;

/// <summary>
/// Target 6a: the dnsmasq configuration generator. Input: byte 0 bit 0 writes a pid-file line;
/// then network XML, parsed as the driver parses it (a missing bridge becomes "virbr0", as the
/// driver assigns one), then <see cref="DnsmasqConfig.Generate"/>. Oracle: failures only as
/// <see cref="LibvirtError"/>; no value adds a line or an option: the options of dnsmasq.conf,
/// counted by name, are exactly those the definition's shape calls for (<see cref="Expected"/>,
/// computed apart from the generator), the dnsmasq:option lines come last and unchanged, every
/// dhcp-host line has the fields its host calls for, every addn-hosts line the names of its
/// address. Documented exceptions (not added lines or options, so let through): commas inside a
/// TXT value or an SRV/forwarder domain (dnsmasq's own sub-fields, which libvirt writes as given),
/// a '#' after a blank (dnsmasq drops the rest of that line) and double quotes.
/// </summary>
public sealed class DnsmasqConfTarget : FuzzTarget
{
    private static readonly DnsmasqPaths Paths = new(DnsmasqPaths.DefaultStateDir, DnsmasqPaths.DefaultPidDir);
    private static readonly DnsmasqCaps Caps = new("/usr/sbin/dnsmasq", 2067000);

    public override string Name => "dnsmasqconf";
    public override string Summary => "network XML → dnsmasq.conf, hostsfile, addnhosts: LibvirtError only; no value adds a line, option or field";

    public override void Run(ReadOnlySpan<byte> input)
    {
        if (input.Length < 1) return;
        bool pid = (input[0] & 1) != 0;
        if (Text(input[1..]) is not { } xml) return;
        NetworkDef def;
        DnsmasqFiles files;
        try
        {
            def = NetworkXml.Parse(xml);
            def.Bridge ??= "virbr0";
            files = DnsmasqConfig.Generate(def, Paths, pid ? Paths.PidFile(def.Name) : null, Caps);
        }
        catch (LibvirtError)
        {
            return;
        }
        CheckConfig(def, files.Config, pid);
        CheckHostsFile(def, files.Hosts);
        CheckAddnHosts(def, files.Hosts.AddnHostsText());
    }

    private static void CheckConfig(NetworkDef def, string config, bool pid)
    {
        if (!config.EndsWith('\n')) throw new FuzzFinding("dnsmasq.conf does not end with a line feed:\n" + config);
        var lines = config[..^1].Split('\n').ToList();
        if (lines.Any(l => l.Contains('\r', StringComparison.Ordinal))) throw new FuzzFinding("a carriage return in dnsmasq.conf:\n" + config);
        var options = def.DnsmasqOptions ?? [];
        if (lines.Count < options.Count) throw new FuzzFinding("fewer lines than dnsmasq:option values:\n" + config);
        var tail = lines.GetRange(lines.Count - options.Count, options.Count);
        if (!tail.SequenceEqual(options)) throw new FuzzFinding("the dnsmasq:option lines are not the values, last:\n" + config);
        lines.RemoveRange(lines.Count - options.Count, options.Count);

        var actual = new SortedDictionary<string, int>(StringComparer.Ordinal);
        foreach (string l in lines)
        {
            string key = l.StartsWith("##", StringComparison.Ordinal) ? "##" : (l.IndexOf('=', StringComparison.Ordinal) is var i and >= 0 ? l[..i] : l);
            actual[key] = actual.GetValueOrDefault(key) + 1;
        }
        var expected = Expected(def, pid);
        if (!actual.SequenceEqual(expected))
            throw new FuzzFinding("dnsmasq.conf options differ from the definition's shape: expected " + Show(expected) + ", got " + Show(actual) + ":\n" + config);
    }

    /// <summary>How many lines of each option the definition calls for (networkDnsmasqConfContents read as a table).</summary>
    public static SortedDictionary<string, int> Expected(NetworkDef def, bool pid)
    {
        var e = new SortedDictionary<string, int>(StringComparer.Ordinal);
        void Add(string key, int n = 1)
        {
            if (n > 0) e[key] = e.GetValueOrDefault(key) + n;
        }
        DnsDef dns = def.Dns;
        bool wantDns = dns.Enable != TristateBool.No;
        bool isolated = def.Forward.Type == ForwardType.None;
        Add("##", 6);
        Add("strict-order");
        if (!wantDns) Add("port");
        if (wantDns)
        {
            Add("server", dns.Forwarders.Count);
            if (dns.Forwarders.Any(f => f.Addr.IsValid && f.Domain is null)) Add("no-resolv");
            Add("local", def.Ips.Count(i => i.LocalPtr == TristateBool.Yes));
            if (dns.ForwardPlainNames == TristateBool.No) { Add("domain-needed"); Add("local"); }
            Add("txt-record", dns.Txts.Count);
            Add("srv-host", dns.Srvs.Count);
            Add("addn-hosts");
        }
        if (def.Domain is not null)
        {
            if (def.DomainLocalOnly == TristateBool.Yes) Add("local");
            Add("domain");
            Add("expand-hosts");
        }
        if (pid) Add("pid-file");
        Add("except-interface");
        Add("bind-dynamic");
        Add("interface");
        if (isolated) { Add("dhcp-option"); Add("no-resolv"); Add("ra-param"); }
        var v4 = def.Ips.Where(i => i.Address.IsIPv4).ToList();
        int tftp = v4.Count(i => i.TftpRoot is not null);
        if (tftp > 0) { Add("enable-tftp"); Add("tftp-root", tftp); }
        IpDef? v4Def = v4.FirstOrDefault(Dhcp);
        IpDef? v6Def = def.Ips.FirstOrDefault(i => i.Address.IsIPv6 && Dhcp(i));
        int leases = 0;
        foreach (IpDef? ip in new[] { v4Def, v6Def })
        {
            if (ip is null) continue;
            Add("dhcp-range", ip.Ranges.Count > 0 ? ip.Ranges.Count : 1);
            leases += ip.Ranges.Count;
        }
        if (v4Def is not null)
        {
            Add("dhcp-no-override");
            Add("dhcp-authoritative");
            if (v4Def.BootFile is not null) Add("dhcp-boot");
        }
        if (leases > 0) Add("dhcp-lease-max");
        if (v4Def is not null || v6Def is not null) Add("dhcp-hostsfile");
        if (def.Mtu > 0) Add("dhcp-option");
        if (v6Def is not null) Add("enable-ra");
        else Add("dhcp-range", def.Ips.Count(i => i.Address.IsIPv6 && !Dhcp(i)));
        return e;
    }

    private static bool Dhcp(IpDef ip) => ip.Ranges.Count > 0 || ip.Hosts.Count > 0;

    private static void CheckHostsFile(NetworkDef def, DnsmasqHosts hosts)
    {
        var expected = new List<int>();
        foreach (IpDef? ip in new[] { def.Ips.FirstOrDefault(i => i.Address.IsIPv4 && Dhcp(i)), def.Ips.FirstOrDefault(i => i.Address.IsIPv6 && Dhcp(i)) })
        {
            if (ip is null) continue;
            foreach (DhcpHostDef h in ip.Hosts.Where(h => h.Ip.IsValid))
            {
                int fields = ip.Address.IsIPv6
                    ? (h.Name is not null ? 1 : 0) + (h.Id is not null ? 1 : 0) + 1
                    : (h.Name is not null && h.Mac is not null ? 3 : 2);
                expected.Add(fields + (h.Lease is not null ? 1 : 0));
            }
        }
        string text = hosts.HostsFileText();
        var lines = text.Length == 0 ? [] : text[..^1].Split('\n');
        var actual = lines.Select(l => l.Split(',').Length).ToList();
        if (!actual.SequenceEqual(expected) || text.Contains('\r', StringComparison.Ordinal))
            throw new FuzzFinding($"hostsfile fields differ: expected [{string.Join(",", expected)}], got [{string.Join(",", actual)}]:\n{text}");
    }

    private static void CheckAddnHosts(NetworkDef def, string text)
    {
        var expected = new List<(string Ip, int Names)>();
        foreach (DnsHostDef h in def.Dns.Hosts.Where(h => h.Ip.IsValid))
        {
            string ip = h.Ip.Format()!;
            int i = expected.FindIndex(x => x.Ip == ip);
            if (i < 0) { expected.Add((ip, 0)); i = expected.Count - 1; }
            expected[i] = (ip, expected[i].Names + h.Names.Count);
        }
        expected.RemoveAll(x => x.Names == 0);
        var lines = text.Length == 0 ? [] : text[..^1].Split('\n');
        // dnsmasq's hosts-file reader: blank-separated tokens, '#' starts a comment
        var actual = lines.Select(l => (l.Split((char[])[' ', '\t', '\r', '\v', '\f'], StringSplitOptions.RemoveEmptyEntries)[0],
            l.Contains('#', StringComparison.Ordinal) ? -1 : l.Split((char[])[' ', '\t', '\r', '\v', '\f'], StringSplitOptions.RemoveEmptyEntries).Length - 1)).ToList();
        if (!actual.SequenceEqual(expected))
            throw new FuzzFinding($"addnhosts lines differ: expected {string.Join(" ", expected)}, got {string.Join(" ", actual)}:\n{text}");
    }

    private static string Show(IDictionary<string, int> d) => "{" + string.Join(", ", d.Select(kv => $"{kv.Key}:{kv.Value}")) + "}";

    public override IEnumerable<(string Name, byte[] Data)> Seeds(SeedSources sources)
    {
        yield return ("own-sample", Prefix([1], RpcTarget.SampleNetwork));
        for (int i = 0; i < NetUpdateTarget.BaseNetworks.Length; i++)
            yield return ($"own-base{i}", Prefix([0], NetUpdateTarget.BaseNetworks[i]));
        foreach (var (name, text) in sources.LibvirtTests("networkxml2confdata"))
        {
            yield return ($"libvirt-conf-{name}", Prefix([0], text));
            yield return ($"libvirt-conf-{name}-pid", Prefix([1], text));
        }
        foreach (var (name, text) in sources.LibvirtTests("networkxml2xmlin"))
            yield return ($"libvirt-in-{name}", Prefix([0], text));
    }

    public override IEnumerable<byte[]> Dictionary() =>
        XmlOracle.Names(XmlOracle.KnownXml()).Concat(new[]
        {
            "&#10;", "&#13;", "&#9;", "&#11;", "&#12;", "&#x85;", "&#x2028;", ",", "#", " #", "\"", "'", "&quot;", "&apos;", "/",
            "<dnsmasq:options xmlns:dnsmasq='http://libvirt.org/schemas/network/dnsmasq/1.0'>", "<dnsmasq:option value='",
            "<tftp root='", "<bootp file='", "<forwarder domain='", "<hostname>", "localPtr='yes'", "forwardPlainNames='no'",
            "localOnly='yes'", "enable='no'", "<lease expiry='", "unit='hours'", "<mtu size='",
        }.Select(Utf8));
}
