using System.Buffers;
using VirtNetworkd.Protocol.Framing;
using VirtNetworkd.Protocol.Remote;
using VirtNetworkd.Protocol.Xdr;

namespace VirtNetworkd.Protocol.Tests;

/// <summary>
/// Byte-exact decode and re-encode of packets captured from virsh and python3-libvirt talking to
/// Debian's libvirtd 9.0 (network driver only), through tools/capture/libvirt-capture.py; how
/// they were captured is in Golden/README.md.
/// </summary>
public class GoldenVectorTests
{
    public static IEnumerable<GoldenPacket> Packets => GoldenPacket.All();

    [Test]
    public void TheRequiredVectorsArePresent()
    {
        var names = Packets.Select(p => p.Name).ToHashSet();
        string[] required =
        [
            "auth_list.call", "auth_list.reply", "connect_open.call", "connect_open.reply",
            "connect_list_all_networks.call", "connect_list_all_networks.reply",
            "network_lookup_by_name.call", "network_lookup_by_name.reply",
            "network_get_xml_desc.call", "network_get_xml_desc.reply",
            "network_define_xml.call", "network_define_xml.reply",
            "network_lookup_by_name.error", "keepalive_ping", "keepalive_pong", "network_event_lifecycle.msg",
        ];
        Assert.That(required.Where(r => !names.Contains(r)), Is.Empty);
    }

    [TestCaseSource(nameof(Packets))]
    public void DecodesAndReencodesByteForByte(GoldenPacket packet)
    {
        var seq = new ReadOnlySequence<byte>(packet.Bytes);
        Assert.That(PacketFraming.TryReadPacket(ref seq, out var framed), Is.True);
        Assert.That(framed.Length, Is.EqualTo(packet.Bytes.Length), "length word counts the whole packet");
        Assert.That(seq.Length, Is.Zero);

        var type = packet.BodyType;
        if (type is null)
        {
            Assert.That(packet.Body, Is.Empty);
            return;
        }
        var value = Codec.Decode(type, packet.Body);
        Assert.That(Codec.Encode(type, value), Is.EqualTo(packet.Body));
    }

    [TestCaseSource(nameof(Packets))]
    public void PacketWriterReproducesTheWholePacket(GoldenPacket packet)
    {
        var type = packet.BodyType;
        using var output = new PooledBufferWriter(32); // small chunks: the length slot is patched across chunks
        if (type is null)
        {
            PacketWriter.Write(output, packet.Header, new XdrVoid());
        }
        else
        {
            var value = Codec.Decode(type, packet.Body);
            typeof(GoldenVectorTests).GetMethod(nameof(WritePacket), System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static)!
                .MakeGenericMethod(type).Invoke(null, [output, packet.Header, value]);
        }
        Assert.That(output.ToArray(), Is.EqualTo(packet.Bytes));
    }

    private static void WritePacket<T>(PooledBufferWriter output, PacketHeader header, object value) where T : IXdrType<T> =>
        PacketWriter.Write(output, header, (T)value);

    [Test]
    public void ConnectOpenCallCarriesTheUri()
    {
        var p = GoldenPacket.Load("connect_open.call");
        Assert.That(p.Header, Is.EqualTo(new PacketHeader(RemoteProgram.Number, 1, (int)Procedure.ConnectOpen, PacketType.Call, p.Header.Serial, PacketStatus.Ok)));
        var args = XdrCodec.Decode<ConnectOpenArgs>(p.Body);
        Assert.That(args.Name, Is.EqualTo("network:///system"));
        Assert.That(args.Flags, Is.Zero);
    }

    [Test]
    public void AuthListReplyOffersNone()
    {
        var ret = XdrCodec.Decode<AuthListRet>(GoldenPacket.Load("auth_list.reply").Body);
        Assert.That(ret.Types, Is.EqualTo(new[] { AuthType.None }));
    }

    [Test]
    public void ListAllNetworksReplyNamesTwoNetworks()
    {
        var call = XdrCodec.Decode<ConnectListAllNetworksArgs>(GoldenPacket.Load("connect_list_all_networks.call").Body);
        Assert.That(call.NeedResults, Is.EqualTo(1));
        Assert.That(call.Flags, Is.EqualTo(3u), "virsh net-list --all asks for active|inactive");
        var ret = XdrCodec.Decode<ConnectListAllNetworksRet>(GoldenPacket.Load("connect_list_all_networks.reply").Body);
        Assert.That(ret.Nets.Select(n => n.Name), Is.EquivalentTo(new[] { "golden1", "golden2" }));
        Assert.That(ret.Nets.All(n => n.Uuid.Length == 16), Is.True);
        Assert.That(ret.Ret, Is.EqualTo(2u));
    }

