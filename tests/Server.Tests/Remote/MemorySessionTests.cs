using System.Buffers.Binary;
using VirtNetworkd.NetworkDriver.Driver;
using VirtNetworkd.Protocol.Framing;
using VirtNetworkd.Protocol.Remote;
using VirtNetworkd.Protocol.Xdr;
using VirtNetworkd.Server.Remote;
using VirtNetworkd.Server.Rpc;
using VirtNetworkd.Tests.Shared;

namespace VirtNetworkd.Server.Tests.Remote;

/// <summary>
/// The RPC session driven in memory: bytes in, packets out, no socket and no event loop (what the
/// fuzzing harness does). Also where events go relative to the reply of the call that caused them.
/// </summary>
public sealed class MemorySessionTests
{
    private string _root = "";
    private NetworkDriver.Driver.NetworkDriver _driver = null!;
    private RemoteDispatcher _remote = null!;

    [SetUp]
    public void SetUp()
    {
        _root = Directory.CreateTempSubdirectory("vnd-memsession-").FullName;
        _driver = new NetworkDriver.Driver.NetworkDriver(Path.Combine(_root, "networks"), Path.Combine(_root, "networks", "autostart"),
            Path.Combine(_root, "state"), privileged: true, new InProcessBackend());
        _driver.Load();
        _remote = new RemoteDispatcher(new RemoteContext(true, 5, 5, _driver, new NetworkEventHub(_driver)));
    }

    [TearDown]
    public void TearDown() => Directory.Delete(_root, recursive: true);

    private static byte[] Call<T>(int procedure, uint serial, in T body) where T : IXdrType<T>
    {
        using var w = new PooledBufferWriter();
        PacketWriter.Write(w, new PacketHeader(RawLibvirtClient.Remote, 1, procedure, PacketType.Call, serial, PacketStatus.Ok), body);
        return w.ToArray();
    }

    private static List<RawPacket> Packets(byte[] output)
    {
        var list = new List<RawPacket>();
        for (int i = 0; i < output.Length;)
        {
            int len = (int)BinaryPrimitives.ReadUInt32BigEndian(output.AsSpan(i));
            var packet = output.AsSpan(i, len);
            list.Add(new RawPacket(PacketFraming.ReadHeader(packet), PacketFraming.Body(packet).ToArray()));
            i += len;
        }
        return list;
    }

    private MemorySession Open()
    {
        var m = new MemorySession(_remote);
        m.Feed([.. Call(66, 1, new XdrVoid()), .. Call(1, 2, new ConnectOpenArgs { Name = "network:///system" })]);
        var replies = Packets(m.TakeOutput());
        Assert.That(replies.Select(p => (p.Header.Serial, p.Header.Status)), Is.EqualTo(new[] { (1u, 0), (2u, 0) }));
        return m;
    }

    [Test]
    public void CallsAreAnsweredWithoutASocket()
    {
        using var m = Open();
        // a call split across two feeds is answered once whole
        byte[] call = Call(157, 3, new XdrVoid());
        m.Feed(call.AsSpan(0, 10));
        Assert.That(m.TakeOutput(), Is.Empty);
        m.Feed(call.AsSpan(10));
        var reply = Packets(m.TakeOutput()).Single();
        Assert.That(reply.Header.Serial, Is.EqualTo(3u));
        Assert.That(reply.Decode<ConnectGetLibVersionRet>().LibVer, Is.EqualTo(10008000UL));
    }

    [Test]
    public void WorkerCallsRunInlineAndAreAnswered()
    {
        using var m = Open();
        m.Feed(Call((int)Procedure.NetworkDefineXml, 3, new NetworkDefineXmlArgs { Xml = "<network><name>mem</name><bridge name='vbmem0'/></network>" }));
        var reply = Packets(m.TakeOutput()).Single();
        Assert.That(reply.Header.Status, Is.Zero);
        Assert.That(reply.Decode<NetworkDefineXmlRet>().Net.Name, Is.EqualTo("mem"));
        Assert.That(_driver.LookupByName("mem").Name, Is.EqualTo("mem"));
    }

    [Test]
    public void ABrokenFrameClosesTheSession()
    {
        using var m = Open();
        m.Feed([0x7f, 0xff, 0xff, 0xff]);
        Assert.That(m.Closed, Is.True);
    }

    [Test]
    public void ConnectCloseAnswersThenCloses()
    {
        using var m = Open();
        m.Feed(Call(2, 3, new XdrVoid()));
        Assert.That(m.Closed, Is.True);
        Assert.That(Packets(m.TakeOutput()).Single().Header.Serial, Is.EqualTo(3u));
    }

    [Test]
    public void TheEventOfACallComesAfterItsReply()
    {
        using var m = Open();
        m.Feed(Call((int)Procedure.ConnectNetworkEventRegisterAny, 3, new ConnectNetworkEventRegisterAnyArgs { EventID = 0 }));
        Assert.That(Packets(m.TakeOutput()).Single().Header.Status, Is.Zero);

        m.Feed(Call((int)Procedure.NetworkCreateXml, 4, new NetworkCreateXmlArgs { Xml = "<network><name>ev</name><bridge name='vbev0'/></network>" }));
        var packets = Packets(m.TakeOutput());
        Assert.That(packets.Select(p => (p.Header.Type, p.Header.Procedure)), Is.EqualTo(new[]
        {
            (PacketType.Reply, (int)Procedure.NetworkCreateXml),
            (PacketType.Message, (int)Procedure.NetworkEventLifecycle),
        }), "the reply first, then the started event");
    }

    [Test]
    public void EventsOfAnotherThreadAreSentAtOnce()
    {
        using var m = Open();
        m.Feed(Call((int)Procedure.ConnectNetworkEventRegisterAny, 3, new ConnectNetworkEventRegisterAnyArgs { EventID = 0 }));
        m.TakeOutput();
        _driver.DefineXml("<network><name>direct</name><bridge name='vbdi0'/></network>", 0);
        var ev = Packets(m.TakeOutput()).Single();
        Assert.That(ev.Header.Procedure, Is.EqualTo((int)Procedure.NetworkEventLifecycle));
    }
}
