using System.Buffers;
using System.Buffers.Binary;
using NUnit.Framework;
using VirtNetworkd.Protocol.Xdr;
using VirtNetworkd.Server.Rpc;

namespace VirtNetworkd.Server.Tests.Rpc;

public class SessionBufferTests
{
    private static byte[] Pattern(int n, int seed) => Enumerable.Range(0, n).Select(i => (byte)(i * 7 + seed)).ToArray();

    [Test]
    public void Bytes_come_out_in_order_across_segments()
    {
        var buffer = new SessionBuffer(64);
        var expected = new List<byte>();
        for (int i = 0; i < 50; i++)
        {
            var chunk = Pattern(1 + i * 3 % 40, i);
            buffer.Write(chunk);
            expected.AddRange(chunk);
        }
        Assert.That(buffer.Length, Is.EqualTo(expected.Count));
        Assert.That(buffer.Readable.IsSingleSegment, Is.False, "64-byte segments must chain");
        Assert.That(buffer.Readable.ToArray(), Is.EqualTo(expected.ToArray()));
    }

    [Test]
    public void Consuming_in_pieces_keeps_the_rest_and_empties_to_nothing()
    {
        var buffer = new SessionBuffer(32);
        var data = Pattern(1000, 3);
        buffer.Write(data);
        int at = 0;
        foreach (int step in new[] { 1, 31, 32, 33, 100, 3, 400 })
        {
            buffer.Consume(step);
            at += step;
            Assert.That(buffer.Readable.ToArray(), Is.EqualTo(data[at..]), $"after consuming {at}");
        }
        buffer.AdvanceTo(buffer.Readable.End);
        Assert.That(buffer.IsEmpty, Is.True);
        Assert.That(buffer.Readable.Length, Is.Zero);
        // usable again after emptying (its segments went back to the pool)
        buffer.Write(data.AsSpan(0, 70));
        Assert.That(buffer.Readable.ToArray(), Is.EqualTo(data[..70]));
    }

    [Test]
    public void Writing_while_half_read_appends_after_the_unread_part()
    {
        var buffer = new SessionBuffer(16);
        buffer.Write(Pattern(40, 1));
        buffer.Consume(25);
        buffer.Write(Pattern(40, 2));
        Assert.That(buffer.Readable.ToArray(), Is.EqualTo(Pattern(40, 1)[25..].Concat(Pattern(40, 2)).ToArray()));
    }

    [Test]
    public void A_slot_reserved_before_the_buffer_grows_is_patched_in_place()
    {
        // a packet's length is reserved first and patched after its body, which may take new segments
        var buffer = new SessionBuffer(16);
        var w = new XdrWriter(buffer);
        var slot = w.ReserveUInt32();
        for (int i = 0; i < 100; i++) w.WriteInt32(i);
        XdrWriter.Patch(slot, 0xCAFEBABE);
        w.Flush();
        var bytes = buffer.Readable.ToArray();
        Assert.That(bytes.Length, Is.EqualTo(404));
        Assert.That(BinaryPrimitives.ReadUInt32BigEndian(bytes), Is.EqualTo(0xCAFEBABE));
        Assert.That(BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(400)), Is.EqualTo(99));
    }

    [Test]
    public void A_large_hint_gets_one_segment_big_enough()
    {
        var buffer = new SessionBuffer(16);
        var memory = buffer.GetMemory(5000);
        Assert.That(memory.Length, Is.GreaterThanOrEqualTo(5000));
        buffer.Advance(5000);
        Assert.That(buffer.Length, Is.EqualTo(5000));
        Assert.Throws<ArgumentOutOfRangeException>(() => buffer.Advance(memory.Length));
    }

    [Test]
    public void A_position_from_elsewhere_is_refused()
    {
        var buffer = new SessionBuffer(16);
        buffer.Write(Pattern(10, 0));
        var other = new ReadOnlySequence<byte>(new byte[10]);
        Assert.Throws<ArgumentException>(() => buffer.AdvanceTo(other.GetPosition(3)));
        Assert.That(buffer.Length, Is.EqualTo(10));
    }
}
