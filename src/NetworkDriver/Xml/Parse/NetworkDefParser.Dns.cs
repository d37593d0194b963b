using System.Globalization;
using VirtNetworkd.Errors;
using VirtNetworkd.NetworkDriver.Xml.Dom;
using VirtNetworkd.NetworkDriver.Xml.Net;
using static VirtNetworkd.NetworkDriver.Xml.Parse.XmlProps;

namespace VirtNetworkd.NetworkDriver.Xml.Parse;

internal static partial class NetworkDefParser
{
    /// <summary>DNS_RECORD_LENGTH_SRV: 512 minus the RFC 2782 overhead.</summary>
    private const int DnsRecordLengthSrv = 512 - 30;

    /// <summary>Characters of /etc/protocols names, without '.' (the SRV field separator).</summary>
    private const string ProtocolChars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-+/";
    private const string ServiceChars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-+/*";

    /// <summary>C's printf("%s", NULL).</summary>
    internal static string N(string? s) => s ?? "(null)";

    private static bool HasCrLf(string? s) => s is not null && s.AsSpan().IndexOfAny('\r', '\n') >= 0;

    /// <summary>virNetworkDNSDefParseXML.</summary>
    private static DnsDef ParseDns(string networkName, DomElement node)
    {
        var def = new DnsDef
        {
            Enable = TristateBool(node, "enable"),
            ForwardPlainNames = TristateBool(node, "forwardPlainNames"),
        };

        foreach (DomElement f in node.Elements("forwarder"))
        {
            string? addr = f.Prop("addr");
            var fwd = new DnsForwarderDef();
            if (addr is not null)
            {
                if (!SocketAddr.TryParse(addr, out SocketAddr a))
                    throw Err(VirErrorCode.XmlError, $"Invalid forwarder IP address '{addr}' in network '{networkName}'");
                fwd.Addr = a;
            }
            fwd.Domain = f.Prop("domain");
            if (addr is null && fwd.Domain is null)
                throw Err(VirErrorCode.XmlError, "Invalid forwarder element, must contain at least one of addr or domain");
            def.Forwarders.Add(fwd);
        }

        foreach (DomElement h in node.Elements("host"))
            def.Hosts.Add(ParseDnsHost(networkName, h, partialOkay: false));
        foreach (DomElement s in node.Elements("srv"))
            def.Srvs.Add(ParseDnsSrv(networkName, s, partialOkay: false));
        foreach (DomElement t in node.Elements("txt"))
            def.Txts.Add(ParseDnsTxt(networkName, t, partialOkay: false));

        if (def.Enable == Xml.TristateBool.No &&
            (def.Forwarders.Count > 0 || def.Hosts.Count > 0 || def.Srvs.Count > 0 || def.Txts.Count > 0))
            throw Err(VirErrorCode.XmlError, $"Extra data in disabled network '{networkName}'");
        return def;
    }

    /// <summary>virNetworkDNSHostDefParseXML.</summary>
    internal static DnsHostDef ParseDnsHost(string networkName, DomElement node, bool partialOkay)
    {
        var def = new DnsHostDef();
        foreach (DomElement hn in node.SubElements("hostname"))
        {
            string name = hn.StringValue();
            if (name.Length == 0)
                throw Err(VirErrorCode.XmlDetail, $"Missing hostname in network '{networkName}' DNS HOST record");
            def.Names.Add(name);
        }
        if (def.Names.Count == 0 && !partialOkay)
            throw Err(VirErrorCode.XmlDetail, $"Missing hostname in network '{networkName}' DNS HOST record");

        string? ip = node.Prop("ip");
        if (ip is not null)
        {
            if (!SocketAddr.TryParse(ip, out SocketAddr a))
                throw Err(VirErrorCode.XmlDetail, $"Invalid IP address in network '{networkName}' DNS HOST record");
            def.Ip = a;
        }
        else
        {
            if (!partialOkay)
                throw Err(VirErrorCode.XmlDetail, $"Missing IP address in network '{networkName}' DNS HOST record");
            if (def.Names.Count == 0)
                throw Err(VirErrorCode.XmlDetail, $"Missing ip and hostname in network '{networkName}' DNS HOST record");
        }
        return def;
    }

    /// <summary>virNetworkDNSSrvDefParseXML, plus the CR/LF rejection of the 10.8-era security fix.</summary>
    internal static DnsSrvDef ParseDnsSrv(string networkName, DomElement node, bool partialOkay)
    {
        var def = new DnsSrvDef { Service = node.Prop("service") };
        if (def.Service is null && !partialOkay)
            throw Err(VirErrorCode.XmlDetail, $"missing required service attribute in DNS SRV record of network '{networkName}'");
        if (def.Service is not null)
        {
            if (System.Text.Encoding.UTF8.GetByteCount(def.Service) > DnsRecordLengthSrv)
                throw Err(VirErrorCode.XmlDetail, string.Create(CultureInfo.InvariantCulture,
                    $"service attribute '{def.Service}' in network '{networkName}' is too long, limit is {DnsRecordLengthSrv} bytes"));
            if (def.Service.AsSpan().IndexOfAnyExcept(ServiceChars) >= 0)
                throw Err(VirErrorCode.XmlDetail,
                    $"invalid character in service attribute '{def.Service}' in DNS SRV record of network '{networkName}'");
        }

        def.Protocol = node.Prop("protocol");
        if (def.Protocol is null && !partialOkay)
            throw Err(VirErrorCode.XmlDetail,
                $"missing required protocol attribute in DNS SRV record '{N(def.Service)}' of network '{networkName}'");
        if (def.Protocol is not null && def.Protocol.AsSpan().IndexOfAnyExcept(ProtocolChars) >= 0)
            throw Err(VirErrorCode.XmlDetail,
                $"invalid character in protocol attribute '{def.Protocol}' in DNS SRV record of network '{networkName}'");

        def.Domain = node.Prop("domain");
        def.Target = node.Prop("target");

        // Security fix (all maintained branches, after 10.8): a CR or LF would split the
        // srv-host line of the dnsmasq configuration.
        if (HasCrLf(def.Domain))
            throw Err(VirErrorCode.XmlDetail,
                $"DNS SRV record domain for service '{N(def.Service)}' in network '{networkName}' must not contain a carriage return or line feed");
        if (HasCrLf(def.Target))
            throw Err(VirErrorCode.XmlDetail,
                $"DNS SRV record target for service '{N(def.Service)}' in network '{networkName}' must not contain a carriage return or line feed");

        int ret = XPathUInt(node.AttrString("port"), out uint port);
        def.Port = ret == 0 ? port : 0;
        if (ret >= 0 && def.Target is null)
            throw Err(VirErrorCode.XmlDetail,
                $"DNS SRV port attribute not permitted without target for service '{N(def.Service)}' in network '{networkName}'");
        if (ret == -2 || (ret >= 0 && (port < 1 || port > 65535)))
            throw Err(VirErrorCode.XmlDetail,
                $"invalid DNS SRV port attribute for service '{N(def.Service)}' in network '{networkName}'");

        ret = XPathUInt(node.AttrString("priority"), out uint priority);
        def.Priority = ret == 0 ? priority : 0;
        if (ret >= 0 && def.Target is null)
            throw Err(VirErrorCode.XmlDetail,
                $"DNS SRV priority attribute not permitted without target for service '{N(def.Service)}' in network '{networkName}'");
        if (ret == -2 || (ret >= 0 && priority > 65535))
            throw Err(VirErrorCode.XmlDetail,
                $"Invalid DNS SRV priority attribute for service '{N(def.Service)}' in network '{networkName}'");

        ret = XPathUInt(node.AttrString("weight"), out uint weight);
        def.Weight = ret == 0 ? weight : 0;
        if (ret >= 0 && def.Target is null)
            throw Err(VirErrorCode.XmlDetail,
                $"DNS SRV weight attribute not permitted without target for service '{N(def.Service)}' in network '{networkName}'");
        if (ret == -2 || (ret >= 0 && weight > 65535))
            throw Err(VirErrorCode.XmlDetail,
                $"invalid DNS SRV weight attribute for service '{N(def.Service)}' in network '{networkName}'");
        return def;
    }

    /// <summary>virNetworkDNSTxtDefParseXML, plus the CR/LF rejection of the 10.8-era security fix.</summary>
    internal static DnsTxtDef ParseDnsTxt(string networkName, DomElement node, bool partialOkay)
    {
        string name = node.Prop("name")
            ?? throw Err(VirErrorCode.XmlDetail, $"missing required name attribute in DNS TXT record of network {networkName}");
        if (name.AsSpan().IndexOfAny(' ', ',') >= 0)
            throw Err(VirErrorCode.XmlDetail, $"prohibited character in DNS TXT record name '{name}' of network {networkName}");
        string? value = node.Prop("value");
        if (value is null && !partialOkay)
            throw Err(VirErrorCode.XmlDetail,
                $"missing required value attribute in DNS TXT record named '{name}' of network {networkName}");
        // Security fix: a CR or LF would split the txt-record line of the dnsmasq configuration.
        if (HasCrLf(value))
            throw Err(VirErrorCode.XmlDetail,
                $"DNS TXT record named '{name}' of network {networkName} must not contain a carriage return or line feed in its value");
        return new DnsTxtDef { Name = name, Value = value };
    }
}
