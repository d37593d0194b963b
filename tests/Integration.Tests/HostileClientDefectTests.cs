using System.Buffers.Binary;
using System.Globalization;
using VirtNetworkd.Protocol.Framing;
using VirtNetworkd.Protocol.Remote;
using VirtNetworkd.Tests.Shared;

namespace VirtNetworkd.Integration.Tests;

/// <summary>
/// Defects found by hostile testing (issue 10): duplicate event callbacks, packets from clients
/// that have not authenticated, replies too large for the protocol, memory after a burst.
/// </summary>
public class HostileClientDefectTests : DaemonFixture
{
    private const int InvalidArg = 8, Rpc = 7, RpcCode = 39;

    private static RawPacket Register(RawLibvirtClient c, int eventId, NonnullNetwork? net = null) =>
        c.Roundtrip((int)Procedure.ConnectNetworkEventRegisterAny, new ConnectNetworkEventRegisterAnyArgs { EventID = eventId, Net = net });

    private static NonnullNetwork Net(string name, Guid uuid) => new() { Name = name, Uuid = uuid.ToByteArray(bigEndian: true) };

    [Test]
    public void ASecondIdenticalEventCallbackIsRefusedAsLibvirtDoes()
    {
        using var c = Raw(Daemon.ReadOnlySocketPath);
        c.Open();
        Assert.That(Register(c, 0).Header.Status, Is.Zero);
        var again = Register(c, 0);
        Assert.That(again.Header.Status, Is.EqualTo(PacketStatus.Error));
        Assert.That(again.Error.Code, Is.EqualTo(InvalidArg));
        Assert.That(again.Error.Message, Is.EqualTo("invalid argument: event callback already tracked"));

        // other event ids and other network filters are other callbacks
        var uuid = Guid.NewGuid();
        Assert.That(Register(c, 1).Header.Status, Is.Zero);
        var filtered = Register(c, 0, Net("n", uuid));
        Assert.That(filtered.Header.Status, Is.Zero);
        Assert.That(Register(c, 0, Net("n", uuid)).Error.Message, Is.EqualTo("invalid argument: event callback already tracked"));

        // once deregistered, it can be registered again
        int id = filtered.Decode<ConnectNetworkEventRegisterAnyRet>().CallbackID;
        Assert.That(c.Roundtrip((int)Procedure.ConnectNetworkEventDeregisterAny, new ConnectNetworkEventDeregisterAnyArgs { CallbackID = id }).Header.Status, Is.Zero);
        Assert.That(Register(c, 0, Net("n", uuid)).Header.Status, Is.Zero);
    }

    [Test]
    public void EventCallbacksPerClientAreBounded()
    {
        using var c = Raw(Daemon.ReadOnlySocketPath);
        c.Open();
        const int limit = 1024;
        // filters may name networks that do not exist (as in libvirt): distinct uuids
        var packets = RawPackets.Calls(limit + 1, i => ((int)Procedure.ConnectNetworkEventRegisterAny,
            VirtNetworkd.Protocol.Xdr.XdrCodec.ToArray(new ConnectNetworkEventRegisterAnyArgs { EventID = 0, Net = Net("n", Guid.NewGuid()) })), 100);
        c.SendRaw(packets);
        int ok = 0;
        RawPacket? last = null;
        for (int i = 0; i <= limit; i++)
        {
            last = c.ReadReply(100u + (uint)i);
            if (last.Header.Status == PacketStatus.Ok) ok++;
        }
        Assert.That(ok, Is.EqualTo(limit));
        Assert.That(last!.Header.Status, Is.EqualTo(PacketStatus.Error));
        Assert.That(last.Error.Message, Does.Contain("too many network event callbacks"));
        AssertStillServing();
    }

