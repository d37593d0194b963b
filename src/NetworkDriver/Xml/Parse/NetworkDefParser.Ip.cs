using System.Globalization;
using System.Net.Sockets;
using VirtNetworkd.Errors;
using VirtNetworkd.NetworkDriver.Xml.Dom;
using VirtNetworkd.NetworkDriver.Xml.Net;
using static VirtNetworkd.NetworkDriver.Xml.Parse.XmlProps;

namespace VirtNetworkd.NetworkDriver.Xml.Parse;

internal static partial class NetworkDefParser
{
    /// <summary>virNetworkIPDefParseXML.</summary>
    internal static IpDef ParseIp(string networkName, DomElement node)
    {
        var def = new IpDef { Family = node.AttrString("family") };

        string address = node.AttrString("address")
            ?? throw Err(VirErrorCode.XmlError, $"Missing required address attribute in network '{networkName}'");
        if (!SocketAddr.TryParse(address, out SocketAddr addr))
            throw Err(VirErrorCode.XmlError, $"Invalid address '{address}' in network '{networkName}'");
        def.Address = addr;

        string? netmask = node.AttrString("netmask");
        if (netmask is not null)
        {
            if (!SocketAddr.TryParse(netmask, out SocketAddr nm))
                throw Err(VirErrorCode.XmlError, $"Invalid netmask '{netmask}' in network '{networkName}'");
            def.Netmask = nm;
        }

        UInt(node, "prefix", 10, PropFlags.None, out uint prefix);
        def.Prefix = prefix;
        def.LocalPtr = TristateBool(node, "localPtr");

        if (def.Family is null || def.Family == "ipv4")
        {
            if (!(addr.IsIPv4 || !addr.IsValid))
                throw Err(VirErrorCode.ConfigUnsupported,
                    $"{(def.Family is null ? "no" : "ipv4")} family specified for non-IPv4 address '{address}' in network '{networkName}'");
            if (netmask is not null)
            {
                if (!def.Netmask.IsIPv4)
                    throw Err(VirErrorCode.ConfigUnsupported,
                        $"Invalid netmask '{netmask}' for address '{address}' in network '{networkName}' (both must be IPv4)");
                if (def.Prefix > 0)
                    throw Err(VirErrorCode.ConfigUnsupported,
                        $"Network '{networkName}' IP address cannot have both a prefix and a netmask");
            }
            else if (def.Prefix > 32)
            {
                throw Err(VirErrorCode.ConfigUnsupported,
                    string.Create(CultureInfo.InvariantCulture, $"Invalid IPv4 prefix '{def.Prefix}' in network '{networkName}'"));
            }
        }
        else if (def.Family == "ipv6")
        {
            if (!addr.IsIPv6)
                throw Err(VirErrorCode.ConfigUnsupported,
                    $"Family 'ipv6' specified for non-IPv6 address '{address}' in network '{networkName}'");
            if (netmask is not null)
                throw Err(VirErrorCode.ConfigUnsupported,
                    $"netmask not allowed for IPv6 address '{address}' in network '{networkName}'");
            if (def.Prefix > 128)
                throw Err(VirErrorCode.ConfigUnsupported,
                    string.Create(CultureInfo.InvariantCulture, $"Invalid IPv6 prefix '{def.Prefix}' in network '{networkName}'"));
        }
        else
        {
            throw Err(VirErrorCode.XmlError, $"Unrecognized family '{def.Family}' in network '{networkName}'");
        }

        if (node.Element("dhcp") is { } dhcp)
            ParseDhcp(networkName, dhcp, def);

        if (node.Element("tftp") is { } tftp)
        {
            if (!addr.IsIPv4)
                throw Err(VirErrorCode.ConfigUnsupported,
                    $"Unsupported <tftp> element in an IPv6 element in network '{networkName}'");
            def.TftpRoot = tftp.AttrString("root");
        }
        return def;
    }

    /// <summary>virNetworkDHCPDefParseXML: all ranges, then all hosts, then bootp (IPv4 only).</summary>
    private static void ParseDhcp(string networkName, DomElement node, IpDef def)
    {
        foreach (DomElement r in node.SubElements("range"))
            def.Ranges.Add(ParseDhcpRange(networkName, def, r));
        foreach (DomElement h in node.SubElements("host"))
            def.Hosts.Add(ParseDhcpHost(networkName, def, h, partialOkay: false));

        if (node.SubElement("bootp") is { } bootp && def.Address.IsIPv4)
        {
            string? server = bootp.Prop("server");
            def.BootFile = StringRequired(bootp, "file");
            if (server is not null) def.BootServer = SocketAddr.Parse(server);
        }
    }

