using System.Buffers.Binary;
using System.Net;
using VirtNetworkd.NetworkDriver.Backend.Netlink;

namespace VirtNetworkd.Fuzz;

/// <summary>
/// Target 7: the rtnetlink parser, fed what the kernel would send. Byte 0 picks the reader: the
/// answer to one of <see cref="RtNetlinkClient"/>'s requests (an acknowledged request, GET link,
/// dump of links, addresses or routes: <see cref="NetlinkAnswer.Read"/> with the client's own
/// handlers, sequence 1) or notifications (every message parsed by its type, any sequence, as a
/// listener on the multicast groups would). Then datagrams, each a 2-byte little-endian length and
/// that many bytes (cut at the end of the input), read in turn until the answer is complete.
/// Oracle: failures only as <see cref="NetlinkFormatException"/> or, for a negative
/// acknowledgement, <see cref="NetlinkErrorException"/> with a real errno (1–4095); every parsed
/// link, address and route parses the same from its own copy (nothing read past the message's
/// declared length) and written back with <see cref="NetlinkWriter"/> parses to the same values.
/// </summary>
public sealed class NetlinkTarget : FuzzTarget
{
    public override string Name => "netlink";
    public override string Summary => "rtnetlink replies and notifications (NetlinkAnswer + RtnlParse); NetlinkFormatException / NetlinkErrorException only, re-parse and write-back fixed points";

    private enum Mode { Ack, GetLink, DumpLinks, DumpAddresses, DumpRoutes, Notifications }

    private const uint Sequence = 1;

    public override void Run(ReadOnlySpan<byte> input)
    {
        if (input.Length < 1) return;
        var mode = (Mode)(input[0] % 6);
        var rest = input[1..];
        try
        {
            while (rest.Length >= 2)
            {
                int len = Math.Min(BinaryPrimitives.ReadUInt16LittleEndian(rest), rest.Length - 2);
                var datagram = rest.Slice(2, len);
                rest = rest[(2 + len)..];
                if (Datagram(mode, datagram)) return;
            }
        }
        catch (NetlinkFormatException)
        {
        }
        catch (NetlinkErrorException e) when (e.Errno is > 0 and <= NetlinkMessage.MaxErrno)
        {
        }
    }

    /// <summary>One datagram; true when the answer is complete.</summary>
    private static bool Datagram(Mode mode, ReadOnlySpan<byte> datagram)
    {
        switch (mode)
        {
            case Mode.Ack:
                return NetlinkAnswer.Read(datagram, Sequence, false, "fuzz", null);
            case Mode.GetLink:
                return NetlinkAnswer.Read(datagram, Sequence, false, "fuzz", (type, payload) =>
                {
                    if (type == Nl.NewLink) CheckLink(payload);
                });
            case Mode.DumpLinks:
                return NetlinkAnswer.Read(datagram, Sequence, true, "fuzz", (type, payload) =>
                {
                    if (type == Nl.NewLink) CheckLink(payload);
                });
            case Mode.DumpAddresses:
                return NetlinkAnswer.Read(datagram, Sequence, true, "fuzz", (type, payload) =>
                {
                    if (type == Nl.NewAddr) CheckAddress(payload);
                });
            case Mode.DumpRoutes:
                return NetlinkAnswer.Read(datagram, Sequence, true, "fuzz", (type, payload) =>
                {
                    if (type == Nl.NewRoute) CheckRoute(payload);
                });
            default:
                var reader = new NetlinkMessageReader(datagram);
                while (reader.TryRead(out var m))
                {
                    switch (m.Type)
                    {
                        case Nl.NewLink or Nl.DelLink: CheckLink(m.Payload); break;
                        case Nl.NewAddr or Nl.DelAddr: CheckAddress(m.Payload); break;
                        case Nl.NewRoute or Nl.DelRoute: CheckRoute(m.Payload); break;
                        case Nl.Error: _ = m.ErrorCode; break;
                    }
                }
                return false;
        }
    }

