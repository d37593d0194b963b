using System.Globalization;
using System.Net.Sockets;
using System.Text;
using VirtNetworkd.Errors;
using VirtNetworkd.NetworkDriver.Xml;
using VirtNetworkd.NetworkDriver.Xml.Net;

namespace VirtNetworkd.NetworkDriver.Backend.Dnsmasq;

/// <summary>What dnsmasq is given for one network: the config file's text and the hosts files' contents.</summary>
public sealed record DnsmasqFiles(string Config, DnsmasqHosts Hosts);

/// <summary>
/// libvirt's networkDnsmasqConfContents (bridge_driver.c): the dnsmasq.conf of a network, and
/// the dhcp-host and addn-hosts entries that go into its hosts files. A pure function of the
/// definition; the output equals libvirt 10.8's byte for byte (tests/networkxml2confdata).
/// </summary>
public static class DnsmasqConfig
{
    /// <summary>Whether a network needs a dnsmasq at all (networkStartDhcpDaemon's first checks).</summary>
    public static bool IsNeeded(NetworkDef def)
    {
        ArgumentNullException.ThrowIfNull(def);
        if (def.Ips.Count == 0) return false;
        bool dhcp = def.Ips.Any(i => i.Ranges.Count > 0 || i.Hosts.Count > 0 || i.TftpRoot is not null);
        return dhcp || def.Dns.Enable != TristateBool.No;
    }

