using System.Buffers.Binary;
using System.Net;
using VirtNetworkd.NetworkDriver.Xml.Net;

namespace VirtNetworkd.NetworkDriver.Backend.Netlink;

/// <summary>A network device as RTM_NEWLINK describes it.</summary>
public sealed record LinkInfo(int Index, string Name, uint Flags, uint Mtu, byte[]? Address, string? Kind, int Master)
{
    public bool IsUp => (Flags & Nl.IffUp) != 0;
}

/// <summary>An address as RTM_NEWADDR describes it.</summary>
public sealed record AddressInfo(int Family, int Index, byte PrefixLength, IPAddress? Address, IPAddress? Local, IPAddress? Broadcast);

/// <summary>A route as RTM_NEWROUTE describes it (only the fields the collision check needs).</summary>
public sealed record RouteInfo(int Family, byte DestinationLength, IPAddress? Destination, int OutputInterface, uint Table, byte Type, IPAddress? Gateway);

/// <summary>Parses the payloads of rtnetlink replies and notifications.</summary>
public static class RtnlParse
{
    public static LinkInfo Link(ReadOnlySpan<byte> payload)
    {
        if (payload.Length < Nl.IfInfoSize) throw new NetlinkFormatException($"ifinfomsg of {payload.Length} bytes");
        int index = BinaryPrimitives.ReadInt32LittleEndian(payload[4..]);
        uint flags = BinaryPrimitives.ReadUInt32LittleEndian(payload[8..]);
        string name = "";
        uint mtu = 0;
        byte[]? address = null;
        string? kind = null;
        int master = 0;
        var attrs = new NetlinkAttributeReader(payload[Nl.IfInfoSize..]);
        while (attrs.TryRead(out var a))
        {
            switch (a.Type)
            {
                case Nl.IflaIfName: name = a.String; break;
                case Nl.IflaMtu: mtu = a.U32; break;
                case Nl.IflaAddress: address = a.Value.ToArray(); break;
                case Nl.IflaMaster: master = (int)a.U32; break;
                case Nl.IflaLinkInfo:
                    var info = a.Nested;
                    while (info.TryRead(out var i))
                        if (i.Type == Nl.IflaInfoKind) kind = i.String;
                    break;
            }
        }
        return new LinkInfo(index, name, flags, mtu, address, kind, master);
    }

    public static AddressInfo Address(ReadOnlySpan<byte> payload)
    {
        if (payload.Length < Nl.IfAddrSize) throw new NetlinkFormatException($"ifaddrmsg of {payload.Length} bytes");
        int family = payload[0];
        byte prefix = payload[1];
        int index = BinaryPrimitives.ReadInt32LittleEndian(payload[4..]);
        IPAddress? address = null, local = null, broadcast = null;
        var attrs = new NetlinkAttributeReader(payload[Nl.IfAddrSize..]);
        while (attrs.TryRead(out var a))
        {
            switch (a.Type)
            {
                case Nl.IfaAddress: address = Ip(a.Value); break;
                case Nl.IfaLocal: local = Ip(a.Value); break;
                case Nl.IfaBroadcast: broadcast = Ip(a.Value); break;
            }
        }
        return new AddressInfo(family, index, prefix, address, local, broadcast);
    }

    public static RouteInfo Route(ReadOnlySpan<byte> payload)
    {
        if (payload.Length < Nl.RtMsgSize) throw new NetlinkFormatException($"rtmsg of {payload.Length} bytes");
        int family = payload[0];
        byte dstLength = payload[1];
        uint table = payload[4];
        byte type = payload[7];
        IPAddress? dst = null, gateway = null;
        int oif = 0;
        var attrs = new NetlinkAttributeReader(payload[Nl.RtMsgSize..]);
        while (attrs.TryRead(out var a))
        {
            switch (a.Type)
            {
                case Nl.RtaDst: dst = Ip(a.Value); break;
                case Nl.RtaOif: oif = (int)a.U32; break;
                case Nl.RtaGateway: gateway = Ip(a.Value); break;
                case Nl.RtaTable: table = a.U32; break;
            }
        }
        return new RouteInfo(family, dstLength, dst, oif, table, type, gateway);
    }

