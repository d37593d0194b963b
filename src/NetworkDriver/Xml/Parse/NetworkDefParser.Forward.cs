using System.Globalization;
using System.Net.Sockets;
using VirtNetworkd.Errors;
using VirtNetworkd.NetworkDriver.Xml.Dom;
using VirtNetworkd.NetworkDriver.Xml.Net;
using static VirtNetworkd.NetworkDriver.Xml.Parse.XmlProps;

namespace VirtNetworkd.NetworkDriver.Xml.Parse;

internal static partial class NetworkDefParser
{
    /// <summary>virNetworkForwardDefParseXML.</summary>
    private static ForwardDef ParseForward(string networkName, DomElement node)
    {
        var def = new ForwardDef();
        string? type = node.AttrString("mode");
        if (type is null)
        {
            def.Type = ForwardType.Nat;
        }
        else
        {
            int t = NetworkNames.Lookup(NetworkNames.ForwardType, type);
            if (t < 0) throw Err(VirErrorCode.ConfigUnsupported, $"unknown forwarding type '{type}'");
            def.Type = (ForwardType)t;
        }

        string? managed = node.AttrString("managed");
        def.Managed = managed is not null && string.Equals(managed, "yes", StringComparison.OrdinalIgnoreCase);

        if (node.Element("driver") is { } driver)
            def.Driver = NetDevParser.ParsePciDriver(driver);

        var ifNodes = node.Elements("interface").ToList();
        var addrNodes = node.Elements("address").ToList();
        var pfNodes = node.Elements("pf").ToList();
        var natNodes = node.Elements("nat").ToList();

        if (natNodes.Count > 1)
            throw Err(VirErrorCode.XmlError, $"Only one <nat> element is allowed in <forward> of network {networkName}");
        if (natNodes.Count == 1)
            ParseNat(networkName, natNodes[0], def);

        string? forwardDev = node.AttrString("dev");
        if (forwardDev is not null && (addrNodes.Count > 0 || pfNodes.Count > 0))
            throw Err(VirErrorCode.XmlError,
                $"the <forward> 'dev' attribute cannot be used when <address> or <pf> sub-elements are present in network {networkName}");

        if (ifNodes.Count > 0 || forwardDev is not null)
        {
            // duplicates are found with a set: libvirt's pairwise loop is quadratic
            var seenDevs = new HashSet<string>(StringComparer.Ordinal);
            if (forwardDev is not null)
            {
                def.Interfaces.Add(new ForwardIfDef { Type = HostdevDeviceType.Netdev, Dev = forwardDev });
                seenDevs.Add(forwardDev);
            }

            for (int i = 0; i < ifNodes.Count; i++)
            {
                string dev = ifNodes[i].Prop("dev")
                    ?? throw Err(VirErrorCode.XmlError,
                        $"Missing required dev attribute in <forward> <interface> element of network {networkName}");
                if (i == 0 && def.Interfaces.Count == 1)
                {
                    // both <forward dev='x'> and <interface dev='x'/>: they must match
                    if (dev != def.Interfaces[0].Dev)
                        throw Err(VirErrorCode.XmlError,
                            $"<forward dev='{def.Interfaces[0].Dev}'> must match first <interface dev='{dev}'/> in network {networkName}");
                    continue;
                }
                if (!seenDevs.Add(dev))
                    throw Err(VirErrorCode.XmlError, $"interface '{dev}' can only be listed once in network {networkName}");
                def.Interfaces.Add(new ForwardIfDef { Type = HostdevDeviceType.Netdev, Dev = dev });
            }
        }
        else if (addrNodes.Count > 0)
        {
            var seenPci = new HashSet<(uint, uint, uint, uint)>();
            foreach (DomElement a in addrNodes)
            {
                string addrType = a.Prop("type")
                    ?? throw Err(VirErrorCode.XmlError, $"missing address type in network {networkName}");
                int t = NetworkNames.Lookup(NetworkNames.HostdevDeviceType, addrType);
                if (t < 0)
                    throw Err(VirErrorCode.ConfigUnsupported, $"unknown address type '{addrType}' in network {networkName}");
                if ((HostdevDeviceType)t != HostdevDeviceType.Pci)
                    throw Err(VirErrorCode.XmlError, $"unsupported address type '{addrType}' in network {networkName}");

                PciAddress pci = NetDevParser.ParsePciAddress(a);
                if (!seenPci.Add((pci.Domain, pci.Bus, pci.Slot, pci.Function)))
                    throw Err(VirErrorCode.XmlError, string.Create(CultureInfo.InvariantCulture,
                        $"PCI device '{pci.Domain:x4}:{pci.Bus:x2}:{pci.Slot:x2}.{pci.Function:x}' can only be listed once in network {networkName}"));
                def.Interfaces.Add(new ForwardIfDef { Type = HostdevDeviceType.Pci, Pci = pci });
            }
        }
        else if (pfNodes.Count > 1)
        {
            throw Err(VirErrorCode.XmlError, $"Only one <pf> element is allowed in <forward> of network {networkName}");
        }
        else if (pfNodes.Count == 1)
        {
            string dev = pfNodes[0].Prop("dev")
                ?? throw Err(VirErrorCode.XmlError, $"Missing required dev attribute in <pf> element of network '{networkName}'");
            def.Pfs.Add(new ForwardPfDef { Dev = dev });
        }
        return def;
    }