    /// <summary>
    /// Builds the files. <paramref name="pidFile"/> is written as pid-file= when given (libvirt
    /// passes its pid file; its test passes none). Throws <see cref="LibvirtError"/> with
    /// libvirt's errors, and <see cref="DnsmasqValueCheck"/>'s for values that would add lines.
    /// </summary>
    public static DnsmasqFiles Generate(NetworkDef def, DnsmasqPaths paths, string? pidFile, DnsmasqCaps caps, Action<string>? warn = null)
    {
        ArgumentNullException.ThrowIfNull(def);
        ArgumentNullException.ThrowIfNull(paths);
        ArgumentNullException.ThrowIfNull(caps);
        string name = def.Name;
        DnsmasqValueCheck.ConfValue("network name", name, name);
        var conf = new StringBuilder();
        var hosts = new DnsmasqHosts();
        DnsDef dns = def.Dns;
        bool wantDns = dns.Enable != TristateBool.No;

        conf.Append("##WARNING:  THIS IS AN AUTO-GENERATED FILE. CHANGES TO IT ARE LIKELY TO BE\n")
            .Append("##OVERWRITTEN AND LOST.  Changes to this configuration should be made using:\n")
            .Append("##    virsh net-edit ").Append(name).Append('\n')
            .Append("## or other application using the libvirt API.\n")
            .Append("##\n## dnsmasq conf file created by libvirt\n")
            .Append("strict-order\n");

        if (!wantDns) conf.Append("port=0\n");

        if (wantDns && dns.Forwarders.Count > 0)
        {
            bool addNoResolv = false;
            foreach (DnsForwarderDef fwd in dns.Forwarders)
            {
                conf.Append("server=");
                if (fwd.Domain is not null)
                {
                    DnsmasqValueCheck.ConfValue("domain of a DNS forwarder", fwd.Domain, name);
                    conf.Append('/').Append(fwd.Domain).Append('/');
                }
                if (fwd.Addr.IsValid)
                {
                    conf.Append(fwd.Addr.Format()).Append('\n');
                    if (fwd.Domain is null) addNoResolv = true;
                }
                else
                {
                    conf.Append("#\n");
                }
            }
            if (addNoResolv) conf.Append("no-resolv\n");
        }

        if (def.Domain is not null)
        {
            DnsmasqValueCheck.ConfValue("domain name", def.Domain, name);
            if (def.DomainLocalOnly == TristateBool.Yes) conf.Append("local=/").Append(def.Domain).Append("/\n");
            conf.Append("domain=").Append(def.Domain).Append("\nexpand-hosts\n");
        }

        if (wantDns) LocalPtrs(conf, def);

        if (wantDns && dns.ForwardPlainNames == TristateBool.No)
            conf.Append("domain-needed\nlocal=//\n");

        if (pidFile is not null)
        {
            DnsmasqValueCheck.ConfValue("pid file", pidFile, name);
            conf.Append("pid-file=").Append(pidFile).Append('\n');
        }

        conf.Append("except-interface=lo\n");
        DnsmasqValueCheck.ConfValue("bridge name", def.Bridge, name);
        conf.Append("bind-dynamic\ninterface=").Append(def.Bridge).Append('\n');

        if (def.Forward.Type == ForwardType.None)
            conf.Append("dhcp-option=3\nno-resolv\nra-param=*,0,0\n");

        if (wantDns)
        {
            foreach (DnsTxtDef txt in dns.Txts)
            {
                DnsmasqValueCheck.ConfValue("name of a DNS TXT record", txt.Name, name);
                DnsmasqValueCheck.ConfValue("value of a DNS TXT record", txt.Value, name);
                conf.Append("txt-record=").Append(txt.Name).Append(',').Append(txt.Value).Append('\n');
            }
            foreach (DnsSrvDef srv in dns.Srvs) SrvHost(conf, srv, name);
        }

        IpDef? ipv4Def = null, ipv6Def = null;
        bool ipv6Slaac = false, enableTftp = false;
        foreach (IpDef ip in def.Ips)
        {
            bool dhcp = ip.Ranges.Count > 0 || ip.Hosts.Count > 0;
            if (ip.Address.IsIPv4)
            {
                if (dhcp)
                {
                    if (ipv4Def is not null)
                        throw new LibvirtError(VirErrorCode.ConfigUnsupported, VirErrorDomain.Network,
                            "For IPv4, multiple DHCP definitions cannot be specified.");
                    ipv4Def = ip;
                }
                if (ip.TftpRoot is not null)
                {
                    DnsmasqValueCheck.ConfValue("TFTP root", ip.TftpRoot, name);
                    if (!enableTftp)
                    {
                        conf.Append("enable-tftp\n");
                        enableTftp = true;
                    }
                    conf.Append("tftp-root=").Append(ip.TftpRoot).Append('\n');
                }
            }
            if (ip.Address.IsIPv6)
            {
                if (dhcp)
                {
                    if (ipv6Def is not null)
                        throw new LibvirtError(VirErrorCode.ConfigUnsupported, VirErrorDomain.Network,
                            "For IPv6, multiple DHCP definitions cannot be specified.");
                    ipv6Def = ip;
                }
                else
                {
                    ipv6Slaac = true;
                }
            }
        }

        if (ipv6Def is not null && ipv6Slaac)
            warn?.Invoke("For IPv6, when DHCP is specified for one address, then state-full Router Advertising will occur.  " +
                "The additional IPv6 addresses specified require manually configured guest network to work properly since " +
                "both state-full (DHCP) and state-less (SLAAC) addressing are not supported on the same network interface.");

        int nbLeases = 0;
        Dhcp(conf, ipv4Def, def, ref nbLeases, hosts);
        Dhcp(conf, ipv6Def, def, ref nbLeases, hosts);
        if (nbLeases > 0) conf.Append(CultureInfo.InvariantCulture, $"dhcp-lease-max={nbLeases}\n");

        hosts.AddDnsHosts(dns, name);

        if (ipv4Def is not null || ipv6Def is not null)
            conf.Append("dhcp-hostsfile=").Append(paths.HostsFile(name)).Append('\n');
        if (wantDns)
            conf.Append("addn-hosts=").Append(paths.AddnHostsFile(name)).Append('\n');

        if (def.Mtu > 0) conf.Append(CultureInfo.InvariantCulture, $"dhcp-option=option:mtu,{def.Mtu}\n");

        if (ipv6Def is not null)
        {
            conf.Append("enable-ra\n");
        }
        else
        {
            foreach (IpDef ip in def.Ips)
                if (ip.Address.IsIPv6 && ip.Ranges.Count == 0 && ip.Hosts.Count == 0)
                    conf.Append("dhcp-range=").Append(ip.Address.Format()).Append(",ra-only\n");
        }

        if (def.DnsmasqOptions is { } options)
        {
            foreach (string o in options)
            {
                DnsmasqValueCheck.ConfValue("dnsmasq:option", o, name);
                conf.Append(o).Append('\n');
            }
        }

        _ = caps; // libvirt takes the capabilities too and uses none of them since 8.x (no feature varies any more)
        return new DnsmasqFiles(conf.ToString(), hosts);
    }

    /// <summary>networkBuildDnsmasqLeaseTime: "infinite", or the expiry and the unit's first letter.</summary>
    public static string? LeaseTime(DhcpLeaseTime? lease)
    {
        if (lease is null) return null;
        if (lease.Expiry == 0) return "infinite";
        return string.Create(CultureInfo.InvariantCulture, $"{lease.Expiry}{lease.Unit.ToXml()[0]}");
    }

    /// <summary>networkDnsmasqConfLocalPTRs.</summary>
    private static void LocalPtrs(StringBuilder conf, NetworkDef def)
    {
        foreach (IpDef ip in def.Ips)
        {
            if (ip.LocalPtr != TristateBool.Yes) continue;
            int prefix = ip.GetPrefix();
            string? ptr = PtrDomain(ip.Address, prefix);
            if (ptr is null)
                throw new LibvirtError(VirErrorCode.ConfigUnsupported, VirErrorDomain.Network, string.Create(CultureInfo.InvariantCulture,
                    $"PTR domain for {(ip.Address.IsIPv4 ? "IPv4" : "IPv6")} network with prefix {(uint)prefix} cannot be automatically created"));
            conf.Append("local=/").Append(ptr).Append("/\n");
        }
    }