    /// <summary>virNetworkDHCPLeaseTimeDefParseXML: null when there is no expiry attribute.</summary>
    private static DhcpLeaseTime? ParseLease(DomElement node)
    {
        if (ULongLong(node, "expiry", 0, PropFlags.None, out ulong expiry) == 0) return null;
        Enum(node, "unit", NetworkNames.DhcpLeaseUnit, PropFlags.None, out int unit, (int)DhcpLeaseUnit.Minutes);
        var u = (DhcpLeaseUnit)unit;
        if (expiry > 0 && ((u == DhcpLeaseUnit.Seconds && expiry < 120) || (u == DhcpLeaseUnit.Minutes && expiry < 2)))
            throw Err(VirErrorCode.ConfigUnsupported, "The minimum lease time should be greater than 2 minutes");
        return new DhcpLeaseTime { Expiry = expiry, Unit = u };
    }

    /// <summary>virNetworkDHCPRangeDefParseXML.</summary>
    internal static DhcpRangeDef ParseDhcpRange(string networkName, IpDef ipdef, DomElement node)
    {
        var range = new DhcpRangeDef();
        string start = node.Prop("start")
            ?? throw Err(VirErrorCode.XmlError, $"Missing 'start' attribute in dhcp range for network '{networkName}'");
        range.Start = SocketAddr.Parse(start);
        string end = node.Prop("end")
            ?? throw Err(VirErrorCode.XmlError, $"Missing 'end' attribute in dhcp range for network '{networkName}'");
        range.End = SocketAddr.Parse(end);

        SocketAddr.GetRange(range.Start, range.End, ipdef.Address, ipdef.GetPrefix());

        if (node.SubElement("lease") is { } lease)
            range.Lease = ParseLease(lease);
        return range;
    }

    private static bool IsAsciiAlnum(char c) => c is >= 'a' and <= 'z' or >= 'A' and <= 'Z' or >= '0' and <= '9';

    /// <summary>virNetworkDHCPHostDefParseXML.</summary>
    internal static DhcpHostDef ParseDhcpHost(string networkName, IpDef def, DomElement node, bool partialOkay)
    {
        string? mac = node.Prop("mac");
        if (mac is not null)
        {
            if (def.Address.IsIPv6)
                throw Err(VirErrorCode.XmlError,
                    $"Invalid to specify MAC address '{mac}' in network '{networkName}' IPv6 static host definition");
            if (!MacAddr.TryParse(mac, out MacAddr m))
                throw Err(VirErrorCode.XmlError, $"Cannot parse MAC address '{mac}' in network '{networkName}'");
            if (m.IsMulticast)
                throw Err(VirErrorCode.XmlError,
                    $"expected unicast mac address, found multicast '{mac}' in network '{networkName}'");
        }

        string? id = node.Prop("id");
        if (id is not null)
        {
            int bad = id.AsSpan().IndexOfAnyExcept("0123456789abcdefABCDEF:");
            if (bad >= 0)
                throw Err(VirErrorCode.XmlError, $"Invalid character '{id[bad]}' in id '{id}' of network '{networkName}'");
        }

        string? name = node.Prop("name");
        if (name is not null && (name.Length == 0 || !IsAsciiAlnum(name[0])))
            throw Err(VirErrorCode.XmlError, $"Cannot use host name '{name}' in network '{networkName}'");

        string? ip = node.Prop("ip");
        SocketAddr inaddr = default;
        if (ip is not null && !SocketAddr.TryParse(ip, out inaddr))
            throw Err(VirErrorCode.XmlError, $"Invalid IP address in static host definition for network '{networkName}'");

        if (partialOkay)
        {
            if (mac is null && name is null && ip is null)
                throw Err(VirErrorCode.XmlError,
                    $"At least one of name, mac, or ip attribute must be specified for static host definition in network '{networkName}'");
        }
        else
        {
            if (def.Address.IsIPv6)
            {
                if (id is null && name is null)
                    throw Err(VirErrorCode.XmlError,
                        $"Static host definition in IPv6 network '{networkName}' must have id or name attribute");
            }
            else if (mac is null && name is null)
            {
                throw Err(VirErrorCode.XmlError,
                    $"Static host definition in IPv4 network '{networkName}' must have mac or name attribute");
            }
            if (ip is null)
                throw Err(VirErrorCode.XmlError,
                    $"Missing IP address in static host definition for network '{networkName}'");
        }

        var host = new DhcpHostDef { Mac = mac, Id = id, Name = name, Ip = inaddr };
        if (node.SubElement("lease") is { } lease)
            host.Lease = ParseLease(lease);
        return host;
    }
}
