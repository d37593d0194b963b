using System.Buffers.Binary;
using System.Net;
using VirtNetworkd.NetworkDriver.Backend.Netlink;
using VirtNetworkd.NetworkDriver.Xml.Net;

namespace VirtNetworkd.NetworkDriver.Tests.Backend;

/// <summary>The rtnetlink messages on bytes, without a socket: what we send, and what we make of
/// what the kernel sends (including messages that do not hold together).</summary>
public sealed class NetlinkMessageTests
{
    [Test]
    public void DeleteLinkIsTheBytesIpWouldSend()
    {
        byte[] expected =
        [
            32, 0, 0, 0, /* len */ 17, 0, /* RTM_DELLINK */ 5, 0, /* REQUEST|ACK */ 7, 0, 0, 0, /* seq */ 0, 0, 0, 0, /* pid */
            0, 0, 0, 0, /* family, pad, type */ 5, 0, 0, 0, /* index */ 0, 0, 0, 0, /* flags */ 0, 0, 0, 0, /* change */
        ];
        Assert.That(RtnlRequest.DeleteLink(7, 5), Is.EqualTo(expected));
    }

    [Test]
    public void TheDeletionIsSeenInTheRtmDellinkNotificationOfItsIndexOnly()
    {
        // a notification datagram: RTM_NEWLINK of 7 (the link going down), then RTM_DELLINK of 7
        byte[] down = new NetlinkWriter(Nl.NewLink, 0, 3).IfInfo(Nl.AfUnspec, 7).AttrString(Nl.IflaIfName, "virbr7").ToArray();
        byte[] deleted = new NetlinkWriter(Nl.DelLink, 0, 3).IfInfo(Nl.AfUnspec, 7).AttrString(Nl.IflaIfName, "virbr7").ToArray();
        Assert.That(LinkDeletion.Announces(down, 7), Is.False);
        Assert.That(LinkDeletion.Announces([.. down, .. deleted], 7), Is.True);
        Assert.That(LinkDeletion.Announces([.. down, .. deleted], 8), Is.False);
    }

    [Test]
    public void CreateBridgeCarriesNameAddressMtuAndBridgeAttributes()
    {
        var mac = MacAddr.Parse("52:54:00:12:34:56");
        byte[] m = RtnlRequest.CreateBridge(9, "virbr9", mac, 9000, stp: true, forwardDelayCentiseconds: 200);
        Assert.That(BinaryPrimitives.ReadUInt32LittleEndian(m), Is.EqualTo((uint)m.Length));
        Assert.That(m.Length % 4, Is.Zero);

        var reader = new NetlinkMessageReader(m);
        Assert.That(reader.TryRead(out var msg), Is.True);
        Assert.That(msg.Type, Is.EqualTo(Nl.NewLink));
        Assert.That(msg.Flags, Is.EqualTo(Nl.FRequest | Nl.FAck | Nl.FCreate | Nl.FExcl));
        Assert.That(msg.Sequence, Is.EqualTo(9u));
        var attrs = new NetlinkAttributeReader(msg.Payload[Nl.IfInfoSize..]);
        var seen = new List<string>();
        while (attrs.TryRead(out var a))
        {
            switch (a.Type)
            {
                case Nl.IflaIfName: seen.Add("name=" + a.String); Assert.That(a.Value[^1], Is.Zero, "NUL-terminated"); break;
                case Nl.IflaAddress: seen.Add("mac=" + Convert.ToHexString(a.Value)); break;
                case Nl.IflaMtu: seen.Add("mtu=" + a.U32); break;
                case Nl.IflaLinkInfo:
                    var info = a.Nested;
                    while (info.TryRead(out var i))
                    {
                        if (i.Type == Nl.IflaInfoKind) seen.Add("kind=" + i.String);
                        if (i.Type != Nl.IflaInfoData) continue;
                        var data = i.Nested;
                        while (data.TryRead(out var d)) seen.Add($"br{d.Type}={d.U32}");
                    }
                    break;
            }
        }
        Assert.That(seen, Is.EqualTo(new[] { "name=virbr9", "mac=525400123456", "mtu=9000", "kind=bridge", $"br{Nl.IflaBrForwardDelay}=200", $"br{Nl.IflaBrStpState}=1" }));
        Assert.That(reader.TryRead(out _), Is.False);
    }

