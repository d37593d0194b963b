using System.Globalization;
using System.Net.Sockets;
using VirtNetworkd.Errors;
using VirtNetworkd.NetworkDriver.Xml.Dom;
using VirtNetworkd.NetworkDriver.Xml.Net;
using VirtNetworkd.NetworkDriver.Xml.Parse;

namespace VirtNetworkd.NetworkDriver.Xml.Update;

/// <summary>virNetworkUpdateCommand (libvirt-network.h).</summary>
public enum NetworkUpdateCommand
{
    None = 0,
    Modify = 1,
    Delete = 2,
    AddLast = 3,
    AddFirst = 4,
}

/// <summary>virNetworkUpdateSection (libvirt-network.h).</summary>
public enum NetworkUpdateSection
{
    None = 0,
    Bridge = 1,
    Domain = 2,
    Ip = 3,
    IpDhcpHost = 4,
    IpDhcpRange = 5,
    Forward = 6,
    ForwardInterface = 7,
    ForwardPf = 8,
    PortGroup = 9,
    DnsHost = 10,
    DnsTxt = 11,
    DnsSrv = 12,
}

/// <summary>virNetworkUpdateFlags.</summary>
[Flags]
public enum NetworkUpdateFlags : uint
{
    AffectCurrent = 0,
    AffectLive = 1u << 0,
    AffectConfig = 1u << 1,
}

/// <summary>
/// net-update on a definition: virNetworkDefUpdateSection (network_conf.c, libvirt 10.8
/// behaviour, in which DNS host and TXT records can be modified).
/// </summary>
public static class NetworkUpdate
{
    private static LibvirtError Err(VirErrorCode code, string detail) => new(code, VirErrorDomain.Network, detail);
    private static string D(long v) => v.ToString(CultureInfo.InvariantCulture);

    /// <summary>
    /// Applies one update to <paramref name="def"/> in place. <paramref name="command"/> and
    /// <paramref name="section"/> are the wire values; unknown ones give libvirt's errors. On
    /// error <paramref name="def"/> is unchanged.
    /// </summary>
    public static void Apply(NetworkDef def, int command, int section, int parentIndex, string xml, uint flags)
    {
        ArgumentNullException.ThrowIfNull(def);
        ArgumentNullException.ThrowIfNull(xml);
        _ = flags; // the section handlers do not look at the flags, as in libvirt
        DomElement node = SafeXmlParser.Parse(xml, null, VirErrorDomain.Network);
        var cmd = (NetworkUpdateCommand)command;

        switch ((NetworkUpdateSection)section)
        {
            case NetworkUpdateSection.Bridge: throw NoSupport(def, "bridge");
            case NetworkUpdateSection.Domain: throw NoSupport(def, "domain");
            case NetworkUpdateSection.Ip: throw NoSupport(def, "ip");
            case NetworkUpdateSection.IpDhcpHost: UpdateDhcpHost(def, cmd, parentIndex, node); break;
            case NetworkUpdateSection.IpDhcpRange: UpdateDhcpRange(def, cmd, parentIndex, node); break;
            case NetworkUpdateSection.Forward: throw NoSupport(def, "forward");
            case NetworkUpdateSection.ForwardInterface: UpdateForwardInterface(def, cmd, node); break;
            case NetworkUpdateSection.ForwardPf: throw NoSupport(def, "forward pf");
            case NetworkUpdateSection.PortGroup: UpdatePortGroup(def, cmd, node); break;
            case NetworkUpdateSection.DnsHost: UpdateDnsHost(def, cmd, node); break;
            case NetworkUpdateSection.DnsTxt: UpdateDnsTxt(def, cmd, node); break;
            case NetworkUpdateSection.DnsSrv: UpdateDnsSrv(def, cmd, node); break;
            default:
                throw Err(VirErrorCode.OperationUnsupported, "can't update unrecognized section of network");
        }
    }

    /// <summary>
    /// What virNetworkObjUpdate does with each definition it touches: work on a copy, apply the
    /// update, then format and parse the result once more so that nothing illegal slips in.
    /// Returns the updated copy; <paramref name="def"/> is never changed.
    /// </summary>
    public static NetworkDef ApplyToCopy(NetworkDef def, int command, int section, int parentIndex, string xml,
                                         uint flags, NetworkFormatFlags checkFormat)
    {
        NetworkDef copy = def.Clone();
        Apply(copy, command, section, parentIndex, xml, flags);
        NetworkXml.Reparse(copy, checkFormat);
        return copy;
    }

