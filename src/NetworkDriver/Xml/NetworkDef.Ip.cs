using VirtNetworkd.NetworkDriver.Xml.Net;

namespace VirtNetworkd.NetworkDriver.Xml;

/// <summary>&lt;ip&gt; (virNetworkIPDef).</summary>
public sealed class IpDef
{
    /// <summary>The family attribute as written ("ipv4", "ipv6") or null.</summary>
    public string? Family { get; set; }
    public SocketAddr Address { get; set; }
    /// <summary>prefix='…'; 0 when not given (then <see cref="Netmask"/> or the natural prefix applies).</summary>
    public uint Prefix { get; set; }
    /// <summary>netmask='…' (IPv4 only).</summary>
    public SocketAddr Netmask { get; set; }
    public TristateBool LocalPtr { get; set; }
    public List<DhcpRangeDef> Ranges { get; set; } = [];
    public List<DhcpHostDef> Hosts { get; set; } = [];
    /// <summary>&lt;tftp root=…/&gt;.</summary>
    public string? TftpRoot { get; set; }
    /// <summary>&lt;dhcp&gt;&lt;bootp file=…/&gt;.</summary>
    public string? BootFile { get; set; }
    /// <summary>&lt;dhcp&gt;&lt;bootp server=…/&gt;.</summary>
    public SocketAddr BootServer { get; set; }

    /// <summary>virNetworkIPDefPrefix: prefix, netmask bits or natural prefix; -1 on error.</summary>
    public int GetPrefix() => SocketAddr.GetIPPrefix(Address, Netmask, (int)Prefix);

    /// <summary>virNetworkIPDefNetmask: the netmask, from netmask or prefix; unset on error.</summary>
    public SocketAddr GetNetmask() =>
        Netmask.IsIPv4 ? Netmask : SocketAddr.PrefixToNetmask(GetPrefix(), Address.Family);

    /// <summary>The network address (address masked by the prefix); unset on error.</summary>
    public SocketAddr GetNetworkAddress() => Address.MaskByPrefix(GetPrefix());

    public IpDef Clone() => new()
    {
        Family = Family,
        Address = Address,
        Prefix = Prefix,
        Netmask = Netmask,
        LocalPtr = LocalPtr,
        Ranges = Ranges.ConvertAll(r => r.Clone()),
        Hosts = Hosts.ConvertAll(h => h.Clone()),
        TftpRoot = TftpRoot,
        BootFile = BootFile,
        BootServer = BootServer,
    };
}

/// <summary>&lt;lease expiry=… unit=…/&gt; (virNetworkDHCPLeaseTimeDef); expiry 0 = infinite.</summary>
public sealed class DhcpLeaseTime
{
    public ulong Expiry { get; set; }
    public DhcpLeaseUnit Unit { get; set; } = DhcpLeaseUnit.Minutes;

    public DhcpLeaseTime Clone() => new() { Expiry = Expiry, Unit = Unit };
}

/// <summary>&lt;dhcp&gt;&lt;range start=… end=…&gt;.</summary>
public sealed class DhcpRangeDef
{
    public SocketAddr Start { get; set; }
    public SocketAddr End { get; set; }
    public DhcpLeaseTime? Lease { get; set; }

    public DhcpRangeDef Clone() => new() { Start = Start, End = End, Lease = Lease?.Clone() };
}

/// <summary>&lt;dhcp&gt;&lt;host mac=… id=… name=… ip=…&gt;. The MAC is kept as written, as libvirt does.</summary>
public sealed class DhcpHostDef
{
    public string? Mac { get; set; }
    public string? Id { get; set; }
    public string? Name { get; set; }
    public SocketAddr Ip { get; set; }
    public DhcpLeaseTime? Lease { get; set; }

    public DhcpHostDef Clone() => new() { Mac = Mac, Id = Id, Name = Name, Ip = Ip, Lease = Lease?.Clone() };
}

/// <summary>&lt;route&gt; (virNetDevIPRoute).</summary>
public sealed class IpRouteDef
{
    public string? Family { get; set; }
    public SocketAddr Address { get; set; }
    public SocketAddr Netmask { get; set; }
    public SocketAddr Gateway { get; set; }
    public uint Prefix { get; set; }
    public bool HasPrefix { get; set; }
    public uint Metric { get; set; }
    public bool HasMetric { get; set; }

    /// <summary>virNetDevIPRouteGetPrefix: the prefix, the netmask's bits or the natural prefix (0 for a default route).</summary>
    public int GetPrefix()
    {
        if (Address.IsWildcard)
        {
            if (HasPrefix && Prefix == 0) return 0;
            if (Netmask.IsIPv4 && Netmask.IsWildcard) return 0;
        }
        return SocketAddr.GetIPPrefix(Address, Netmask, (int)Prefix);
    }

    public IpRouteDef Clone() => new()
    {
        Family = Family,
        Address = Address,
        Netmask = Netmask,
        Gateway = Gateway,
        Prefix = Prefix,
        HasPrefix = HasPrefix,
        Metric = Metric,
        HasMetric = HasMetric,
    };
}

/// <summary>&lt;dns&gt; (virNetworkDNSDef).</summary>
public sealed class DnsDef
{
    public TristateBool Enable { get; set; }
    public TristateBool ForwardPlainNames { get; set; }
    public List<DnsTxtDef> Txts { get; set; } = [];
    public List<DnsHostDef> Hosts { get; set; } = [];
    public List<DnsSrvDef> Srvs { get; set; } = [];
    public List<DnsForwarderDef> Forwarders { get; set; } = [];

    public DnsDef Clone() => new()
    {
        Enable = Enable,
        ForwardPlainNames = ForwardPlainNames,
        Txts = Txts.ConvertAll(t => t.Clone()),
        Hosts = Hosts.ConvertAll(h => h.Clone()),
        Srvs = Srvs.ConvertAll(s => s.Clone()),
        Forwarders = Forwarders.ConvertAll(f => f.Clone()),
    };
}

public sealed class DnsTxtDef
{
    public string Name { get; set; } = "";
    public string? Value { get; set; }

    public DnsTxtDef Clone() => new() { Name = Name, Value = Value };
}

public sealed class DnsSrvDef
{
    public string? Domain { get; set; }
    public string? Service { get; set; }
    public string? Protocol { get; set; }
    public string? Target { get; set; }
    public uint Port { get; set; }
    public uint Priority { get; set; }
    public uint Weight { get; set; }

    public DnsSrvDef Clone() => new()
    {
        Domain = Domain, Service = Service, Protocol = Protocol, Target = Target,
        Port = Port, Priority = Priority, Weight = Weight,
    };
}

public sealed class DnsHostDef
{
    public SocketAddr Ip { get; set; }
    public List<string> Names { get; set; } = [];

    public DnsHostDef Clone() => new() { Ip = Ip, Names = [.. Names] };
}

public sealed class DnsForwarderDef
{
    public SocketAddr Addr { get; set; }
    public string? Domain { get; set; }

    public DnsForwarderDef Clone() => new() { Addr = Addr, Domain = Domain };
}
