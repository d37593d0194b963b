using System.Globalization;
using System.Net.Sockets;
using VirtNetworkd.Errors;
using VirtNetworkd.NetworkDriver.Xml;
using VirtNetworkd.NetworkDriver.Xml.Net;

namespace VirtNetworkd.NetworkDriver.Backend.Firewall;

/// <summary>Choices where libvirt's behaviour changed after 10.8 (see docs/FIREWALL-10.8.md).</summary>
public sealed record FirewallOptions
{
    /// <summary>10.8's behaviour: no tc checksum filter.</summary>
    public static readonly FirewallOptions Libvirt108 = new();

    /// <summary>libvirt 11.3's behaviour (its test vectors): the nftables backend adds a tc filter that fixes DHCP reply checksums.</summary>
    public static readonly FirewallOptions Libvirt113 = new() { TcChecksumFilter = true };

    /// <summary>
    /// The nftables backend adds <c>tc filter … action csum ip and udp</c> on the bridge (libvirt
    /// ≥ 10.9). It needs the kernel's act_csum; the apply layer skips it, with a log line, where
    /// that is missing.
    /// </summary>
    public bool TcChecksumFilter { get; init; }
}

/// <summary>
/// networkAddFirewallRules as a pure function: the firewall rules libvirt adds for a network
/// (network_iptables.c, network_nftables.c), in libvirt's order, with how each is undone.
/// </summary>
public static class FirewallRulesGenerator
{
    public const string NftTable = "libvirt_network";

    private const string LocalMulticastV4 = "224.0.0.0/24";
    private const string LocalMulticastV6 = "ff02::/16";
    private const string LocalBroadcast = "255.255.255.255/32";

    /// <summary>
    /// The rules for <paramref name="def"/> with <paramref name="backend"/>. Only networks of forward
    /// mode none, nat and route get rules (open gets none; other modes have no firewall). Throws
    /// <see cref="LibvirtError"/> as libvirt does for a bad prefix or NAT port range.
    /// </summary>
    public static FirewallRuleSet Build(NetworkDef def, FirewallBackendType backend, FirewallOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(def);
        options ??= FirewallOptions.Libvirt108;
        if (def.Forward.Type is not (ForwardType.None or ForwardType.Nat or ForwardType.Route))
            return FirewallRuleSet.Empty(backend);
        if (backend == FirewallBackendType.None)
            throw new LibvirtError(VirErrorCode.NoSupport, VirErrorDomain.Network, "No firewall backend is available");

        var live = def.Clone();
        var ctx = new Context(live, backend);
        var tcPrepare = new List<FirewallAction>();
        var main = new List<FirewallRule>();
        var groups = new List<FirewallRuleGroup>();
        string bridge = def.Bridge ?? "";

        if (backend == FirewallBackendType.Nftables)
        {
            if (options.TcChecksumFilter) AddTcChecksumFilter(bridge, tcPrepare, main);
            AddGeneralNft(ctx, main);
        }
        else
        {
            AddGeneralIptables(ctx, main);
        }
        foreach (IpDef ip in live.Ips) AddIpSpecific(ctx, ip, main);
        groups.Add(new FirewallRuleGroup(main));

        if (backend == FirewallBackendType.Iptables)
        {
            // the checksum-fill rule: its own transaction, errors ignored (not every iptables has CHECKSUM)
            var checksum = new List<FirewallRule>();
            IpDef? dhcp = FirstIpv4(live, ip => ip.Ranges.Count > 0 || ip.Hosts.Count > 0);
            if (dhcp is not null)
                checksum.Add(Ipt(FirewallLayer.Ipv4, true, "mangle", "LIBVIRT_PRT",
                    "--out-interface", bridge, "--protocol", "udp", "--destination-port", "68",
                    "--jump", "CHECKSUM", "--checksum-fill"));
            groups.Add(new FirewallRuleGroup(checksum, IgnoreErrors: true));
        }

        bool changed = live.Forward.NatPortStart != def.Forward.NatPortStart || live.Forward.NatPortEnd != def.Forward.NatPortEnd;
        return new FirewallRuleSet(backend, groups, tcPrepare, changed ? live : null);
    }

    private sealed record Context(NetworkDef Def, FirewallBackendType Backend)
    {
        public string Bridge => Def.Bridge ?? "";
        public bool Nft => Backend == FirewallBackendType.Nftables;
    }

    private static IpDef? FirstIpv4(NetworkDef def, Func<IpDef, bool> pred)
    {
        for (int i = 0; def.GetIpByIndex(AddressFamily.InterNetwork, i) is { } ip; i++)
            if (pred(ip)) return ip;
        return null;
    }