    private static LibvirtError NoSupport(NetworkDef def, string section) =>
        Err(VirErrorCode.OperationUnsupported, $"can't update '{section}' section of network '{def.Name}'");

    private static LibvirtError UnknownCommand(NetworkUpdateCommand command) =>
        Err(VirErrorCode.OperationUnsupported, $"unrecognized network update command code {D((int)command)}");

    private static void CheckElementName(NetworkDef def, DomElement node, string section)
    {
        if (node.LocalName != section)
            throw Err(VirErrorCode.XmlError,
                $"unexpected element <{node.LocalName}>, expecting <{section}>, while updating network '{def.Name}'");
    }

    private static bool IsAdd(NetworkUpdateCommand c) => c is NetworkUpdateCommand.AddFirst or NetworkUpdateCommand.AddLast;

    private static void Insert<T>(List<T> list, NetworkUpdateCommand c, T item)
    {
        if (c == NetworkUpdateCommand.AddFirst) list.Insert(0, item);
        else list.Add(item);
    }

    // ------------------------------------------------------------------ ip/dhcp

    /// <summary>virNetworkIPDefByIndex: the &lt;ip&gt; a dhcp update applies to (its error, if any, is returned).</summary>
    private static IpDef? IpDefByIndex(NetworkDef def, int parentIndex, out LibvirtError? error)
    {
        error = null;
        if (parentIndex >= 0)
        {
            IpDef? ip = def.GetIpByIndex(AddressFamily.Unspecified, parentIndex);
            if (ip is null)
                error = Err(VirErrorCode.OperationInvalid,
                    $"couldn't update dhcp host entry - no <ip> element found at index {D(parentIndex)} in network '{def.Name}'");
            return ip;
        }
        // -1: the one <ip> that has dhcp, else the first IPv4, else the first IPv6
        IpDef? found = def.Ips.Find(ip => ip.Ranges.Count > 0 || ip.Hosts.Count > 0)
                       ?? def.GetIpByIndex(AddressFamily.InterNetwork, 0)
                       ?? def.GetIpByIndex(AddressFamily.InterNetworkV6, 0);
        if (found is null)
            error = Err(VirErrorCode.OperationInvalid,
                $"couldn't update dhcp host entry - no <ip> element found in network '{def.Name}'");
        return found;
    }

    /// <summary>virNetworkDefUpdateCheckMultiDHCP: only one &lt;ip&gt; per family may have dhcp.</summary>
    private static void CheckMultiDhcp(NetworkDef def, IpDef ipdef)
    {
        AddressFamily family = ipdef.Address.Family;
        foreach (IpDef ip in def.Ips)
        {
            if (ip.Address.Family != family || ReferenceEquals(ip, ipdef)) continue;
            if (ip.Ranges.Count > 0 || ip.Hosts.Count > 0)
                throw Err(VirErrorCode.OperationInvalid,
                    $"dhcp is supported only for a single {(family == AddressFamily.InterNetwork ? "IPv4" : "IPv6")} address on each network");
        }
    }