    private static IPAddress? Ip(ReadOnlySpan<byte> bytes) => bytes.Length is 4 or 16 ? new IPAddress(bytes) : null;
}

/// <summary>Builds the rtnetlink requests the Linux backend sends.</summary>
public static class RtnlRequest
{
    private const ushort Create = Nl.FRequest | Nl.FAck | Nl.FCreate | Nl.FExcl;

    /// <summary>RTM_NEWLINK of a bridge named <paramref name="name"/> (ip link add NAME type bridge
    /// address MAC mtu MTU stp_state S forward_delay D); fails with EEXIST when the name is taken.</summary>
    public static byte[] CreateBridge(uint sequence, string name, MacAddr? mac, uint? mtu, bool? stp, uint? forwardDelayCentiseconds)
    {
        var w = new NetlinkWriter(Nl.NewLink, Create, sequence).IfInfo(Nl.AfUnspec, 0).AttrString(Nl.IflaIfName, name);
        if (mac is { } m) w.Attr(Nl.IflaAddress, m.GetBytes());
        if (mtu is { } u) w.AttrU32(Nl.IflaMtu, u);
        int info = w.BeginNest(Nl.IflaLinkInfo);
        w.AttrString(Nl.IflaInfoKind, "bridge");
        if (stp is not null || forwardDelayCentiseconds is not null)
        {
            int data = w.BeginNest(Nl.IflaInfoData);
            if (forwardDelayCentiseconds is { } d) w.AttrU32(Nl.IflaBrForwardDelay, d);
            if (stp is { } s) w.AttrU32(Nl.IflaBrStpState, s ? 1u : 0u);
            w.EndNest(data);
        }
        w.EndNest(info);
        return w.ToArray();
    }

    public static byte[] DeleteLink(uint sequence, int index) =>
        new NetlinkWriter(Nl.DelLink, Nl.FRequest | Nl.FAck, sequence).IfInfo(Nl.AfUnspec, index).ToArray();

    /// <summary>RTM_GETLINK by name: one RTM_NEWLINK in reply, or ENODEV.</summary>
    public static byte[] GetLink(uint sequence, string name) =>
        new NetlinkWriter(Nl.GetLink, Nl.FRequest, sequence).IfInfo(Nl.AfUnspec, 0).AttrString(Nl.IflaIfName, name).ToArray();

    /// <summary>RTM_GETLINK by index: one RTM_NEWLINK in reply, or ENODEV.</summary>
    public static byte[] GetLink(uint sequence, int index) =>
        new NetlinkWriter(Nl.GetLink, Nl.FRequest, sequence).IfInfo(Nl.AfUnspec, index).ToArray();

    public static byte[] DumpLinks(uint sequence) =>
        new NetlinkWriter(Nl.GetLink, Nl.FRequest | Nl.FDump, sequence).IfInfo(Nl.AfUnspec, 0).ToArray();

    /// <summary>Sets IFF_UP on or off (ip link set dev up/down).</summary>
    public static byte[] SetUp(uint sequence, int index, bool up) =>
        new NetlinkWriter(Nl.NewLink, Nl.FRequest | Nl.FAck, sequence).IfInfo(Nl.AfUnspec, index, up ? Nl.IffUp : 0, Nl.IffUp).ToArray();

    /// <summary>Enslaves a device to a bridge (ip link set dev X master BR).</summary>
    public static byte[] SetMaster(uint sequence, int index, int master) =>
        new NetlinkWriter(Nl.NewLink, Nl.FRequest | Nl.FAck, sequence).IfInfo(Nl.AfUnspec, index).AttrU32(Nl.IflaMaster, (uint)master).ToArray();