    private static bool HasIpv6(NetworkDef def) => def.GetIpByIndex(AddressFamily.InterNetworkV6, 0) is not null;

    // ---- tc (nftables backend, libvirt >= 10.9) ----

    private static void AddTcChecksumFilter(string bridge, List<FirewallAction> prepare, List<FirewallRule> rules)
    {
        // virNetDevBandWidthAddTxFilterParentQdisc(bridge, true): the apply layer runs the check and
        // adds the qdisc only when "qdisc … 1: " is not in the check's output
        prepare.Add(new FirewallAction(FirewallLayer.Tc, ["qdisc", "show", "dev", bridge, "handle", "1:"]));
        prepare.Add(new FirewallAction(FirewallLayer.Tc, ["qdisc", "add", "dev", bridge, "root", "handle", "1:", "htb", "default", "2"]));
        string[] tail = ["dev", bridge, "prio", "2", "protocol", "ip", "parent", "1:", "u32", "match", "ip", "dport", "68", "ffff",
            "action", "csum", "ip", "and", "udp"];
        rules.Add(new FirewallRule(
            new FirewallAction(FirewallLayer.Tc, ["filter", "add", .. tail]),
            new FirewallUndo(FirewallLayer.Tc, ["filter", "del", .. tail])));
    }

    // ---- general rules ----

    private static void AddGeneralNft(Context c, List<FirewallRule> rules)
    {
        AddRejectsAndCross(c, FirewallLayer.Ipv4, rules);
        if (HasIpv6(c.Def) || c.Def.Ipv6NoGateway) AddRejectsAndCross(c, FirewallLayer.Ipv6, rules);
    }

    private static void AddGeneralIptables(Context c, List<FirewallRule> rules)
    {
        string br = c.Bridge;
        IpDef? v4 = FirstIpv4(c.Def, ip => ip.Ranges.Count > 0 || ip.Hosts.Count > 0 || ip.TftpRoot is not null);
        rules.Add(IptInput(FirewallLayer.Ipv4, br, 67, "tcp"));
        rules.Add(IptInput(FirewallLayer.Ipv4, br, 67, "udp"));
        rules.Add(IptOutput(FirewallLayer.Ipv4, br, 68, "tcp"));
        rules.Add(IptOutput(FirewallLayer.Ipv4, br, 68, "udp"));
        rules.Add(IptInput(FirewallLayer.Ipv4, br, 53, "tcp"));
        rules.Add(IptInput(FirewallLayer.Ipv4, br, 53, "udp"));
        rules.Add(IptOutput(FirewallLayer.Ipv4, br, 53, "tcp"));
        rules.Add(IptOutput(FirewallLayer.Ipv4, br, 53, "udp"));
        if (v4?.TftpRoot is not null)
        {
            rules.Add(IptInput(FirewallLayer.Ipv4, br, 69, "udp"));
            rules.Add(IptOutput(FirewallLayer.Ipv4, br, 69, "udp"));
        }
        AddRejectsAndCross(c, FirewallLayer.Ipv4, rules);

        if (!HasIpv6(c.Def) && !c.Def.Ipv6NoGateway) return;
        AddRejectsAndCross(c, FirewallLayer.Ipv6, rules);
        if (HasIpv6(c.Def))
        {
            rules.Add(IptInput(FirewallLayer.Ipv6, br, 53, "tcp"));
            rules.Add(IptInput(FirewallLayer.Ipv6, br, 53, "udp"));
            rules.Add(IptOutput(FirewallLayer.Ipv6, br, 53, "tcp"));
            rules.Add(IptOutput(FirewallLayer.Ipv6, br, 53, "udp"));
            rules.Add(IptInput(FirewallLayer.Ipv6, br, 547, "udp"));
            rules.Add(IptOutput(FirewallLayer.Ipv6, br, 546, "udp"));
        }
    }

    private static FirewallRule IptInput(FirewallLayer layer, string br, int port, string proto) =>
        Ipt(layer, false, "filter", "LIBVIRT_INP", "--in-interface", br, "--protocol", proto,
            "--destination-port", port.ToString(CultureInfo.InvariantCulture), "--jump", "ACCEPT");

    private static FirewallRule IptOutput(FirewallLayer layer, string br, int port, string proto) =>
        Ipt(layer, false, "filter", "LIBVIRT_OUT", "--out-interface", br, "--protocol", proto,
            "--destination-port", port.ToString(CultureInfo.InvariantCulture), "--jump", "ACCEPT");