    [Test]
    public void AddressAndRouteRequestsParseBackAsTheKernelWouldReportThem()
    {
        byte[] addr = RtnlRequest.AddAddress(3, 12, IPAddress.Parse("192.0.2.1"), 24, IPAddress.Parse("192.0.2.255"));
        var r = new NetlinkMessageReader(addr);
        r.TryRead(out var a);
        var info = RtnlParse.Address(a.Payload);
        Assert.That(info, Is.EqualTo(new AddressInfo(Nl.AfInet, 12, 24, IPAddress.Parse("192.0.2.1"), IPAddress.Parse("192.0.2.1"), IPAddress.Parse("192.0.2.255"))));

        byte[] route = RtnlRequest.AddRoute(4, IPAddress.Parse("2001:db8:1::"), 64, IPAddress.Parse("2001:db8::1"), 12, 1);
        r = new NetlinkMessageReader(route);
        r.TryRead(out var m);
        var ri = RtnlParse.Route(m.Payload);
        Assert.That((ri.Family, ri.DestinationLength, ri.Destination, ri.Gateway, ri.OutputInterface, ri.Table),
            Is.EqualTo((Nl.AfInet6, (byte)64, IPAddress.Parse("2001:db8:1::"), IPAddress.Parse("2001:db8::1"), 12, (uint)Nl.RtTableMain)));
    }

    [Test]
    public void SeveralMessagesInOneDatagramAreEachRead()
    {
        byte[] one = RtnlRequest.DeleteLink(1, 1), two = RtnlRequest.GetLink(2, "lo");
        var reader = new NetlinkMessageReader([.. one, .. two]);
        Assert.That(reader.TryRead(out var a) && a.Sequence == 1, Is.True);
        Assert.That(reader.TryRead(out var b) && b.Sequence == 2 && b.Type == Nl.GetLink, Is.True);
        Assert.That(reader.TryRead(out _), Is.False);
    }

    [TestCase(new byte[] { 1, 2, 3 })]
    [TestCase(new byte[] { 200, 0, 0, 0, 16, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 })]
    [TestCase(new byte[] { 8, 0, 0, 0, 16, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 })]
    public void AMessageThatDoesNotHoldTogetherIsAFormatError(byte[] datagram)
    {
        Assert.Throws<NetlinkFormatException>(() =>
        {
            var reader = new NetlinkMessageReader(datagram);
            while (reader.TryRead(out _)) { }
        });
    }

    [Test]
    public void AnAttributeLongerThanItsMessageIsAFormatError()
    {
        byte[] payload = new byte[Nl.IfInfoSize + 8];
        BinaryPrimitives.WriteUInt16LittleEndian(payload.AsSpan(Nl.IfInfoSize), 200);
        Assert.Throws<NetlinkFormatException>(() => RtnlParse.Link(payload));
        Assert.Throws<NetlinkFormatException>(() => RtnlParse.Link(new byte[4]));
    }

    [Test]
    public void ALinkReplyParses()
    {
        byte[] reply = new NetlinkWriter(Nl.NewLink, 0, 1).IfInfo(Nl.AfUnspec, 42, Nl.IffUp)
            .AttrString(Nl.IflaIfName, "vnbr0").AttrU32(Nl.IflaMtu, 1500).Attr(Nl.IflaAddress, [0x52, 0x54, 0, 1, 2, 3]).AttrU32(Nl.IflaMaster, 7)
            .ToArray();
        var r = new NetlinkMessageReader(reply);
        r.TryRead(out var m);
        var link = RtnlParse.Link(m.Payload);
        Assert.That((link.Index, link.Name, link.IsUp, link.Mtu, link.Master), Is.EqualTo((42, "vnbr0", true, 1500u, 7)));
        Assert.That(link.Address, Is.EqualTo(new byte[] { 0x52, 0x54, 0, 1, 2, 3 }));
    }

    [Test]
    public void SetVlanFilteringIsTheBytesIpLinkSetTypeBridgeWouldSend()
    {
        byte[] expected =
        [
            60, 0, 0, 0, /* len */ 16, 0, /* RTM_NEWLINK */ 5, 0, /* REQUEST|ACK */ 3, 0, 0, 0, /* seq */ 0, 0, 0, 0, /* pid */
            0, 0, 0, 0, /* family, pad, type */ 8, 0, 0, 0, /* index */ 0, 0, 0, 0, /* flags */ 0, 0, 0, 0, /* change */
            28, 0, 18, 128, /* IFLA_LINKINFO, nested */
            11, 0, 1, 0, (byte)'b', (byte)'r', (byte)'i', (byte)'d', (byte)'g', (byte)'e', 0, 0, /* IFLA_INFO_KIND */
            12, 0, 2, 128, /* IFLA_INFO_DATA, nested */ 5, 0, 7, 0, 1, 0, 0, 0, /* IFLA_BR_VLAN_FILTERING = 1 */
        ];
        Assert.That(RtnlRequest.SetVlanFiltering(3, 8, enable: true), Is.EqualTo(expected));
    }

