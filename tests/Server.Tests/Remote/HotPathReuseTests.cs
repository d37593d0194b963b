using VirtNetworkd.Protocol.Framing;
using VirtNetworkd.Protocol.Remote;
using VirtNetworkd.Protocol.Xdr;
using VirtNetworkd.Server.Remote;
using VirtNetworkd.Tests.Shared;
using KeepaliveProgram = VirtNetworkd.Protocol.Keepalive.KeepaliveProgram;

namespace VirtNetworkd.Server.Tests.Remote;

/// <summary>
/// The allocation-free query path reuses per-thread buffers (decoded uuids, the uuid of a
/// reply): consecutive calls naming different networks, with shorter and longer names, must each
/// get their own answer.
/// </summary>
public sealed class HotPathReuseTests
{
    private const string ShortName = "a";
    private const string LongName = "a-network-with-a-much-longer-name";
    private static readonly Guid ShortUuid = Guid.Parse("11111111-2222-3333-4444-555555555555");
    private static readonly Guid LongUuid = Guid.Parse("66666666-7777-4888-9999-aaaaaaaaaaaa");
    private static readonly Guid UnknownUuid = Guid.Parse("deadbeef-0000-4000-8000-000000000001");

    private InProcessServer _server = null!;

    [OneTimeSetUp]
    public void StartServer()
    {
        _server = new InProcessServer();
        var d = _server.Driver;
        d.Create(d.DefineXml($"<network><name>{ShortName}</name><uuid>{ShortUuid}</uuid><bridge name='vbr-short'/></network>", 0));
        d.DefineXml($"<network><name>{LongName}</name><uuid>{LongUuid}</uuid><bridge name='vbr-long'/></network>", 0);
    }

    [OneTimeTearDown]
    public async Task StopServer() => await _server.DisposeAsync();

    private static NonnullNetwork Net(string name, Guid uuid) => new() { Name = name, Uuid = uuid.ToByteArray(bigEndian: true) };

    [Test]
    public void ScratchArgsReusesTheArrayAndKeepsNothingOfThePreviousCall()
    {
        ref readonly var first = ref RemoteDispatcher.ScratchArgs<NetworkIsActiveArgs>(XdrCodec.ToArray(new NetworkIsActiveArgs { Net = Net(LongName, LongUuid) }));
        Assert.That(first.Net.Name, Is.EqualTo(LongName));
        Assert.That(first.Net.Uuid, Is.EqualTo(LongUuid.ToByteArray(bigEndian: true)));
        byte[] array = first.Net.Uuid;

        ref readonly var second = ref RemoteDispatcher.ScratchArgs<NetworkIsActiveArgs>(XdrCodec.ToArray(new NetworkIsActiveArgs { Net = Net(ShortName, ShortUuid) }));
        Assert.That(second.Net.Name, Is.EqualTo(ShortName));
        Assert.That(second.Net.Uuid, Is.EqualTo(ShortUuid.ToByteArray(bigEndian: true)));
        Assert.That(second.Net.Uuid, Is.SameAs(array), "the uuid array is reused");
    }

    [Test]
    public void ScratchArgsStillRejectsTrailingBytes()
    {
        byte[] body = [.. XdrCodec.ToArray(new NetworkLookupByUuidArgs { Uuid = ShortUuid.ToByteArray(bigEndian: true) }), 0, 0, 0, 0];
        Assert.Throws<XdrDecodeException>(() => RemoteDispatcher.ScratchArgs<NetworkLookupByUuidArgs>(body));
    }

    [Test]
    public void AlternatingCallsAnswerForTheNetworkEachOneNames()
    {
        using var c = _server.OpenClient();
        for (int round = 0; round < 3; round++)
        {
            foreach (var (name, uuid, active, bridge) in new[] { (LongName, LongUuid, 0, "vbr-long"), (ShortName, ShortUuid, 1, "vbr-short") })
            {
                var byUuid = Ok(c.Roundtrip((int)Procedure.NetworkLookupByUuid, new NetworkLookupByUuidArgs { Uuid = uuid.ToByteArray(bigEndian: true) }))
                    .Decode<NetworkLookupByUuidRet>().Net;
                Assert.That((byUuid.Name, new Guid(byUuid.Uuid, bigEndian: true)), Is.EqualTo((name, uuid)));
                var byName = Ok(c.Roundtrip((int)Procedure.NetworkLookupByName, new NetworkLookupByNameArgs { Name = name }))
                    .Decode<NetworkLookupByNameRet>().Net;
                Assert.That((byName.Name, new Guid(byName.Uuid, bigEndian: true)), Is.EqualTo((name, uuid)));
                var net = Net(name, uuid);
                Assert.That(Ok(c.Roundtrip((int)Procedure.NetworkIsActive, new NetworkIsActiveArgs { Net = net })).Decode<NetworkIsActiveRet>().Active, Is.EqualTo(active));
                Assert.That(Ok(c.Roundtrip((int)Procedure.NetworkIsPersistent, new NetworkIsPersistentArgs { Net = net })).Decode<NetworkIsPersistentRet>().Persistent, Is.EqualTo(1));
                Assert.That(Ok(c.Roundtrip((int)Procedure.NetworkGetAutostart, new NetworkGetAutostartArgs { Net = net })).Decode<NetworkGetAutostartRet>().Autostart, Is.EqualTo(0));
                Assert.That(Ok(c.Roundtrip((int)Procedure.NetworkGetBridgeName, new NetworkGetBridgeNameArgs { Net = net })).Decode<NetworkGetBridgeNameRet>().Name, Is.EqualTo(bridge));
            }
        }
        Assert.That(Ok(c.Roundtrip((int)Procedure.ConnectNumOfNetworks)).Decode<ConnectNumOfNetworksRet>().Num, Is.EqualTo(1));
        Assert.That(Ok(c.Roundtrip((int)Procedure.ConnectNumOfDefinedNetworks)).Decode<ConnectNumOfDefinedNetworksRet>().Num, Is.EqualTo(1));
    }

