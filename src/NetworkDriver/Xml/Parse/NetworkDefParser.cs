using System.Net.Sockets;
using VirtNetworkd.Errors;
using VirtNetworkd.NetworkDriver.Xml.Dom;
using VirtNetworkd.NetworkDriver.Xml.Net;
using static VirtNetworkd.NetworkDriver.Xml.Parse.XmlProps;

namespace VirtNetworkd.NetworkDriver.Xml.Parse;

/// <summary>
/// virNetworkDefParseXML (network_conf.c, libvirt 10.8 behaviour): builds a <see cref="NetworkDef"/>
/// from a parsed &lt;network&gt; element and runs the parse-time checks, raising libvirt's errors.
/// </summary>
internal static partial class NetworkDefParser
{
    public const string DnsmasqNamespaceUri = "http://libvirt.org/schemas/network/dnsmasq/1.0";

    internal static LibvirtError Err(VirErrorCode code, string detail) => new(code, VirErrorDomain.Network, detail);

    public static NetworkDef Parse(DomElement root)
    {
        var def = new NetworkDef();

        string? name = root.ChildString("name");
        if (name is null) throw new LibvirtError(VirErrorCode.NoName, VirErrorDomain.Network, null);
        CheckIllegalChars("name", name, "/");
        def.Name = name;

        string? uuid = root.ChildString("uuid");
        if (uuid is not null)
        {
            if (!VirUuid.TryParse(uuid, out Guid g))
                throw Err(VirErrorCode.InternalError, "malformed uuid element");
            def.Uuid = g;
            def.UuidSpecified = true;
        }

        def.Title = root.ChildString("title");
        if (def.Title is not null && def.Title.Contains('\n'))
            throw Err(VirErrorCode.XmlError, "Network title can't contain newlines");
        def.Description = root.ChildString("description");

        string? ipv6 = root.AttrString("ipv6");
        if (ipv6 is not null)
        {
            def.Ipv6NoGateway = ipv6 switch
            {
                "yes" => true,
                "no" => false,
                _ => throw Err(VirErrorCode.XmlError, $"Invalid ipv6 setting '{ipv6}' in network '{def.Name}'"),
            };
        }

        def.TrustGuestRxFilters = TristateBool(root, "trustGuestRxFilters");

        DomElement? domainNode = root.Element("domain");
        def.Domain = domainNode?.Prop("name");
        def.DomainLocalOnly = TristateBool(domainNode, "localOnly");
        def.DomainRegister = TristateBool(domainNode, "register");
        if (def.DomainRegister == Xml.TristateBool.Yes && def.DomainLocalOnly != Xml.TristateBool.Yes)
            throw Err(VirErrorCode.ConfigUnsupported,
                $"attribute 'register=yes' in <domain> element requires 'localOnly=yes' in network {def.Name}");

        if (root.Element("bandwidth") is { } bw)
            def.Bandwidth = NetDevParser.ParseBandwidth(bw, allowClassId: false, allowFloor: false, out _);

        if (root.Element("vlan") is { } vlan)
            def.Vlan = NetDevParser.ParseVlan(vlan);

        def.IsolatedPort = TristateBool(root.Element("port"), "isolated");

        DomElement? bridge = root.Element("bridge");
        def.Bridge = bridge?.AttrString("name");
        def.BridgeZone = bridge?.AttrString("zone");
        string? stp = bridge?.AttrString("stp");
        def.Stp = stp != "off";
        string? delay = bridge?.AttrString("delay");
        if (delay is not null)
        {
            if (!CNumber.TryParseULP(delay, 10, out ulong d))
                throw Err(VirErrorCode.XmlError, $"Invalid delay value in network '{def.Name}'");
            def.Delay = d;
        }
        string? mtm = bridge?.AttrString("macTableManager");
        if (mtm is not null)
        {
            int v = NetworkNames.Lookup(NetworkNames.MacTableManager, mtm);
            if (v <= 0)
                throw Err(VirErrorCode.XmlError, $"Invalid macTableManager setting '{mtm}' in network '{def.Name}'");
            def.MacTableManager = (MacTableManager)v;
        }

        string? mac = root.Element("mac")?.AttrString("address");
        if (mac is not null)
        {
            if (!MacAddr.TryParse(mac, out MacAddr m))
                throw Err(VirErrorCode.XmlError, $"Invalid bridge mac address '{mac}' in network '{def.Name}'");
            if (m.IsMulticast)
                throw Err(VirErrorCode.XmlError, $"Invalid multicast bridge mac address '{mac}' in network '{def.Name}'");
            def.Mac = m;
        }

        // string(./mtu/@size): the first <mtu> that has a size attribute
        string? mtu = null;
        foreach (DomElement e in root.Elements("mtu"))
        {
            if (e.Attributes.Exists(a => a.NamespaceUri.Length == 0 && a.LocalName == "size"))
            {
                mtu = e.AttrString("size");
                break;
            }
        }
        if (mtu is not null)
        {
            if (!CNumber.TryParseUInt(mtu, 10, out uint mtuVal))
                throw Err(VirErrorCode.XmlError, $"Invalid mtu size '{mtu}' in network '{def.Name}'");
            def.Mtu = mtuVal;
        }

        if (root.Element("dns") is { } dns)
            def.Dns = ParseDns(def.Name, dns);

        if (root.Element("virtualport") is { } vport)
            def.VirtualPort = NetDevParser.ParseVirtualPort(vport, NetDevParser.VPortFlags.RequireType);

        foreach (DomElement pg in root.Elements("portgroup"))
            def.PortGroups.Add(ParsePortGroup(pg));

        foreach (DomElement ip in root.Elements("ip"))
            def.Ips.Add(ParseIp(def.Name, ip));

        foreach (DomElement route in root.Elements("route"))
            def.Routes.Add(NetDevParser.ParseRoute(def.Name, route));
        CheckRouteGateways(def);

        if (root.Element("forward") is { } forward)
            def.Forward = ParseForward(def.Name, forward);

        CheckForwardMode(def, stp is not null);

        DomElement? metadata = root.Element("metadata");
        if (metadata is not null && metadata.ChildElements().Any())
            def.Metadata = NetworkMetadata.CopyForStorage(metadata);

        def.DnsmasqOptions = ParseDnsmasqOptions(root);
        return def;
    }