    private static void CheckLink(ReadOnlySpan<byte> payload)
    {
        LinkInfo link = RtnlParse.Link(payload);
        Same("link", Describe(link), Describe(RtnlParse.Link(payload.ToArray())), "its own copy");
        // a string longer than an attribute holds cannot be written back (the kernel's are ≤ 16 bytes)
        if (Utf8(link.Name).Length > 60000 || (link.Kind is { } k && Utf8(k).Length > 60000)) return;
        var w = new NetlinkWriter(Nl.NewLink, 0, Sequence).IfInfo(Nl.AfUnspec, link.Index, link.Flags)
            .AttrString(Nl.IflaIfName, link.Name).AttrU32(Nl.IflaMtu, link.Mtu).AttrU32(Nl.IflaMaster, (uint)link.Master);
        if (link.Address is { } a) w.Attr(Nl.IflaAddress, a);
        if (link.Kind is { } kind)
        {
            int nest = w.BeginNest(Nl.IflaLinkInfo);
            w.AttrString(Nl.IflaInfoKind, kind);
            w.EndNest(nest);
        }
        Same("link", Describe(link), Describe(RtnlParse.Link(w.ToArray().AsSpan(Nl.HeaderSize))), "written back");
    }

    private static void CheckAddress(ReadOnlySpan<byte> payload)
    {
        AddressInfo address = RtnlParse.Address(payload);
        Same("address", Describe(address), Describe(RtnlParse.Address(payload.ToArray())), "its own copy");
        var w = new NetlinkWriter(Nl.NewAddr, 0, Sequence).IfAddr((byte)address.Family, address.PrefixLength, 0, address.Index);
        if (address.Address is { } a) w.Attr(Nl.IfaAddress, a.GetAddressBytes());
        if (address.Local is { } l) w.Attr(Nl.IfaLocal, l.GetAddressBytes());
        if (address.Broadcast is { } b) w.Attr(Nl.IfaBroadcast, b.GetAddressBytes());
        Same("address", Describe(address), Describe(RtnlParse.Address(w.ToArray().AsSpan(Nl.HeaderSize))), "written back");
    }

    private static void CheckRoute(ReadOnlySpan<byte> payload)
    {
        RouteInfo route = RtnlParse.Route(payload);
        Same("route", Describe(route), Describe(RtnlParse.Route(payload.ToArray())), "its own copy");
        var w = new NetlinkWriter(Nl.NewRoute, 0, Sequence).RtMsg((byte)route.Family, route.DestinationLength, 0, 0, 0, route.Type)
            .AttrU32(Nl.RtaTable, route.Table).AttrU32(Nl.RtaOif, (uint)route.OutputInterface);
        if (route.Destination is { } d) w.Attr(Nl.RtaDst, d.GetAddressBytes());
        if (route.Gateway is { } g) w.Attr(Nl.RtaGateway, g.GetAddressBytes());
        Same("route", Describe(route), Describe(RtnlParse.Route(w.ToArray().AsSpan(Nl.HeaderSize))), "written back");
    }

    private static void Same(string what, string parsed, string again, string how)
    {
        if (parsed != again) throw new FuzzFinding($"{what} parsed as {parsed}, {how} as {again}");
    }

    private static string Describe(LinkInfo l) =>
        $"index={l.Index} name={Escape(l.Name)} flags={l.Flags:x} mtu={l.Mtu} address={(l.Address is null ? "-" : Convert.ToHexString(l.Address))} kind={(l.Kind is null ? "-" : Escape(l.Kind))} master={l.Master}";

    private static string Describe(AddressInfo a) =>
        $"family={a.Family} index={a.Index} prefix={a.PrefixLength} address={Ip(a.Address)} local={Ip(a.Local)} broadcast={Ip(a.Broadcast)}";

    private static string Describe(RouteInfo r) =>
        $"family={r.Family} dst={Ip(r.Destination)}/{r.DestinationLength} oif={r.OutputInterface} table={r.Table} type={r.Type} gateway={Ip(r.Gateway)}";

    private static string Ip(IPAddress? a) => a is null ? "-" : Convert.ToHexString(a.GetAddressBytes());

    private static string Escape(string s) => Convert.ToHexString(Utf8(s));

    // ---- seeds