    [Test]
    public void XmlRepliesAreReplayedOnlyWhileTheNetworkIsUnchanged()
    {
        using var c = _server.OpenClient();
        string Xml(string name, Guid uuid, uint flags = 0) =>
            Ok(c.Roundtrip((int)Procedure.NetworkGetXmlDesc, new NetworkGetXmlDescArgs { Net = Net(name, uuid), Flags = flags })).Decode<NetworkGetXmlDescRet>().Xml;
        const string name = "xml-replay";
        var uuid = Guid.Parse("12345678-1234-4234-8234-123456789abc");
        _server.Driver.DefineXml($"<network><name>{name}</name><uuid>{uuid}</uuid><bridge name='vbr-xml'/></network>", 0);
        try
        {
            string first = Xml(name, uuid);
            Assert.That(Xml(name, uuid), Is.EqualTo(first));
            Assert.That(Xml(ShortName, ShortUuid), Does.Contain($"<name>{ShortName}</name>"), "another network's reply is its own");
            _server.Driver.DefineXml($"<network><name>{name}</name><uuid>{uuid}</uuid><bridge name='vbr-xml'/><domain name='changed.example'/></network>", 0);
            string second = Xml(name, uuid);
            Assert.That(second, Does.Contain("changed.example"), "a redefinition shows at once");
            Assert.That(Xml(name, uuid, flags: 1), Is.EqualTo(second));
        }
        finally
        {
            _server.Driver.Undefine(_server.Driver.LookupByName(name));
        }
    }

    [Test]
    public void AnUnknownUuidAfterAKnownOneIsNotFound()
    {
        using var c = _server.OpenClient();
        Ok(c.Roundtrip((int)Procedure.NetworkLookupByUuid, new NetworkLookupByUuidArgs { Uuid = ShortUuid.ToByteArray(bigEndian: true) }));
        var reply = c.Roundtrip((int)Procedure.NetworkLookupByUuid, new NetworkLookupByUuidArgs { Uuid = UnknownUuid.ToByteArray(bigEndian: true) });
        Assert.That(reply.Header.Status, Is.EqualTo(PacketStatus.Error));
        Assert.That(reply.Error.Message, Does.Contain($"no network with matching uuid '{UnknownUuid}'"));

        Ok(c.Roundtrip((int)Procedure.NetworkIsActive, new NetworkIsActiveArgs { Net = Net(ShortName, ShortUuid) }));
        reply = c.Roundtrip((int)Procedure.NetworkIsActive, new NetworkIsActiveArgs { Net = Net(LongName, UnknownUuid) });
        Assert.That(reply.Header.Status, Is.EqualTo(PacketStatus.Error));
        Assert.That(reply.Error.Message, Does.Contain($"no network with matching uuid '{UnknownUuid}' ({LongName})"));
    }

    [Test]
    public async Task AClientConnectingLaterIsStillPinged()
    {
        await using var server = new InProcessServer(keepaliveInterval: 1, keepaliveCount: 5);
        using (var first = server.OpenClient()) Ok(first.Roundtrip((int)Procedure.ConnectGetLibVersion));
        await Task.Delay(1500); // the keepalive ticker has run with the first client only
        using var c = server.OpenClient();
        Assert.That(Ok(c.Roundtrip((int)Procedure.ConnectSupportsFeature, new ConnectSupportsFeatureArgs { Feature = 10 }))
            .Decode<ConnectSupportsFeatureRet>().Supported, Is.EqualTo(1));
        var ping = c.Read();
        Assert.That(ping, Is.Not.Null);
        Assert.That((ping!.Header.Program, ping.Header.Procedure, ping.Header.Type), Is.EqualTo((KeepaliveProgram.Number, 1, PacketType.Message)));
    }

    private static RawPacket Ok(RawPacket reply)
    {
        Assert.That(reply.Header.Status, Is.EqualTo(PacketStatus.Ok), () => reply.Error.Message ?? "(no message)");
        return reply;
    }
}