    /// <summary>
    /// Each static route's gateway must be directly reachable through one of the network's
    /// addresses. libvirt compares every route with every address; the addresses are grouped by
    /// family and prefix here so that the cost stays linear.
    /// </summary>
    private static void CheckRouteGateways(NetworkDef def)
    {
        if (def.Routes.Count == 0) return;
        var networks = new Dictionary<(AddressFamily Family, int Prefix), HashSet<string>>();
        foreach (IpDef ip in def.Ips)
        {
            int prefix = ip.GetPrefix();
            SocketAddr net = ip.Address.MaskByPrefix(prefix);
            if (!net.IsValid) continue;
            if (!networks.TryGetValue((ip.Address.Family, prefix), out HashSet<string>? set))
                networks[(ip.Address.Family, prefix)] = set = new HashSet<string>(StringComparer.Ordinal);
            set.Add(Convert.ToHexString(net.Bytes));
        }
        foreach (IpRouteDef route in def.Routes)
        {
            SocketAddr gw = route.Gateway;
            bool match = false;
            foreach (var ((family, prefix), set) in networks)
            {
                if (family != gw.Family) continue;
                SocketAddr testGw = gw.MaskByPrefix(prefix);
                if (testGw.IsValid && set.Contains(Convert.ToHexString(testGw.Bytes)))
                {
                    match = true;
                    break;
                }
            }
            if (!match)
                throw Err(VirErrorCode.ConfigUnsupported,
                    $"unreachable static route gateway '{gw.Format()}' specified for network '{def.Name}'");
        }
    }