    /// <summary>virSocketAddrPTRDomain: the reverse zone of address/prefix; null when the prefix is not on a label boundary.</summary>
    public static string? PtrDomain(SocketAddr addr, int prefix)
    {
        byte[] b = addr.GetAddressBytes();
        var sb = new StringBuilder();
        if (addr.IsIPv4)
        {
            if (prefix <= 0 || prefix >= 32 || prefix % 8 != 0) return null;
            for (int i = prefix / 8; i > 0; i--) sb.Append(CultureInfo.InvariantCulture, $"{b[i - 1]}.");
            return sb.Append("in-addr.arpa").ToString();
        }
        if (addr.IsIPv6)
        {
            if (prefix <= 0 || prefix >= 128 || prefix % 4 != 0) return null;
            for (int i = prefix / 4; i > 0; i--)
            {
                int nibble = (i - 1) % 2 == 0 ? b[(i - 1) / 2] >> 4 : b[(i - 1) / 2] & 0xf;
                sb.Append(CultureInfo.InvariantCulture, $"{nibble:x}.");
            }
            return sb.Append("ip6.arpa").ToString();
        }
        return null;
    }

    private static void SrvHost(StringBuilder conf, DnsSrvDef srv, string name)
    {
        if (srv.Service is null || srv.Protocol is null)
            throw new LibvirtError(VirErrorCode.InternalError, VirErrorDomain.Network,
                $"Missing required 'service' attribute in SRV record of network '{name}'");
        DnsmasqValueCheck.ConfValue("service of a DNS SRV record", srv.Service, name);
        DnsmasqValueCheck.ConfValue("protocol of a DNS SRV record", srv.Protocol, name);
        DnsmasqValueCheck.ConfValue("domain of a DNS SRV record", srv.Domain, name);
        DnsmasqValueCheck.ConfValue("target of a DNS SRV record", srv.Target, name);
        conf.Append("srv-host=_").Append(srv.Service).Append("._").Append(srv.Protocol);
        if (srv.Domain is not null) conf.Append('.').Append(srv.Domain);
        if (srv.Target is not null && srv.Target != ".")
        {
            conf.Append(',').Append(srv.Target);
            if (srv.Port != 0 || srv.Priority != 0 || srv.Weight != 0)
                conf.Append(CultureInfo.InvariantCulture, $",{(srv.Port != 0 ? (int)srv.Port : 1)}");
            if (srv.Priority != 0 || srv.Weight != 0)
                conf.Append(CultureInfo.InvariantCulture, $",{(int)srv.Priority}");
            if (srv.Weight != 0)
                conf.Append(CultureInfo.InvariantCulture, $",{(int)srv.Weight}");
        }
        conf.Append('\n');
    }

    /// <summary>networkDnsmasqConfDHCP.</summary>
    private static void Dhcp(StringBuilder conf, IpDef? ip, NetworkDef def, ref int nbLeases, DnsmasqHosts hosts)
    {
        if (ip is null) return;
        int prefix = ip.GetPrefix();
        if (prefix < 0)
            throw new LibvirtError(VirErrorCode.InternalError, VirErrorDomain.Network, $"bridge '{def.Bridge}' has an invalid prefix");
        bool v6 = ip.Address.IsIPv6;
        foreach (DhcpRangeDef range in ip.Ranges)
        {
            conf.Append("dhcp-range=").Append(range.Start.Format()).Append(',').Append(range.End.Format()).Append(',');
            if (v6) conf.Append(prefix.ToString(CultureInfo.InvariantCulture));
            else conf.Append(SocketAddr.PrefixToNetmask(prefix, AddressFamily.InterNetwork).Format());
            if (LeaseTime(range.Lease) is { } lease) conf.Append(',').Append(lease);
            conf.Append('\n');
            nbLeases += SocketAddr.GetRange(range.Start, range.End, ip.Address, prefix);
        }

        if (ip.Ranges.Count == 0 && ip.Hosts.Count > 0)
        {
            conf.Append("dhcp-range=").Append(ip.Address.Format()).Append(",static");
            if (v6) conf.Append(CultureInfo.InvariantCulture, $",{prefix}");
            conf.Append('\n');
        }

        hosts.AddDhcpHosts(ip, def.Name);

        if (!v6)
        {
            if (ip.Ranges.Count > 0 || ip.Hosts.Count > 0) conf.Append("dhcp-no-override\ndhcp-authoritative\n");
            if (ip.BootFile is not null)
            {
                DnsmasqValueCheck.ConfValue("bootp file", ip.BootFile, def.Name);
                conf.Append("dhcp-boot=").Append(ip.BootFile);
                if (ip.BootServer.IsValid) conf.Append(",,").Append(ip.BootServer.Format());
                conf.Append('\n');
            }
        }
    }
}