    /// <summary>An NLMSG_ERROR answering request 1 whose error field is <paramref name="code"/>.</summary>
    private static byte[] ErrorReply(int code)
    {
        byte[] m = new byte[Nl.HeaderSize + 4 + Nl.HeaderSize];
        BinaryPrimitives.WriteUInt32LittleEndian(m, (uint)m.Length);
        BinaryPrimitives.WriteUInt16LittleEndian(m.AsSpan(4), Nl.Error);
        BinaryPrimitives.WriteUInt32LittleEndian(m.AsSpan(8), 1);
        BinaryPrimitives.WriteInt32LittleEndian(m.AsSpan(Nl.HeaderSize), code);
        return m;
    }

    [Test]
    public void AnAnswerEndsAtItsAcknowledgementAndANegativeOneIsTheErrno()
    {
        Assert.That(NetlinkAnswer.Read(ErrorReply(0), 1, false, "op", null), Is.True);
        Assert.That(NetlinkAnswer.Read(ErrorReply(-17), 2, false, "op", null), Is.False, "an answer to another request is skipped");
        var e = Assert.Throws<NetlinkErrorException>(() => NetlinkAnswer.Read(ErrorReply(-17), 1, false, "create bridge x", null));
        Assert.That(e!.Errno, Is.EqualTo(NetlinkErrorException.EExist));
        e = Assert.Throws<NetlinkErrorException>(() => NetlinkAnswer.Read(ErrorReply(-NetlinkMessage.MaxErrno), 1, false, "op", null));
        Assert.That(e!.Errno, Is.EqualTo(NetlinkMessage.MaxErrno));
    }

    /// <summary>fuzz/findings/netlink/crashes-4fb06e9971709de1, -4a3648b897714301, -ec24b943d236e698
    /// (the netlink target's inputs, datagram at byte 3): an NLMSG_ERROR whose error is int.MinValue
    /// gave a NetlinkErrorException with errno -2147483648 (negating it overflows), -5000 one with
    /// errno 5000, and a positive error counted as an acknowledgement. The kernel sends 0 or
    /// -1..-4095 (MAX_ERRNO); anything else is now a format error.</summary>
    [TestCase(int.MinValue)]
    [TestCase(-5000)]
    [TestCase(-4096)]
    [TestCase(17)]
    public void AnErrorFieldNoKernelSendsIsAFormatError(int code)
    {
        Assert.Throws<NetlinkFormatException>(() => NetlinkAnswer.Read(ErrorReply(code), 1, false, "op", null));
    }

    [Test]
    public void TheFuzzersErrorInputsAreFormatErrors()
    {
        foreach (string hex in new[]
        {
            "00240024000000020000000100000000000000 00000080 10000000100005000100000000000000",
            "00240024000000020000000100000000000000 78ecffff 10000000100005000100000000000000",
            "00240024000000020000000100000000000000 11000000 10000000100005000100000000000000",
        })
        {
            byte[] input = Convert.FromHexString(hex.Replace(" ", "", StringComparison.Ordinal));
            byte[] datagram = input[3..];
            Assert.That(BinaryPrimitives.ReadUInt16LittleEndian(input.AsSpan(1)), Is.EqualTo(datagram.Length));
            Assert.Throws<NetlinkFormatException>(() => NetlinkAnswer.Read(datagram, 1, false, "op", null));
        }
    }

    [Test]
    public void ADumpEndsAtDoneAndAGetAtItsOneReply()
    {
        byte[] link = new NetlinkWriter(Nl.NewLink, Nl.FMulti, 1).IfInfo(Nl.AfUnspec, 3).AttrString(Nl.IflaIfName, "a").ToArray();
        byte[] done = new NetlinkWriter(Nl.Done, Nl.FMulti, 1).ToArray();
        var names = new List<string>();
        NetlinkPayloadHandler collect = (type, payload) => names.Add(RtnlParse.Link(payload).Name);
        Assert.That(NetlinkAnswer.Read(link, 1, true, "dump", collect), Is.False);
        Assert.That(NetlinkAnswer.Read([.. link, .. done], 1, true, "dump", collect), Is.True);
        Assert.That(names, Is.EqualTo(new[] { "a", "a" }));
        byte[] single = new NetlinkWriter(Nl.NewLink, 0, 1).IfInfo(Nl.AfUnspec, 3).AttrString(Nl.IflaIfName, "b").ToArray();
        Assert.That(NetlinkAnswer.Read(single, 1, false, "get", collect), Is.True);
        Assert.That(names[^1], Is.EqualTo("b"));
    }
}