    /// <summary>The checks of items that must agree with the forward mode.</summary>
    private static void CheckForwardMode(NetworkDef def, bool stpGiven)
    {
        ForwardType type = def.Forward.Type;
        string mode = type.ToXml();
        switch (type)
        {
            case ForwardType.None:
                break;
            case ForwardType.Route:
            case ForwardType.Nat:
                if (def.Ips.Count == 0)
                    throw Err(VirErrorCode.XmlError,
                        $"{mode} forwarding requested, but no IP address provided for network '{def.Name}'");
                if (def.Forward.Interfaces.Count > 1)
                    throw Err(VirErrorCode.XmlError,
                        $"multiple forwarding interfaces specified for network '{def.Name}', only one is supported");
                break;
            case ForwardType.Open:
                // since 10.8 an open network needs no <ip>
                if (def.Forward.Interfaces.Count > 0)
                    throw Err(VirErrorCode.XmlError,
                        $"forward dev not allowed for network '{def.Name}' with forward mode='{mode}'");
                break;
            case ForwardType.Private:
            case ForwardType.Vepa:
            case ForwardType.Passthrough:
            case ForwardType.Hostdev:
            case ForwardType.Bridge:
                if (type != ForwardType.Bridge)
                {
                    if (def.Bridge is not null)
                        throw Err(VirErrorCode.XmlError, $"bridge name not allowed in {mode} mode (network '{def.Name}')");
                    if (def.BridgeZone is not null)
                        throw Err(VirErrorCode.XmlError, $"bridge zone not allowed in {mode} mode (network '{def.Name}')");
                    if (def.MacTableManager != MacTableManager.Default)
                        throw Err(VirErrorCode.XmlError,
                            $"bridge macTableManager setting not allowed in {mode} mode (network '{def.Name}')");
                }
                if (def.Delay != 0 || stpGiven || def.BridgeZone is not null)
                    throw Err(VirErrorCode.XmlError,
                        $"bridge delay/stp/zone options only allowed in open, route, nat, and isolated mode, not in {mode} (network '{def.Name}')");
                if (def.Bridge is not null && (def.Forward.Interfaces.Count > 0 || def.Forward.Pfs.Count > 0))
                    throw Err(VirErrorCode.XmlError,
                        $"A network with forward mode='{mode}' can specify a bridge name or a forward dev, but not both (network '{def.Name}')");
                break;
        }

        if (def.Mtu != 0 && type is ForwardType.Bridge or ForwardType.Private or ForwardType.Vepa
                or ForwardType.Passthrough or ForwardType.Hostdev)
            throw Err(VirErrorCode.XmlError,
                $"mtu size only allowed in open, route, nat, and isolated mode, not in {mode} (network '{def.Name}')");
    }

    /// <summary>virNetworkPortGroupParseXML.</summary>
    internal static PortGroupDef ParsePortGroup(DomElement node)
    {
        var pg = new PortGroupDef
        {
            Name = node.AttrString("name") ?? throw Err(VirErrorCode.XmlError, "Missing required name attribute in portgroup"),
        };
        string? isDefault = node.AttrString("default");
        pg.IsDefault = isDefault is not null && string.Equals(isDefault, "yes", StringComparison.OrdinalIgnoreCase);
        pg.TrustGuestRxFilters = TristateBool(node, "trustGuestRxFilters");
        if (node.Element("virtualport") is { } vp)
            pg.VirtualPort = NetDevParser.ParseVirtualPort(vp, NetDevParser.VPortFlags.None);
        if (node.Element("bandwidth") is { } bw)
            pg.Bandwidth = NetDevParser.ParseBandwidth(bw, allowClassId: false, allowFloor: false, out _);
        if (node.Element("vlan") is { } vlan)
            pg.Vlan = NetDevParser.ParseVlan(vlan);
        return pg;
    }

    /// <summary>The dnsmasq namespace: ./dnsmasq:options/dnsmasq:option/@value, in order.</summary>
    private static List<string>? ParseDnsmasqOptions(DomElement root)
    {
        List<string>? options = null;
        foreach (DomElement opts in root.ChildElements())
        {
            if (opts.NamespaceUri != DnsmasqNamespaceUri || opts.LocalName != "options") continue;
            foreach (DomElement opt in opts.ChildElements())
            {
                if (opt.NamespaceUri != DnsmasqNamespaceUri || opt.LocalName != "option") continue;
                string value = opt.Prop("value") ?? throw Err(VirErrorCode.InternalError, "No dnsmasq options value specified");
                (options ??= []).Add(value);
            }
        }
        return options;
    }
}