    /// <summary>The kernel's own answers, captured by fuzz/seeds/netlink/capture.sh (hex, '#' comments).</summary>
    private static IEnumerable<(string Name, byte[] Data)> Captured()
    {
        if (Program.FindUp("fuzz/seeds/netlink") is not { } dir) yield break;
        foreach (var file in Directory.GetFiles(dir, "*.hex").Order(StringComparer.Ordinal))
            yield return (Path.GetFileNameWithoutExtension(file), Hex.ReadFile(file));
    }

    public override IEnumerable<(string Name, byte[] Data)> Seeds(SeedSources sources)
    {
        foreach (var (name, data) in Captured()) yield return ($"kernel-{name}", data);
        foreach (var (name, mode, datagrams) in Own())
            yield return ($"own-{name}", Input(mode, datagrams));
    }

    /// <summary>A target input: the mode byte, then each datagram behind its 2-byte length.</summary>
    public static byte[] Input(int mode, params byte[][] datagrams)
    {
        var bytes = new List<byte> { (byte)mode };
        foreach (var d in datagrams)
        {
            bytes.Add((byte)d.Length);
            bytes.Add((byte)(d.Length >> 8));
            bytes.AddRange(d);
        }
        return [.. bytes];
    }

    private static byte[] Error(int code, uint sequence = Sequence)
    {
        // nlmsgerr: the error, then the request's header
        byte[] body = new byte[4 + Nl.HeaderSize];
        BinaryPrimitives.WriteInt32LittleEndian(body, code);
        BinaryPrimitives.WriteUInt32LittleEndian(body.AsSpan(4), Nl.HeaderSize);
        BinaryPrimitives.WriteUInt16LittleEndian(body.AsSpan(8), Nl.NewLink);
        return Message(Nl.Error, 0, sequence, body);
    }

    private static byte[] Message(ushort type, ushort flags, uint sequence, byte[] payload)
    {
        byte[] m = new byte[Nl.HeaderSize + payload.Length];
        BinaryPrimitives.WriteUInt32LittleEndian(m, (uint)m.Length);
        BinaryPrimitives.WriteUInt16LittleEndian(m.AsSpan(4), type);
        BinaryPrimitives.WriteUInt16LittleEndian(m.AsSpan(6), flags);
        BinaryPrimitives.WriteUInt32LittleEndian(m.AsSpan(8), sequence);
        payload.CopyTo(m, Nl.HeaderSize);
        return m;
    }

    private static byte[] Done(uint sequence = Sequence) => Message(Nl.Done, Nl.FMulti, sequence, new byte[4]);

    private static byte[] Bridge(ushort flags, uint sequence, int index, string name) =>
        With(new NetlinkWriter(Nl.NewLink, flags, sequence).IfInfo(Nl.AfUnspec, index, Nl.IffUp).AttrString(Nl.IflaIfName, name)
            .AttrU32(Nl.IflaMtu, 1500).Attr(Nl.IflaAddress, [0x52, 0x54, 0, 0x12, 0x34, 0x56]).AttrU32(Nl.IflaMaster, 0), w =>
            {
                int info = w.BeginNest(Nl.IflaLinkInfo);
                w.AttrString(Nl.IflaInfoKind, "bridge");
                int data = w.BeginNest(Nl.IflaInfoData);
                w.AttrU32(Nl.IflaBrForwardDelay, 200).AttrU32(Nl.IflaBrStpState, 1);
                w.EndNest(data);
                w.EndNest(info);
            });

    private static byte[] With(NetlinkWriter w, Action<NetlinkWriter> more)
    {
        more(w);
        return w.ToArray();
    }

    private static byte[] Concat(params byte[][] messages) => [.. messages.SelectMany(m => m)];

