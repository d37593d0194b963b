using System.Buffers.Binary;
using System.Net.Sockets;
using VirtNetworkd.Protocol.Remote;
using VirtNetworkd.Tests.Shared;

namespace VirtNetworkd.Integration.Tests;

/// <summary>Broken and hostile clients: each is dropped or ignored alone, the daemon stays up and
/// serves everyone else.</summary>
public class AbuseTests : DaemonFixture
{
    private static byte[] LengthWord(uint length)
    {
        var b = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(b, length);
        return b;
    }

    [TestCase(0x7FFFFFFFu)]
    [TestCase(33554433u)]
    [TestCase(3u)]
    [TestCase(27u)]
    public void ImpossibleLengthClosesThatClientOnly(uint length)
    {
        using var bystander = Raw();
        bystander.Open();
        using var c = Raw();
        c.SendRaw(LengthWord(length));
        Assert.That(c.IsClosedByServer(), Is.True);
        Assert.That(bystander.Roundtrip(157).Header.Status, Is.Zero, "the other client is unaffected");
        AssertStillServing();
    }

    [Test]
    public void TruncatedFrameThenCloseLeavesTheDaemonUp()
    {
        var packet = new byte[100];
        BinaryPrimitives.WriteUInt32BigEndian(packet, 100);
        using (var c = Raw()) c.SendRaw(packet.AsSpan(0, 40));
        AssertStillServing();
    }

    [Test]
    public void GarbageBytes()
    {
        var rng = new Random(42);
        for (int i = 0; i < 20; i++)
        {
            var junk = new byte[rng.Next(1, 4096)];
            rng.NextBytes(junk);
            using var c = Raw();
            try
            {
                c.SendRaw(junk);
                c.Socket.Shutdown(SocketShutdown.Send);
                c.IsClosedByServer();
            }
            catch (SocketException)
            {
                // the daemon may close before it has read everything: that is a refusal too
            }
        }
        AssertStillServing();
    }

    [Test]
    public void AThousandIdleConnections()
    {
        var idle = new List<Socket>();
        try
        {
            for (int i = 0; i < 1000; i++)
            {
                var s = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                s.Connect(new UnixDomainSocketEndPoint(Daemon.SocketPath));
                idle.Add(s);
            }
            AssertStillServing();
        }
        finally
        {
            foreach (var s in idle) s.Dispose();
        }
        AssertStillServing();
    }

    [Test]
    public void AClientThatNeverReadsItsRepliesIsThrottledNotFatal()
    {
        using var greedy = Raw();
        greedy.Open();
        greedy.Socket.SendTimeout = 2000;
        // pipeline calls without reading: the daemon stops reading from this client when its
        // replies back up, so our sends eventually block; that is the backpressure
        int sent = 0;
        var call = Encode(157, 0);
        var sw = System.Diagnostics.Stopwatch.StartNew();
        try
        {
            while (sw.ElapsedMilliseconds < 10_000 && sent < 2_000_000)
            {
                BinaryPrimitives.WriteUInt32BigEndian(call.AsSpan(20), (uint)sent + 10);
                greedy.Socket.Send(call);
                sent++;
            }
        }
        catch (SocketException)
        {
        }
        Assert.That(sent, Is.LessThan(2_000_000), "the daemon never stopped reading from a client that does not read");
        AssertStillServing();
        long rss = RssKb(Daemon.Process.Id);
        Assert.That(rss, Is.LessThan(512 * 1024), "the daemon buffered without bound");
    }

    private static byte[] Encode(int procedure, uint serial)
    {
        using var w = new VirtNetworkd.Protocol.Xdr.PooledBufferWriter();
        VirtNetworkd.Protocol.Framing.PacketWriter.Write(w, new VirtNetworkd.Protocol.Framing.PacketHeader(RawLibvirtClient.Remote, 1, procedure, 0, serial, 0), new VirtNetworkd.Protocol.Xdr.XdrVoid());
        return w.ToArray();
    }

    private static long RssKb(int pid)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture);
        }
        return 0;
    }

    [Test]
    public void ClientVanishingWithCallsInFlight()
    {
        for (int i = 0; i < 20; i++)
        {
            using var c = Raw();
            c.Open();
            for (int k = 0; k < 50; k++) c.Call(157);
        }
        AssertStillServing();
    }

    [Test]
    public void HugeButLegalStringIsDecodedAndAnswered()
    {
        using var c = Raw();
        c.Open();
        // 4 MiB of URI to CONNECT_OPEN on an open connection: refused politely
        var reply = c.Roundtrip(1, new ConnectOpenArgs { Name = new string('a', 4 * 1024 * 1024) });
        Assert.That(reply.Error.Message, Is.EqualTo("internal error: connection already open"));
    }
}