    /// <summary>Reject out of and into the bridge, accept across it.</summary>
    private static void AddRejectsAndCross(Context c, FirewallLayer layer, List<FirewallRule> rules)
    {
        string br = c.Bridge;
        if (c.Nft)
        {
            rules.Add(Nft(layer, "guest_output", "iif", br, "counter", "reject"));
            rules.Add(Nft(layer, "guest_input", "oif", br, "counter", "reject"));
            rules.Add(Nft(layer, "guest_cross", "iif", br, "oif", br, "counter", "accept"));
        }
        else
        {
            rules.Add(Ipt(layer, false, "filter", "LIBVIRT_FWO", "--in-interface", br, "--jump", "REJECT"));
            rules.Add(Ipt(layer, false, "filter", "LIBVIRT_FWI", "--out-interface", br, "--jump", "REJECT"));
            rules.Add(Ipt(layer, false, "filter", "LIBVIRT_FWX", "--in-interface", br, "--out-interface", br, "--jump", "ACCEPT"));
        }
    }

    // ---- per-address rules ----

    private static void AddIpSpecific(Context c, IpDef ip, List<FirewallRule> rules)
    {
        // IPv6 has no NAT: a nat network routes its IPv6 subnets unless <nat ipv6='yes'/>
        if (c.Def.Forward.Type == ForwardType.Nat)
        {
            if (ip.Address.IsIPv4 || c.Def.Forward.NatIpv6 == TristateBool.Yes) AddMasquerading(c, ip, rules);
            else if (ip.Address.IsIPv6) AddRouting(c, ip, rules);
        }
        else if (c.Def.Forward.Type == ForwardType.Route)
        {
            AddRouting(c, ip, rules);
        }
    }

    private static (FirewallLayer Layer, string Family, string Network) Subnet(Context c, IpDef ip)
    {
        int prefix = ip.GetPrefix();
        if (prefix < 0)
            throw new LibvirtError(VirErrorCode.InternalError, VirErrorDomain.None, $"Invalid prefix or netmask for '{c.Bridge}'");
        FirewallLayer layer = ip.Address.IsIPv4 ? FirewallLayer.Ipv4 : FirewallLayer.Ipv6;
        string network = ip.Address.MaskByPrefix(prefix).Format() + "/" + prefix.ToString(CultureInfo.InvariantCulture);
        return (layer, layer == FirewallLayer.Ipv4 ? "ip" : "ip6", network);
    }

    private static void AddRouting(Context c, IpDef ip, List<FirewallRule> rules)
    {
        var (layer, fam, net) = Subnet(c, ip);
        string? dev = c.Def.ForwardIf(0);
        string br = c.Bridge;
        rules.Add(AllowOut(c, layer, fam, net, dev));
        if (c.Nft)
            rules.Add(Nft(layer, "guest_input", [fam, "daddr", net, .. IfName("iifname", dev), "oif", br, "counter", "accept"]));
        else
            rules.Add(Ipt(layer, false, "filter", "LIBVIRT_FWI",
                ["--destination", net, .. IfName("--in-interface", dev), "--out-interface", br, "--jump", "ACCEPT"]));
    }

    private static FirewallRule AllowOut(Context c, FirewallLayer layer, string fam, string net, string? dev) =>
        c.Nft
            ? Nft(layer, "guest_output", [fam, "saddr", net, "iif", c.Bridge, .. IfName("oifname", dev), "counter", "accept"])
            : Ipt(layer, false, "filter", "LIBVIRT_FWO",
                ["--source", net, "--in-interface", c.Bridge, .. IfName("--out-interface", dev), "--jump", "ACCEPT"]);

    private static string[] IfName(string option, string? dev) => string.IsNullOrEmpty(dev) ? [] : [option, dev];

    private static void AddMasquerading(Context c, IpDef ip, List<FirewallRule> rules)
    {
        var (layer, fam, net) = Subnet(c, ip);
        string? dev = c.Def.ForwardIf(0);
        string br = c.Bridge;
        rules.Add(AllowOut(c, layer, fam, net, dev));
        if (c.Nft)
            rules.Add(Nft(layer, "guest_input",
                [.. IfName("iifname", dev), "oif", br, fam, "daddr", net, "ct", "state", "related,established", "counter", "accept"]));
        else
            rules.Add(Ipt(layer, false, "filter", "LIBVIRT_FWI",
                ["--destination", net, .. IfName("--in-interface", dev), "--out-interface", br,
                 "--match", "conntrack", "--ctstate", "ESTABLISHED,RELATED", "--jump", "ACCEPT"]));

        // inserted at the head of the chain, so added in reverse of the order they end up in:
        // generic masquerade, udp, tcp, then the broadcast and multicast exemptions
        rules.Add(Masquerade(c, layer, fam, net, dev, null));
        rules.Add(Masquerade(c, layer, fam, net, dev, "udp"));
        rules.Add(Masquerade(c, layer, fam, net, dev, "tcp"));
        if (layer == FirewallLayer.Ipv4) rules.Add(DontMasquerade(c, layer, fam, net, dev, LocalBroadcast));
        rules.Add(DontMasquerade(c, layer, fam, net, dev, layer == FirewallLayer.Ipv4 ? LocalMulticastV4 : LocalMulticastV6));
    }