    private static void UpdateDhcpHost(NetworkDef def, NetworkUpdateCommand command, int parentIndex, DomElement node)
    {
        IpDef? ipdef = IpDefByIndex(def, parentIndex, out LibvirtError? ipError);
        bool partialOkay = command == NetworkUpdateCommand.Delete;
        CheckElementName(def, node, "host");
        if (ipdef is null) throw ipError!;

        DhcpHostDef host = NetworkDefParser.ParseDhcpHost(def.Name, ipdef, node, partialOkay);
        if (!partialOkay && ipdef.Address.Family != host.Ip.Family)
            throw Err(VirErrorCode.OperationInvalid,
                "the address family of a host entry IP must match the address family of the dhcp element's parent");

        string HostIp() => host.Ip.Format() ?? "unknown";

        switch (command)
        {
            case NetworkUpdateCommand.Modify:
            {
                int i = ipdef.Hosts.FindIndex(h =>
                    (host.Mac is not null && h.Mac is not null && MacAddr.CompareStrings(host.Mac, h.Mac) == 0) ||
                    (host.Ip.IsValid && host.Ip == h.Ip) ||
                    (host.Name is not null && host.Name == h.Name));
                if (i < 0)
                    throw Err(VirErrorCode.OperationInvalid,
                        $"couldn't locate an existing dhcp host entry with \"mac='{host.Mac ?? "unknown"}'\" \"name='{NetworkDefParser.N(host.Name)}'\" \"ip='{HostIp()}'\" in network '{def.Name}'");
                ipdef.Hosts[i] = host;
                break;
            }
            case NetworkUpdateCommand.AddFirst:
            case NetworkUpdateCommand.AddLast:
            {
                CheckMultiDhcp(def, ipdef);
                bool exists = ipdef.Hosts.Exists(h =>
                    (host.Mac is not null && h.Mac is not null && MacAddr.CompareStrings(host.Mac, h.Mac) == 0) ||
                    (host.Name is not null && host.Name == h.Name) ||
                    (host.Ip.IsValid && host.Ip == h.Ip));
                if (exists)
                    throw Err(VirErrorCode.OperationInvalid,
                        $"there is an existing dhcp host entry in network '{def.Name}' that matches \"<host mac='{host.Mac ?? "unknown"}' name='{NetworkDefParser.N(host.Name)}' ip='{HostIp()}'/>\"");
                Insert(ipdef.Hosts, command, host);
                break;
            }
            case NetworkUpdateCommand.Delete:
            {
                // every attribute given must match
                int i = ipdef.Hosts.FindIndex(h =>
                    (host.Mac is null || h.Mac is null || MacAddr.CompareStrings(host.Mac, h.Mac) == 0) &&
                    (host.Name is null || host.Name == h.Name) &&
                    (!host.Ip.IsValid || host.Ip == h.Ip));
                if (i < 0)
                    throw Err(VirErrorCode.OperationInvalid, $"couldn't locate a matching dhcp host entry in network '{def.Name}'");
                ipdef.Hosts.RemoveAt(i);
                break;
            }
            default:
                throw UnknownCommand(command);
        }
    }

    private static void UpdateDhcpRange(NetworkDef def, NetworkUpdateCommand command, int parentIndex, DomElement node)
    {
        IpDef? ipdef = IpDefByIndex(def, parentIndex, out LibvirtError? ipError);
        CheckElementName(def, node, "range");
        if (ipdef is null) throw ipError!;
        if (command == NetworkUpdateCommand.Modify)
            throw Err(VirErrorCode.OperationUnsupported, "dhcp ranges cannot be modified, only added or deleted");

        DhcpRangeDef range = NetworkDefParser.ParseDhcpRange(def.Name, ipdef, node);
        if (ipdef.Address.Family != range.Start.Family)
            throw Err(VirErrorCode.OperationInvalid,
                "the address family of a dhcp range must match the address family of the dhcp element's parent");

        int i = ipdef.Ranges.FindIndex(r => r.Start == range.Start && r.End == range.End);
        switch (command)
        {
            case NetworkUpdateCommand.AddFirst:
            case NetworkUpdateCommand.AddLast:
                CheckMultiDhcp(def, ipdef);
                if (i >= 0)
                    throw Err(VirErrorCode.OperationInvalid,
                        $"there is an existing dhcp range entry in network '{def.Name}' that matches \"<range start='{range.Start.Format() ?? "unknown"}' end='{range.End.Format() ?? "unknown"}'/>\"");
                Insert(ipdef.Ranges, command, range);
                break;
            case NetworkUpdateCommand.Delete:
                if (i < 0)
                    throw Err(VirErrorCode.OperationInvalid, $"couldn't locate a matching dhcp range entry in network '{def.Name}'");
                ipdef.Ranges.RemoveAt(i);
                break;
            default:
                throw UnknownCommand(command);
        }
    }

    // ------------------------------------------------------------------ forward interface