    /// <summary>RTM_NEWLINK on an existing bridge (ip link set dev BR type bridge vlan_filtering 0|1).</summary>
    public static byte[] SetVlanFiltering(uint sequence, int index, bool enable)
    {
        var w = new NetlinkWriter(Nl.NewLink, Nl.FRequest | Nl.FAck, sequence).IfInfo(Nl.AfUnspec, index);
        int info = w.BeginNest(Nl.IflaLinkInfo);
        w.AttrString(Nl.IflaInfoKind, "bridge");
        int data = w.BeginNest(Nl.IflaInfoData);
        w.AttrU8(Nl.IflaBrVlanFiltering, enable ? (byte)1 : (byte)0);
        w.EndNest(data);
        w.EndNest(info);
        return w.ToArray();
    }

    /// <summary>A bridge port's learning and unicast flooding (macTableManager='libvirt' turns both off).</summary>
    public static byte[] SetPortLearningAndFlood(uint sequence, int index, bool learning, bool flood)
    {
        var w = new NetlinkWriter(Nl.SetLink, Nl.FRequest | Nl.FAck, sequence).IfInfo(Nl.AfBridge, index);
        int nest = w.BeginNest(Nl.IflaProtInfo);
        w.AttrU8(Nl.IflaBrportLearning, learning ? (byte)1 : (byte)0).AttrU8(Nl.IflaBrportUnicastFlood, flood ? (byte)1 : (byte)0);
        w.EndNest(nest);
        return w.ToArray();
    }

    /// <summary>RTM_NEWADDR (ip addr add ADDR/PREFIX [broadcast B] dev X).</summary>
    public static byte[] AddAddress(uint sequence, int index, IPAddress address, byte prefixLength, IPAddress? broadcast)
    {
        byte family = (byte)(address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? Nl.AfInet : Nl.AfInet6);
        var w = new NetlinkWriter(Nl.NewAddr, Create, sequence).IfAddr(family, prefixLength, Nl.RtScopeUniverse, index)
            .Attr(Nl.IfaLocal, address.GetAddressBytes()).Attr(Nl.IfaAddress, address.GetAddressBytes());
        if (broadcast is not null) w.Attr(Nl.IfaBroadcast, broadcast.GetAddressBytes());
        return w.ToArray();
    }

    /// <summary>RTM_NEWROUTE in the main table (ip route add DST/LEN [via GW] dev X [metric M]).</summary>
    public static byte[] AddRoute(uint sequence, IPAddress destination, byte prefixLength, IPAddress? gateway, int outputInterface, uint? metric)
    {
        byte family = (byte)(destination.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? Nl.AfInet : Nl.AfInet6);
        var w = new NetlinkWriter(Nl.NewRoute, Create, sequence)
            .RtMsg(family, prefixLength, Nl.RtTableMain, Nl.RtProtBoot, gateway is null ? Nl.RtScopeLink : Nl.RtScopeUniverse, Nl.RtnUnicast)
            .Attr(Nl.RtaDst, destination.GetAddressBytes());
        if (gateway is not null) w.Attr(Nl.RtaGateway, gateway.GetAddressBytes());
        if (outputInterface > 0) w.AttrU32(Nl.RtaOif, (uint)outputInterface);
        if (metric is { } m) w.AttrU32(Nl.RtaPriority, m);
        return w.ToArray();
    }

    public static byte[] DumpRoutes(uint sequence, byte family) =>
        new NetlinkWriter(Nl.GetRoute, Nl.FRequest | Nl.FDump, sequence).RtMsg(family, 0, 0, 0, 0, 0).ToArray();

    public static byte[] DumpAddresses(uint sequence, byte family) =>
        new NetlinkWriter(Nl.GetAddr, Nl.FRequest | Nl.FDump, sequence).IfAddr(family, 0, 0, 0).ToArray();
}