    private static FirewallRule Masquerade(Context c, FirewallLayer layer, string fam, string net, string? dev, string? protocol)
    {
        ForwardDef fwd = c.Def.Forward;
        AddressFamily af = layer == FirewallLayer.Ipv4 ? AddressFamily.InterNetwork : AddressFamily.InterNetworkV6;
        string? addrStart = null, addrEnd = null;
        if (fwd.NatAddressStart.Family == af)
        {
            addrStart = fwd.NatAddressStart.Format();
            if (fwd.NatAddressEnd.Family == af) addrEnd = fwd.NatAddressEnd.Format();
        }
        string? portRange = null;
        if (protocol is not null)
        {
            // libvirt fills the default range into the definition itself: the live XML shows it
            if (fwd.NatPortStart == 0 && fwd.NatPortEnd == 0)
            {
                fwd.NatPortStart = 1024;
                fwd.NatPortEnd = 65535;
            }
            if (!(fwd.NatPortStart < fwd.NatPortEnd && fwd.NatPortEnd < 65536))
                throw new LibvirtError(VirErrorCode.InternalError, VirErrorDomain.None,
                    $"Invalid port range '{fwd.NatPortStart}-{fwd.NatPortEnd}'.");
            portRange = string.Create(CultureInfo.InvariantCulture, $":{fwd.NatPortStart}-{fwd.NatPortEnd}");
        }
        string? natRange = string.IsNullOrEmpty(addrStart) ? null
            : !string.IsNullOrEmpty(addrEnd) ? $"{addrStart}-{addrEnd}{portRange}" : $"{addrStart}{portRange}";

        var args = new List<string>();
        if (c.Nft)
        {
            if (protocol is not null) args.AddRange(["meta", "l4proto", protocol]);
            args.AddRange([fam, "saddr", net, fam, "daddr", "!=", net]);
            args.AddRange(IfName("oifname", dev));
            if (natRange is not null) args.AddRange(["counter", "snat", "to", natRange]);
            else
            {
                args.AddRange(["counter", "masquerade"]);
                if (portRange is not null) args.AddRange(["to", portRange]);
            }
            return Nft(layer, "guest_nat", [.. args]);
        }
        args.AddRange(["--source", net]);
        if (protocol is not null) args.AddRange(["-p", protocol]);
        args.AddRange(["!", "--destination", net]);
        args.AddRange(IfName("--out-interface", dev));
        if (natRange is not null) args.AddRange(["--jump", "SNAT", "--to-source", natRange]);
        else
        {
            args.AddRange(["--jump", "MASQUERADE"]);
            if (portRange is not null) args.AddRange(["--to-ports", portRange[1..]]);
        }
        return Ipt(layer, false, "nat", "LIBVIRT_PRT", [.. args]);
    }

    private static FirewallRule DontMasquerade(Context c, FirewallLayer layer, string fam, string net, string? dev, string dest) =>
        c.Nft
            ? Nft(layer, "guest_nat", [.. IfName("oifname", dev), fam, "saddr", net, fam, "daddr", dest, "counter", "return"])
            : Ipt(layer, false, "nat", "LIBVIRT_PRT",
                [.. IfName("--out-interface", dev), "--source", net, "--destination", dest, "--jump", "RETURN"]);

    // ---- one rule of each backend, with its undo ----

    /// <summary>nft insert rule FAMILY libvirt_network CHAIN ARGS; undone by nft delete rule FAMILY libvirt_network CHAIN handle N.</summary>
    private static FirewallRule Nft(FirewallLayer layer, string chain, params string[] match)
    {
        string fam = layer == FirewallLayer.Ipv4 ? "ip" : "ip6";
        return new FirewallRule(
            new FirewallAction(layer, ["insert", "rule", fam, NftTable, chain, .. match]),
            new FirewallUndo(layer, ["delete", "rule", fam, NftTable, chain], AppendHandle: true));
    }

    /// <summary>iptables --table TABLE --insert CHAIN ARGS; undone by the same with --delete.</summary>
    private static FirewallRule Ipt(FirewallLayer layer, bool ignoreErrors, string table, string chain, params string[] match) =>
        new(new FirewallAction(layer, ["--table", table, "--insert", chain, .. match], ignoreErrors),
            new FirewallUndo(layer, ["--table", table, "--delete", chain, .. match]));
}