    [Test]
    public void LookupAndXmlDescAgreeOnTheNetwork()
    {
        var lookup = XdrCodec.Decode<NetworkLookupByNameRet>(GoldenPacket.Load("network_lookup_by_name.reply").Body);
        var xmlCall = XdrCodec.Decode<NetworkGetXmlDescArgs>(GoldenPacket.Load("network_get_xml_desc.call").Body);
        var xml = XdrCodec.Decode<NetworkGetXmlDescRet>(GoldenPacket.Load("network_get_xml_desc.reply").Body);
        Assert.That(lookup.Net.Name, Is.EqualTo("golden1"));
        Assert.That(xmlCall.Net.Uuid, Is.EqualTo(lookup.Net.Uuid));
        Assert.That(xml.Xml, Does.StartWith("<network>").And.Contain("<name>golden1</name>"));
    }

    [Test]
    public void DefineXmlCallCarriesTheDocument()
    {
        var args = XdrCodec.Decode<NetworkDefineXmlArgs>(GoldenPacket.Load("network_define_xml.call").Body);
        Assert.That(args.Xml, Does.Contain("<name>golden1</name>"));
        var ret = XdrCodec.Decode<NetworkDefineXmlRet>(GoldenPacket.Load("network_define_xml.reply").Body);
        Assert.That(ret.Net.Name, Is.EqualTo("golden1"));
    }

    [Test]
    public void ErrorReplyIsNetworkNotFound()
    {
        var p = GoldenPacket.Load("network_lookup_by_name.error");
        Assert.That(p.Header.Status, Is.EqualTo(PacketStatus.Error));
        var e = XdrCodec.Decode<Error>(p.Body);
        Assert.Multiple(() =>
        {
            Assert.That(e.Code, Is.EqualTo(43), "VIR_ERR_NO_NETWORK");
            Assert.That(e.Domain, Is.EqualTo(19), "VIR_FROM_NETWORK");
            Assert.That(e.Level, Is.EqualTo(2), "VIR_ERR_ERROR");
            Assert.That(e.Message, Is.EqualTo("Network not found: no network with matching name 'nosuchnet'"));
            Assert.That(e.Str1, Is.EqualTo("Network not found: %s"));
            Assert.That(e.Str3, Is.Null);
            Assert.That(e.Dom, Is.Null);
            Assert.That(e.Net, Is.Null);
            Assert.That(e.Int1, Is.EqualTo(-1));
        });
    }

    [Test]
    public void KeepalivePingAndPongAreEmptyMessages()
    {
        foreach (var (name, proc) in new[] { ("keepalive_ping", Keepalive.Procedure.Ping), ("keepalive_pong", Keepalive.Procedure.Pong) })
        {
            var p = GoldenPacket.Load(name);
            Assert.That(p.Header, Is.EqualTo(new PacketHeader(Keepalive.KeepaliveProgram.Number, 1, (int)proc, PacketType.Message, 0, PacketStatus.Ok)), name);
            Assert.That(p.Bytes, Has.Length.EqualTo(28), name);
        }
    }

    [Test]
    public void LifecycleEventNamesTheStartedNetwork()
    {
        var p = GoldenPacket.Load("network_event_lifecycle.msg");
        Assert.That(p.Header.Type, Is.EqualTo(PacketType.Message));
        Assert.That(p.Header.Procedure, Is.EqualTo((int)Procedure.NetworkEventLifecycle));
        var msg = XdrCodec.Decode<NetworkEventLifecycleMsg>(p.Body);
        Assert.That(msg.Net.Name, Is.EqualTo("golden1"));
        Assert.That(msg.Event, Is.EqualTo(2), "VIR_NETWORK_EVENT_STARTED");
        var reg = XdrCodec.Decode<ConnectNetworkEventRegisterAnyRet>(GoldenPacket.Load("connect_network_event_register_any.reply").Body);
        Assert.That(msg.CallbackID, Is.EqualTo(reg.CallbackID), "the event carries the id the register call returned");
    }
}