    private static void UpdateForwardInterface(NetworkDef def, NetworkUpdateCommand command, DomElement node)
    {
        CheckElementName(def, node, "interface");
        if (command == NetworkUpdateCommand.Modify)
            throw Err(VirErrorCode.OperationUnsupported, "forward interface entries cannot be modified, only added or deleted");
        string dev = node.Prop("dev") ?? throw Err(VirErrorCode.XmlError, "missing dev attribute in <interface> element");

        List<ForwardIfDef> ifs = def.Forward.Interfaces;
        int i = ifs.FindIndex(f => f.Type == HostdevDeviceType.Netdev && f.Dev == dev);
        switch (command)
        {
            case NetworkUpdateCommand.AddFirst:
            case NetworkUpdateCommand.AddLast:
                if (i >= 0)
                    throw Err(VirErrorCode.OperationInvalid,
                        $"there is an existing interface entry in network '{def.Name}' that matches \"<interface dev='{dev}'>\"");
                Insert(ifs, command, new ForwardIfDef { Type = HostdevDeviceType.Netdev, Dev = dev });
                break;
            case NetworkUpdateCommand.Delete:
                if (i < 0)
                    throw Err(VirErrorCode.OperationInvalid,
                        $"couldn't find an interface entry in network '{def.Name}' matching <interface dev='{dev}'>");
                if (ifs[i].Connections > 0)
                    throw Err(VirErrorCode.OperationInvalid,
                        $"unable to delete interface '{dev}' in network '{def.Name}'. It is currently being used by {D(ifs[i].Connections)} domains.");
                ifs.RemoveAt(i);
                break;
            default:
                throw UnknownCommand(command);
        }
    }

    // ------------------------------------------------------------------ portgroup

    private static void UpdatePortGroup(NetworkDef def, NetworkUpdateCommand command, DomElement node)
    {
        CheckElementName(def, node, "portgroup");
        PortGroupDef pg = NetworkDefParser.ParsePortGroup(node);

        int foundName = -1, foundDefault = -1;
        for (int i = 0; i < def.PortGroups.Count; i++)
        {
            if (def.PortGroups[i].Name == pg.Name) foundName = i;
            if (def.PortGroups[i].IsDefault) foundDefault = i;
        }
        if (foundName == -1 && command is NetworkUpdateCommand.Modify or NetworkUpdateCommand.Delete)
            throw Err(VirErrorCode.OperationInvalid,
                $"couldn't find a portgroup entry in network '{def.Name}' matching <portgroup name='{pg.Name}'>");
        if (foundName >= 0 && IsAdd(command))
            throw Err(VirErrorCode.OperationInvalid,
                $"there is an existing portgroup entry in network '{def.Name}' that matches \"<portgroup name='{pg.Name}'>\"");
        if (command != NetworkUpdateCommand.Delete && pg.IsDefault && foundDefault >= 0 && foundDefault != foundName)
            throw Err(VirErrorCode.OperationInvalid,
                $"a different portgroup entry in network '{def.Name}' is already set as the default. Only one default is allowed.");

        switch (command)
        {
            case NetworkUpdateCommand.Modify:
                def.PortGroups[foundName] = pg;
                break;
            case NetworkUpdateCommand.AddFirst:
            case NetworkUpdateCommand.AddLast:
                Insert(def.PortGroups, command, pg);
                break;
            case NetworkUpdateCommand.Delete:
                def.PortGroups.RemoveAt(foundName);
                break;
            default:
                throw UnknownCommand(command);
        }
    }

    // ------------------------------------------------------------------ dns

