using System.Text;
using VirtNetworkd.NetworkDriver.Xml;

namespace VirtNetworkd.NetworkDriver.Backend.Dnsmasq;

/// <summary>
/// The two files dnsmasq rereads on SIGHUP (libvirt's dnsmasqContext): NAME.hostsfile, one
/// dhcp-host value a line (dhcp-hostsfile=), and NAME.addnhosts, /etc/hosts lines of the
/// &lt;dns&gt;&lt;host&gt; entries (addn-hosts=).
/// </summary>
public sealed class DnsmasqHosts
{
    private readonly List<string> _dhcpHosts = [];
    private readonly List<(string Ip, List<string> Names)> _addnHosts = [];

    /// <summary>The dhcp-host values in order (libvirt's dnsmasqHostsfile.hosts).</summary>
    public IReadOnlyList<string> DhcpHosts => _dhcpHosts;

    /// <summary>
    /// networkBuildDnsmasqDhcpHostsList: one entry for each &lt;host&gt; of <paramref name="ip"/>
    /// that has an address (hostsfileAdd's forms for IPv6 and IPv4).
    /// </summary>
    public void AddDhcpHosts(IpDef ip, string networkName)
    {
        ArgumentNullException.ThrowIfNull(ip);
        bool ipv6 = ip.Address.IsIPv6;
        foreach (DhcpHostDef host in ip.Hosts)
        {
            if (!host.Ip.IsValid) continue;
            DnsmasqValueCheck.HostsFileField("name of a DHCP host", host.Name, networkName);
            DnsmasqValueCheck.HostsFileField("id of a DHCP host", host.Id, networkName);
            DnsmasqValueCheck.HostsFileField("mac of a DHCP host", host.Mac, networkName);
            string ipStr = host.Ip.Format()!;
            var sb = new StringBuilder();
            if (ipv6)
            {
                if (host.Name is not null && host.Id is not null) sb.Append("id:").Append(host.Id).Append(',').Append(host.Name);
                else if (host.Name is not null) sb.Append(host.Name);
                else if (host.Id is not null) sb.Append("id:").Append(host.Id);
                sb.Append(",[").Append(ipStr).Append(']');
            }
            else if (host.Name is not null && host.Mac is not null) sb.Append(host.Mac).Append(',').Append(ipStr).Append(',').Append(host.Name);
            else if (host.Name is not null) sb.Append(host.Name).Append(',').Append(ipStr);
            else sb.Append(host.Mac).Append(',').Append(ipStr);
            if (DnsmasqConfig.LeaseTime(host.Lease) is { } lease) sb.Append(',').Append(lease);
            _dhcpHosts.Add(sb.ToString());
        }
    }

    /// <summary>networkBuildDnsmasqHostsList: the names of each &lt;dns&gt;&lt;host&gt;, grouped by address in first-seen order.</summary>
    public void AddDnsHosts(DnsDef dns, string networkName)
    {
        ArgumentNullException.ThrowIfNull(dns);
        foreach (DnsHostDef host in dns.Hosts)
        {
            if (!host.Ip.IsValid) continue;
            string ip = host.Ip.Format()!;
            foreach (string name in host.Names)
            {
                DnsmasqValueCheck.AddnHostsName(name, networkName);
                int idx = _addnHosts.FindIndex(h => h.Ip == ip);
                if (idx < 0)
                {
                    _addnHosts.Add((ip, []));
                    idx = _addnHosts.Count - 1;
                }
                _addnHosts[idx].Names.Add(name);
            }
        }
    }

    /// <summary>The hostsfile's text (dnsmasqDhcpHostsToString; "" for none, where libvirt has NULL).</summary>
    public string HostsFileText()
    {
        var sb = new StringBuilder();
        foreach (string h in _dhcpHosts) sb.Append(h).Append('\n');
        return sb.ToString();
    }

    /// <summary>The addnhosts file's text as addnhostsWrite writes it: "IP\tNAME\t…NAME\t\n".</summary>
    public string AddnHostsText()
    {
        var sb = new StringBuilder();
        foreach ((string ip, List<string> names) in _addnHosts)
        {
            sb.Append(ip).Append('\t');
            foreach (string n in names) sb.Append(n).Append('\t');
            sb.Append('\n');
        }
        return sb.ToString();
    }

    /// <summary>
    /// The hosts of a running dnsmasq as networkRefreshDhcpDaemon builds them for a SIGHUP:
    /// the first IPv4 and the first IPv6 &lt;ip&gt; with DHCP, and the DNS hosts.
    /// </summary>
    public static DnsmasqHosts ForRefresh(NetworkDef def)
    {
        ArgumentNullException.ThrowIfNull(def);
        var hosts = new DnsmasqHosts();
        IpDef? v4 = def.Ips.FirstOrDefault(i => i.Address.IsIPv4 && (i.Ranges.Count > 0 || i.Hosts.Count > 0));
        IpDef? v6 = def.Ips.FirstOrDefault(i => i.Address.IsIPv6 && (i.Ranges.Count > 0 || i.Hosts.Count > 0));
        if (v4 is not null) hosts.AddDhcpHosts(v4, def.Name);
        if (v6 is not null) hosts.AddDhcpHosts(v6, def.Name);
        hosts.AddDnsHosts(def.Dns, def.Name);
        return hosts;
    }
}
