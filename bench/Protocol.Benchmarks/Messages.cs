using System.Text;
using VirtNetworkd.Protocol.Framing;
using Remote = VirtNetworkd.Protocol.Remote;

namespace VirtNetworkd.Benchmarks;

/// <summary>The realistic messages the benchmarks encode and decode, and equality for the self-check.</summary>
public static class Messages
{
    public static Remote.ConnectOpenArgs ConnectOpen() => new() { Name = "network:///system", Flags = 0 };

    public static Remote.NetworkLookupByNameRet LookupByNameReply() => new()
    {
        Net = new Remote.NonnullNetwork { Name = "default", Uuid = Uuid(0) },
    };

    public const int ListedNetworks = 100;

    public static Remote.ConnectListAllNetworksRet ListAllNetworksReply()
    {
        var nets = new Remote.NonnullNetwork[ListedNetworks];
        for (int i = 0; i < nets.Length; i++)
            nets[i] = new Remote.NonnullNetwork { Name = $"net{i:D3}", Uuid = Uuid(i + 1) };
        return new Remote.ConnectListAllNetworksRet { Nets = nets, Ret = ListedNetworks };
    }

    public static Remote.NetworkGetXmlDescRet XmlDescReply() => new() { Xml = NetworkXml };

    /// <summary>What libvirt answers for virNetworkLookupByName("nosuchnet"):
    /// VIR_ERR_NO_NETWORK (43) from VIR_FROM_NETWORK (19), level VIR_ERR_ERROR (2).</summary>
    public static Remote.Error NoSuchNetworkError() => new()
    {
        Code = 43,
        Domain = 19,
        Message = "Network not found: no network with matching name 'nosuchnet'",
        Level = 2,
        Dom = null,
        Str1 = "Network not found: %s",
        Str2 = "no network with matching name 'nosuchnet'",
        Str3 = null,
        Int1 = -1,
        Int2 = -1,
        Net = null,
    };

    /// <summary>Header of the reply to REMOTE_PROC_NETWORK_LOOKUP_BY_NAME.</summary>
    public static PacketHeader LookupReplyHeader() => new(
        Remote.RemoteProgram.Number, Remote.RemoteProgram.Version,
        (int)Remote.Procedure.NetworkLookupByName, PacketType.Reply, Serial: 7, PacketStatus.Ok);

    /// <summary>A distinct, deterministic, RFC 4122 version-4 looking UUID.</summary>
    public static byte[] Uuid(int i)
    {
        var b = new byte[16];
        new Random(1000 + i).NextBytes(b);
        b[6] = (byte)((b[6] & 0x0F) | 0x40);
        b[8] = (byte)((b[8] & 0x3F) | 0x80);
        return b;
    }

    /// <summary>A realistic ~4 KiB network definition as virNetworkGetXMLDesc returns it: a NAT
    /// network with DNS host entries, an IPv4 range with static DHCP leases and an IPv6 range.</summary>
    public static readonly string NetworkXml = BuildNetworkXml();

    private static string BuildNetworkXml()
    {
        var sb = new StringBuilder();
        sb.Append("<network connections='12'>\n");
        sb.Append("  <name>lab-nat</name>\n");
        sb.Append("  <uuid>3e3fce45-4f53-4fa7-bb32-11f34168b82b</uuid>\n");
        sb.Append("  <metadata>\n    <app:owner xmlns:app='http://example.org/lab/1.0'>infra-team</app:owner>\n  </metadata>\n");
        sb.Append("  <forward mode='nat'>\n    <nat>\n      <address start='192.0.2.1' end='192.0.2.1'/>\n      <port start='1024' end='65535'/>\n    </nat>\n  </forward>\n");
        sb.Append("  <bridge name='virbr1' stp='on' delay='0'/>\n");
        sb.Append("  <mtu size='1500'/>\n");
        sb.Append("  <mac address='52:54:00:4a:7c:1e'/>\n");
        sb.Append("  <domain name='lab.example' localOnly='yes'/>\n");
        sb.Append("  <dns>\n    <forwarder addr='198.51.100.53'/>\n");
        for (int i = 0; i < 6; i++)
            sb.Append($"    <host ip='192.168.122.{10 + i}'>\n      <hostname>node{i:D2}</hostname>\n      <hostname>node{i:D2}.lab.example</hostname>\n    </host>\n");
        sb.Append("  </dns>\n");
        sb.Append("  <ip address='192.168.122.1' netmask='255.255.255.0'>\n    <dhcp>\n");
        sb.Append("      <range start='192.168.122.100' end='192.168.122.254'>\n        <lease expiry='1' unit='hours'/>\n      </range>\n");
        for (int i = 0; i < 32; i++)
            sb.Append($"      <host mac='52:54:00:00:01:{i:x2}' name='node{i:D2}' ip='192.168.122.{10 + i}'/>\n");
        sb.Append("    </dhcp>\n  </ip>\n");
        sb.Append("  <ip family='ipv6' address='fd00:122::1' prefix='64'>\n    <dhcp>\n      <range start='fd00:122::100' end='fd00:122::1ff'/>\n    </dhcp>\n  </ip>\n");
        sb.Append("  <route address='198.51.100.0' prefix='24' gateway='192.168.122.2'/>\n");
        sb.Append("</network>\n");
        return sb.ToString();
    }

    // ---- equality for --verify ----

    public static bool Same(in Remote.NonnullNetwork a, in Remote.NonnullNetwork b) =>
        a.Name == b.Name && a.Uuid is not null && b.Uuid is not null && a.Uuid.AsSpan().SequenceEqual(b.Uuid);

    public static bool Same(in Remote.NonnullDomain a, in Remote.NonnullDomain b) =>
        a.Name == b.Name && a.Id == b.Id && a.Uuid is not null && b.Uuid is not null && a.Uuid.AsSpan().SequenceEqual(b.Uuid);

    public static bool Same(in Remote.ConnectOpenArgs a, in Remote.ConnectOpenArgs b) => a.Name == b.Name && a.Flags == b.Flags;

    public static bool Same(in Remote.NetworkLookupByNameRet a, in Remote.NetworkLookupByNameRet b) => Same(a.Net, b.Net);

    public static bool Same(in Remote.ConnectListAllNetworksRet a, in Remote.ConnectListAllNetworksRet b)
    {
        if (a.Ret != b.Ret || a.Nets is null || b.Nets is null || a.Nets.Length != b.Nets.Length) return false;
        for (int i = 0; i < a.Nets.Length; i++)
            if (!Same(a.Nets[i], b.Nets[i])) return false;
        return true;
    }

    public static bool Same(in Remote.NetworkGetXmlDescRet a, in Remote.NetworkGetXmlDescRet b) => a.Xml == b.Xml;

    public static bool Same(in Remote.Error a, in Remote.Error b) =>
        a.Code == b.Code && a.Domain == b.Domain && a.Message == b.Message && a.Level == b.Level
        && a.Str1 == b.Str1 && a.Str2 == b.Str2 && a.Str3 == b.Str3 && a.Int1 == b.Int1 && a.Int2 == b.Int2
        && a.Dom.HasValue == b.Dom.HasValue && (!a.Dom.HasValue || Same(a.Dom.GetValueOrDefault(), b.Dom.GetValueOrDefault()))
        && a.Net.HasValue == b.Net.HasValue && (!a.Net.HasValue || Same(a.Net.GetValueOrDefault(), b.Net.GetValueOrDefault()));
}