    private static void UpdateDnsHost(NetworkDef def, NetworkUpdateCommand command, DomElement node)
    {
        bool isAdd = IsAdd(command);
        CheckElementName(def, node, "host");
        DnsHostDef host = NetworkDefParser.ParseDnsHost(def.Name, node, partialOkay: !isAdd);
        List<DnsHostDef> hosts = def.Dns.Hosts;

        var names = new HashSet<string>(host.Names, StringComparer.Ordinal);
        int foundIdx = -1, foundIdxModify = -1, foundCt = 0;
        for (int i = 0; i < hosts.Count; i++)
        {
            bool found = host.Ip.IsValid && host.Ip == hosts[i].Ip;
            if (found) foundIdxModify = i;
            // deleting also matches on a host name; adding only refuses a duplicate address
            if (command == NetworkUpdateCommand.Delete && !found)
                found = hosts[i].Names.Exists(names.Contains);
            if (found)
            {
                foundCt++;
                foundIdx = i;
            }
        }

        if (isAdd)
        {
            if (foundCt > 0)
                throw Err(VirErrorCode.OperationInvalid,
                    $"there is already at least one DNS HOST record with a matching field in network {def.Name}");
            Insert(hosts, command, host);
        }
        else if (command is NetworkUpdateCommand.Delete or NetworkUpdateCommand.Modify)
        {
            if (foundCt == 0)
                throw Err(VirErrorCode.OperationInvalid, $"couldn't locate a matching DNS HOST record in network {def.Name}");
            if (foundCt > 1)
                throw Err(VirErrorCode.OperationInvalid, $"multiple matching DNS HOST records were found in network {def.Name}");
            if (command == NetworkUpdateCommand.Delete) hosts.RemoveAt(foundIdx);
            else hosts[foundIdxModify] = host;
        }
        else
        {
            throw UnknownCommand(command);
        }
    }

    private static void UpdateDnsSrv(NetworkDef def, NetworkUpdateCommand command, DomElement node)
    {
        bool isAdd = IsAdd(command);
        if (command == NetworkUpdateCommand.Modify)
            throw Err(VirErrorCode.OperationUnsupported, "DNS SRV records cannot be modified, only added or deleted");
        CheckElementName(def, node, "srv");
        DnsSrvDef srv = NetworkDefParser.ParseDnsSrv(def.Name, node, partialOkay: !isAdd);
        List<DnsSrvDef> srvs = def.Dns.Srvs;

        int foundIdx = -1, foundCt = 0;
        for (int i = 0; i < srvs.Count; i++)
        {
            if ((srv.Domain is null || srv.Domain == srvs[i].Domain) &&
                (srv.Service is null || srv.Service == srvs[i].Service) &&
                (srv.Protocol is null || srv.Protocol == srvs[i].Protocol) &&
                (srv.Target is null || srv.Target == srvs[i].Target))
            {
                foundCt++;
                foundIdx = i;
            }
        }

        if (isAdd)
        {
            if (foundCt > 0)
                throw Err(VirErrorCode.OperationInvalid,
                    $"there is already at least one DNS SRV record matching all specified fields in network {def.Name}");
            Insert(srvs, command, srv);
        }
        else if (command == NetworkUpdateCommand.Delete)
        {
            if (foundCt == 0)
                throw Err(VirErrorCode.OperationInvalid, $"couldn't locate a matching DNS SRV record in network {def.Name}");
            if (foundCt > 1)
                throw Err(VirErrorCode.OperationInvalid,
                    $"multiple DNS SRV records matching all specified fields were found in network {def.Name}");
            srvs.RemoveAt(foundIdx);
        }
        else
        {
            throw UnknownCommand(command);
        }
    }

    private static void UpdateDnsTxt(NetworkDef def, NetworkUpdateCommand command, DomElement node)
    {
        bool isAdd = IsAdd(command);
        CheckElementName(def, node, "txt");
        DnsTxtDef txt = NetworkDefParser.ParseDnsTxt(def.Name, node, partialOkay: !isAdd);
        List<DnsTxtDef> txts = def.Dns.Txts;
        int i = txts.FindIndex(t => t.Name == txt.Name);

        if (isAdd)
        {
            if (i >= 0)
                throw Err(VirErrorCode.OperationInvalid,
                    $"there is already a DNS TXT record with name '{txt.Name}' in network {def.Name}");
            Insert(txts, command, txt);
        }
        else if (command == NetworkUpdateCommand.Delete)
        {
            if (i < 0) throw Err(VirErrorCode.OperationInvalid, $"couldn't locate a matching DNS TXT record in network {def.Name}");
            txts.RemoveAt(i);
        }
        else if (command == NetworkUpdateCommand.Modify)
        {
            if (i < 0) throw Err(VirErrorCode.OperationInvalid, $"couldn't locate a matching DNS TXT record in network {def.Name}");
            if (txt.Value is null)
                throw Err(VirErrorCode.OperationInvalid, $"missing value of modifying DNS TXT record in network {def.Name}");
            txts[i].Value = txt.Value;
        }
        else
        {
            throw UnknownCommand(command);
        }
    }
}