    [Test]
    public void AnUnauthenticatedClientCannotSendALargePacket()
    {
        // nobody on the read-only socket (polkit) is not authenticated until AUTH_POLKIT
        string script = string.Join("\n",
            "import socket, struct, sys",
            "def conn():",
            "    s = socket.socket(socket.AF_UNIX); s.settimeout(10); s.connect(sys.argv[1]); return s",
            "def call(s, proc, body=b''):",
            "    s.sendall(struct.pack('>IIIiiIi', 28 + len(body), 0x20008086, 1, proc, 0, 1, 0) + body)",
            "def closed(s):",
            "    try:",
            "        while True:",
            "            d = s.recv(65536)",
            "            if not d: return True",
            "    except (ConnectionResetError, BrokenPipeError): return True",
            "    except socket.timeout: return False",
            "s = conn(); call(s, 66); r = s.recv(4096)",
            "print('auth_list', struct.unpack('>i', r[24:28])[0])",
            "s = conn()",
            "s.sendall(struct.pack('>IIIiiIi', 33554432, 0x20008086, 1, 66, 0, 1, 0))",
            "print('32MiB-declared closed', closed(s))",
            "s = conn()",
            "try: call(s, 66, b'\\0' * 8200)",
            "except (ConnectionResetError, BrokenPipeError): pass",
            "print('8KiB closed', closed(s))",
            "s = conn(); call(s, 66); r = s.recv(4096)",
            "print('still served', struct.unpack('>i', r[24:28])[0])");
        string file = Path.Combine(Daemon.Root, "preauth.py");
        File.WriteAllText(file, script);
        Tools.Require("setpriv", "util-linux");
        var r = Tools.Run("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", "/usr/bin/python3", file, Daemon.ReadOnlySocketPath]);
        Assert.That(r.ExitCode, Is.Zero, r.Stdout + r.Stderr);
        Assert.That(r.Stdout, Is.EqualTo("auth_list 0\n32MiB-declared closed True\n8KiB closed True\nstill served 0"));
        Assert.That(Daemon.Stderr + Daemon.Stdout, Does.Contain("too large, want 8192"));
        AssertStillServing();
    }

    [Test]
    public void AnXmlReplyOverTheProtocolLimitIsUnableToEncodeWithoutATrace()
    {
        using var c = Raw();
        c.Open();
        // '"' is written as &quot;: 1 MB of definition becomes a 6 MB document (over REMOTE_STRING_MAX)
        string description = new('"', 1_000_000);
        var define = c.Roundtrip((int)Procedure.NetworkDefineXml, new NetworkDefineXmlArgs
        {
            Xml = $"<network><name>hugexml</name><description>{description}</description><bridge name='vbhuge0'/></network>",
        });
        Assert.That(define.Header.Status, Is.Zero, () => define.Error.Message ?? "");
        var net = define.Decode<NetworkDefineXmlRet>().Net;
        var reply = c.Roundtrip((int)Procedure.NetworkGetXmlDesc, new NetworkGetXmlDescArgs { Net = net });
        Assert.That(reply.Header.Status, Is.EqualTo(PacketStatus.Error));
        Assert.That(reply.Error.Code, Is.EqualTo(RpcCode));
        Assert.That(reply.Error.Domain, Is.EqualTo(Rpc));
        Assert.That(reply.Error.Message, Is.EqualTo("Unable to encode message payload"));
        Assert.That(c.Roundtrip(157).Header.Status, Is.Zero, "the connection goes on");
        Assert.That(Daemon.Stderr, Does.Not.Contain("   at "), "no stack trace in the log");
        c.Roundtrip((int)Procedure.NetworkUndefine, new NetworkUndefineArgs { Net = net });
    }
}

/// <summary>max_clients counts real clients only: an idle accept on the other socket holds no slot.</summary>
public class MaxClientsOfOneTests : DaemonFixture
{
    protected override string? Config => "max_clients = 1\n";

    private RawLibvirtClient OpenOn(string socket, int timeoutMs = 5000)
    {
        var c = new RawLibvirtClient(socket, timeoutMs);
        c.Open();
        return c;
    }

    [Test]
    public void EachSocketIsServedAgainOnceTheOnlyClientLeaves()
    {
        for (int round = 0; round < 3; round++)
        {
            using (var rw = OpenOn(Daemon.SocketPath))
                Assert.That(rw.Roundtrip(157).Header.Status, Is.Zero, $"round {round}: read-write client");
            Thread.Sleep(50);
            using (var ro = OpenOn(Daemon.ReadOnlySocketPath))
                Assert.That(ro.Roundtrip(157).Header.Status, Is.Zero, $"round {round}: read-only client");
            Thread.Sleep(50);
        }
    }

    [Test]
    public void ASecondClientWaitsUntilTheFirstLeaves()
    {
        var first = OpenOn(Daemon.SocketPath);
        using var second = new RawLibvirtClient(Daemon.SocketPath, 1000);
        second.Call(66);
        Assert.Throws<System.Net.Sockets.SocketException>(() => second.Read(), "not served while the limit is reached");
        first.Dispose();
        second.Socket.ReceiveTimeout = 5000;
        Assert.That(second.Read()!.Header.Status, Is.Zero, "served once the first client left");
    }
}

/// <summary>A burst of large packets from authenticated clients: the memory goes back afterwards
/// (a daemon of its own, so that the idle size before is its own).</summary>
public class MemoryAfterBurstTests : DaemonFixture
{
    private long RssKb()
    {
        foreach (string line in File.ReadLines($"/proc/{Daemon.Process.Id}/status"))
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
        throw new InvalidOperationException("no VmRSS");
    }

    [Test]
    public void MemoryGoesBackAfterABurstOfLargePackets()
    {
        AssertStillServing();
        long before = RssKb();
        // twelve clients each send one 32 MiB call at once (a decode error: the body is junk)
        const int clients = 12, size = PacketFraming.MaxPacketSize;
        var tasks = Enumerable.Range(0, clients).Select(_ => Task.Run(() =>
        {
            using var c = Raw();
            c.Open();
            var packet = new byte[size];
            BinaryPrimitives.WriteUInt32BigEndian(packet, (uint)size);
            var header = new PacketHeader(RawLibvirtClient.Remote, 1, 157, PacketType.Call, 7, PacketStatus.Ok);
            header.Write(packet.AsSpan(4, PacketHeader.Size));
            c.SendRaw(packet);
            return c.ReadReply(7).Header.Status;
        })).ToArray();
        Task.WaitAll(tasks);
        Assert.That(tasks.Select(t => t.Result), Is.All.EqualTo(PacketStatus.Error));
        long peak = RssKb();
        long after = peak;
        for (int i = 0; i < 100 && after > 2 * before; i++)
        {
            Thread.Sleep(100);
            after = RssKb();
        }
        TestContext.Out.WriteLine($"VmRSS before {before} kB, after the burst {peak} kB, then {after} kB");
        Assert.That(after, Is.LessThanOrEqualTo(2 * before), $"idle VmRSS within 10 s of the burst (before {before} kB, peak {peak} kB)");
        AssertStillServing();
    }
}