    /// <summary>virNetworkForwardNatDefParseXML.</summary>
    private static void ParseNat(string networkName, DomElement node, ForwardDef def)
    {
        if (def.Type != ForwardType.Nat)
            throw Err(VirErrorCode.XmlError,
                $"The <nat> element can only be used when <forward> 'mode' is 'nat' in network {networkName}");

        def.NatIpv6 = TristateBool(node, "ipv6");

        var addrs = node.Elements("address").ToList();
        string? addrStart = null, addrEnd = null;
        if (addrs.Count > 1)
            throw Err(VirErrorCode.XmlError, $"Only one <address> element is allowed in <nat> in <forward> in network {networkName}");
        if (addrs.Count == 1)
        {
            addrStart = addrs[0].Prop("start")
                ?? throw Err(VirErrorCode.XmlError,
                    $"missing 'start' attribute in <address> element in <nat> in <forward> in network {networkName}");
            addrEnd = addrs[0].Prop("end")
                ?? throw Err(VirErrorCode.XmlError,
                    $"missing 'end' attribute in <address> element in <nat> in <forward> in network {networkName}");
        }

        if (addrStart is not null)
        {
            if (!SocketAddr.TryParse(addrStart, AddressFamily.InterNetwork, out SocketAddr s, out _))
                throw Err(VirErrorCode.XmlError, $"Bad ipv4 start address '{addrStart}' in <nat> in <forward> in network '{networkName}'");
            def.NatAddressStart = s;
        }
        if (addrEnd is not null)
        {
            if (!SocketAddr.TryParse(addrEnd, AddressFamily.InterNetwork, out SocketAddr e, out _))
                throw Err(VirErrorCode.XmlError, $"Bad ipv4 end address '{addrEnd}' in <nat> in <forward> in network '{networkName}'");
            def.NatAddressEnd = e;
        }
        if (addrStart is not null && addrEnd is not null)
            SocketAddr.GetRange(def.NatAddressStart, def.NatAddressEnd, null, 0);

        var ports = node.Elements("port").ToList();
        if (ports.Count > 1)
            throw Err(VirErrorCode.XmlError, $"Only one <port> element is allowed in <nat> in <forward> in network {networkName}");
        if (ports.Count == 1)
        {
            if (XPathUInt(ports[0].AttrString("start"), out uint start) < 0 || start > 65535)
                throw Err(VirErrorCode.XmlDetail,
                    $"Missing or invalid 'start' attribute in <port> in <nat> in <forward> in network {networkName}");
            def.NatPortStart = start;
            if (XPathUInt(ports[0].AttrString("end"), out uint end) < 0 || end > 65535 || end < start)
                throw Err(VirErrorCode.XmlDetail,
                    $"Missing or invalid 'end' attribute in <port> in <nat> in <forward> in network {networkName}");
            def.NatPortEnd = end;
        }
    }
}