    private static IEnumerable<(string Name, int Mode, byte[][] Datagrams)> Own()
    {
        byte[] v4 = [192, 168, 122, 1], v6 = [0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
        byte[] addr4 = new NetlinkWriter(Nl.NewAddr, Nl.FMulti, Sequence).IfAddr(Nl.AfInet, 24, 0, 3)
            .Attr(Nl.IfaAddress, v4).Attr(Nl.IfaLocal, v4).Attr(Nl.IfaBroadcast, [192, 168, 122, 255]).ToArray();
        byte[] addr6 = new NetlinkWriter(Nl.NewAddr, Nl.FMulti, Sequence).IfAddr(Nl.AfInet6, 64, 0, 3).Attr(Nl.IfaAddress, v6).ToArray();
        byte[] route4 = new NetlinkWriter(Nl.NewRoute, Nl.FMulti, Sequence).RtMsg(Nl.AfInet, 24, Nl.RtTableMain, Nl.RtProtBoot, Nl.RtScopeLink, Nl.RtnUnicast)
            .AttrU32(Nl.RtaTable, Nl.RtTableMain).Attr(Nl.RtaDst, [192, 168, 122, 0]).AttrU32(Nl.RtaOif, 3).ToArray();
        byte[] route6 = new NetlinkWriter(Nl.NewRoute, Nl.FMulti, Sequence).RtMsg(Nl.AfInet6, 0, Nl.RtTableMain, Nl.RtProtStatic, 0, Nl.RtnUnicast)
            .AttrU32(Nl.RtaTable, Nl.RtTableMain).Attr(Nl.RtaGateway, v6).AttrU32(Nl.RtaOif, 3).ToArray();
        byte[] lo = new NetlinkWriter(Nl.NewLink, Nl.FMulti, Sequence).IfInfo(Nl.AfUnspec, 1, Nl.IffUp | 0x8).AttrString(Nl.IflaIfName, "lo").AttrU32(Nl.IflaMtu, 65536).ToArray();
        yield return ("ack", 0, [Error(0)]);
        yield return ("eexist", 0, [Error(-17)]);
        yield return ("late-then-ack", 0, [Concat(Error(-19, 7), Error(0))]);
        yield return ("get-link", 1, [Bridge(0, Sequence, 3, "virbr0")]);
        yield return ("get-link-enodev", 1, [Error(-19)]);
        yield return ("dump-links", 2, [Concat(lo, Bridge(Nl.FMulti, Sequence, 3, "virbr0")), Done()]);
        yield return ("dump-addresses", 3, [Concat(addr4, addr6), Done()]);
        yield return ("dump-routes", 4, [Concat(route4), Concat(route6, Done())]);
        yield return ("notifications", 5, [Concat(Bridge(0, 0, 3, "virbr0"), addr4, route6), Concat(Message(Nl.DelLink, 0, 0, new byte[Nl.IfInfoSize]), Error(-1, 0))]);
    }

    public override IEnumerable<byte[]> Dictionary()
    {
        foreach (ushort type in new ushort[] { Nl.Noop, Nl.Error, Nl.Done, Nl.NewLink, Nl.DelLink, Nl.NewAddr, Nl.DelAddr, Nl.NewRoute, Nl.DelRoute })
            yield return [(byte)type, (byte)(type >> 8)];
        foreach (ushort flags in new ushort[] { Nl.FMulti, Nl.FDump, Nl.FRequest | Nl.FAck })
            yield return [(byte)flags, (byte)(flags >> 8)];
        // attribute headers (length 8: a u32; nested flag on IFLA_LINKINFO)
        foreach (ushort type in new ushort[] { Nl.IflaIfName, Nl.IflaMtu, Nl.IflaAddress, Nl.IflaMaster, Nl.IflaLinkInfo, Nl.IflaLinkInfo | Nl.AttrNested, Nl.IflaInfoKind, Nl.RtaTable, Nl.RtaDst, Nl.RtaGateway, Nl.RtaOif })
            yield return [8, 0, (byte)type, (byte)(type >> 8)];
        yield return [20, 0, (byte)Nl.IfaAddress, 0]; // an IPv6 address
        yield return [10, 0, (byte)Nl.IflaAddress, 0]; // a MAC
        yield return [16, 0, 0, 0]; // a header's length
        yield return [0xef, 0xff, 0xff, 0xff]; // -17
        yield return [0x00, 0xf0, 0xff, 0xff]; // -4096
        yield return [0, 0, 0, 0x80];
        yield return Utf8("bridge\0");
        yield return Utf8("virbr0\0");
        yield return Utf8("dummy\0");
        yield return Utf8("veth\0");
    }
}
