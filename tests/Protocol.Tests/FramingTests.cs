using System.Buffers;
using System.IO.Pipelines;
using VirtNetworkd.Protocol.Framing;
using VirtNetworkd.Protocol.Remote;
using VirtNetworkd.Protocol.Xdr;

namespace VirtNetworkd.Protocol.Tests;

public class FramingTests
{
    /// <summary>A sequence of the given pieces, as a pipe would hand them over.</summary>
    internal static ReadOnlySequence<byte> Segmented(params byte[][] pieces)
    {
        var first = new Segment(pieces[0], 0);
        var last = first;
        foreach (var p in pieces.Skip(1)) last = last.Append(p);
        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(byte[] data, long index)
        {
            Memory = data;
            RunningIndex = index;
        }

        public Segment Append(byte[] data)
        {
            var next = new Segment(data, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }

    [Test]
    public void PacketsSplitAtEveryOffsetAcrossSegmentsAreFramed()
    {
        var a = GoldenPacket.Load("network_define_xml.call").Bytes;
        var b = GoldenPacket.Load("connect_list_all_networks.reply").Bytes;
        var stream = a.Concat(b).ToArray();
        byte[]? scratch = null;
        for (int split = 1; split < stream.Length; split++)
        {
            var seq = Segmented(stream[..split], stream[split..]);
            Assert.That(PacketFraming.TryReadPacket(ref seq, out var p1), Is.True);
            Assert.That(PacketFraming.Contiguous(p1, ref scratch).ToArray(), Is.EqualTo(a), $"split {split}");
            Assert.That(PacketFraming.TryReadPacket(ref seq, out var p2), Is.True);
            var span = PacketFraming.Contiguous(p2, ref scratch);
            Assert.That(span.ToArray(), Is.EqualTo(b), $"split {split}");
            var ret = XdrCodec.Decode<ConnectListAllNetworksRet>(PacketFraming.Body(span));
            Assert.That(ret.Nets, Has.Length.EqualTo(2));
            Assert.That(PacketFraming.TryReadPacket(ref seq, out _), Is.False);
        }
        Assert.That(scratch, Is.Not.Null, "split packets went through the pooled scratch buffer");
        ArrayPool<byte>.Shared.Return(scratch!);
    }

    [Test]
    public void LengthFieldSplitAcrossSegmentsIsRead()
    {
        var a = GoldenPacket.Load("auth_list.call").Bytes;
        var seq = Segmented(a[..1], a[1..2], a[2..3], a[3..]);
        Assert.That(PacketFraming.TryReadPacket(ref seq, out var p), Is.True);
        Assert.That(p.Length, Is.EqualTo(a.Length));
    }

    [Test]
    public void HeaderRoundTrips()
    {
        var h = new PacketHeader(0x20008086, 1, 283, PacketType.Reply, 0xFFFFFFFE, PacketStatus.Error);
        Span<byte> buf = stackalloc byte[PacketHeader.Size];
        h.Write(buf);
        Assert.That(PacketHeader.Read(buf), Is.EqualTo(h));
    }

    [Test]
    public async Task PacketWriterPatchesTheLengthInAPipe()
    {
        var pipe = new Pipe(new PipeOptions(minimumSegmentSize: 64));
        var xml = new string('x', 5000); // several pipe segments
        var header = new PacketHeader(RemoteProgram.Number, 1, (int)Procedure.NetworkGetXmlDesc, PacketType.Reply, 9, PacketStatus.Ok);
        long written = PacketWriter.Write(pipe.Writer, header, new NetworkGetXmlDescRet { Xml = xml });
        await pipe.Writer.FlushAsync();
        await pipe.Writer.CompleteAsync();

        var result = await pipe.Reader.ReadAsync();
        var buffer = result.Buffer;
        Assert.That(PacketFraming.TryReadPacket(ref buffer, out var packet), Is.True);
        Assert.That(packet.Length, Is.EqualTo(written));
        byte[]? scratch = null;
        var span = PacketFraming.Contiguous(packet, ref scratch);
        Assert.That(PacketFraming.ReadHeader(span), Is.EqualTo(header));
        Assert.That(XdrCodec.Decode<NetworkGetXmlDescRet>(PacketFraming.Body(span)).Xml, Is.EqualTo(xml));
        pipe.Reader.AdvanceTo(buffer.Start, buffer.End);
    }

    [Test]
    public void OversizedPacketIsRefused()
    {
        using var output = new PooledBufferWriter();
        var header = new PacketHeader(RemoteProgram.Number, 1, 43, PacketType.Reply, 1, PacketStatus.Ok);
        Assert.Throws<XdrEncodeException>(() => PacketWriter.Write(output, header, new NetworkGetXmlDescRet { Xml = new string('x', 100) }, maxPacketSize: 64));
    }

    [Test]
    public void PooledBufferWriterNeverMovesWrittenBytes()
    {
        using var b = new PooledBufferWriter(chunkSize: 8);
        var first = b.GetMemory(4);
        first.Span[..4].Fill(1);
        b.Advance(4);
        var second = b.GetMemory(100); // does not fit: a new chunk
        second.Span[..100].Fill(2);
        b.Advance(100);
        first.Span[0] = 9; // still the live bytes
        var all = b.ToArray();
        Assert.That(all, Has.Length.EqualTo(104));
        Assert.That(all[0], Is.EqualTo(9));
        Assert.That(all[4..].All(x => x == 2), Is.True);
        b.Reset();
        Assert.That(b.WrittenCount, Is.Zero);
        Assert.Throws<InvalidOperationException>(() => b.Advance(1));
    }
}
