using System.Buffers;
using System.Buffers.Binary;
using VirtNetworkd.Protocol.Framing;
using VirtNetworkd.Protocol.Remote;
using VirtNetworkd.Protocol.Xdr;

namespace VirtNetworkd.Protocol.Tests;

/// <summary>Hostile and broken input is refused with <see cref="XdrDecodeException"/> (or, for
/// frames, <see cref="PacketFramingException"/>) and never crashes or allocates big.</summary>
public class MalformedInputTests
{
    public static IEnumerable<GoldenPacket> PacketsWithBody => GoldenPacket.All().Where(p => p.BodyType is not null);

    [TestCaseSource(nameof(PacketsWithBody))]
    public void EveryTruncationOfTheBodyIsRejected(GoldenPacket packet)
    {
        var body = packet.Body;
        var type = packet.BodyType!;
        for (int cut = 0; cut < body.Length; cut++)
        {
            var truncated = body[..cut];
            Assert.That(() => Codec.Decode(type, truncated), Throws.TypeOf<XdrDecodeException>(), $"cut at {cut}");
        }
    }

    [TestCaseSource(nameof(PacketsWithBody))]
    public void TrailingBytesAreRejected(GoldenPacket packet)
    {
        var longer = packet.Body.Concat(new byte[4]).ToArray();
        var e = Assert.Throws<XdrDecodeException>(() => Codec.Decode(packet.BodyType!, longer));
        Assert.That(e!.Offset, Is.EqualTo(packet.Body.Length));
    }

    [TestCaseSource(nameof(GoldenPacketsAll))]
    public void EveryTruncationOfTheFrameWaitsForMoreBytes(GoldenPacket packet)
    {
        for (int cut = 0; cut < packet.Bytes.Length; cut++)
        {
            var seq = new ReadOnlySequence<byte>(packet.Bytes, 0, cut);
            Assert.That(PacketFraming.TryReadPacket(ref seq, out _), Is.False, $"cut at {cut}");
            Assert.That(seq.Length, Is.EqualTo(cut), "nothing consumed");
        }
    }

    public static IEnumerable<GoldenPacket> GoldenPacketsAll => GoldenPacket.All();

    [TestCaseSource(nameof(PacketsWithBody))]
    public void RandomCorruptionNeverCrashesTheDecoder(GoldenPacket packet)
    {
        var rng = new Random(packet.Name.Length * 7919 + packet.Body.Length);
        var type = packet.BodyType!;
        for (int round = 0; round < 500; round++)
        {
            var body = (byte[])packet.Body.Clone();
            int flips = rng.Next(1, 4);
            for (int f = 0; f < flips; f++) body[rng.Next(body.Length)] = (byte)rng.Next(256);
            try
            {
                var value = Codec.Decode(type, body);
                // whatever decodes must re-encode to the same bytes: nothing half-read
                Assert.That(Codec.Encode(type, value), Is.EqualTo(body), $"round {round}");
            }
            catch (XdrDecodeException e)
            {
                Assert.That(e.Offset, Is.InRange(0, body.Length), $"round {round}");
            }
        }
    }

    [Test]
    public void NonZeroPaddingIsRejectedAtItsOffset()
    {
        // connect_open: optional flag (4) + length (4) + "network:///system" (17) + 3 padding bytes
        var body = GoldenPacket.Load("connect_open.call").Body;
        body[4 + 4 + 17 + 1] = 0x20;
        var e = Assert.Throws<XdrDecodeException>(() => XdrCodec.Decode<ConnectOpenArgs>(body));
        Assert.That(e!.Reason, Is.EqualTo("non-zero padding"));
        Assert.That(e.Offset, Is.EqualTo(4 + 4 + 17 + 1));
    }

    [Test]
    public void BooleanOtherThanZeroOrOneIsRejected()
    {
        var body = GoldenPacket.Load("connect_open.call").Body;
        body[3] = 2; // the optional-data flag of remote_string name
        var e = Assert.Throws<XdrDecodeException>(() => XdrCodec.Decode<ConnectOpenArgs>(body));
        Assert.That(e!.Offset, Is.Zero);
        Assert.That(e.Reason, Does.Contain("boolean"));
    }

    [Test]
    public void InvalidUtf8InAStringIsRejected()
    {
        var body = GoldenPacket.Load("network_lookup_by_name.call").Body; // length + "golden1"
        body[4] = 0xC3; // a lead byte followed by an ASCII byte
        var e = Assert.Throws<XdrDecodeException>(() => XdrCodec.Decode<NetworkLookupByNameArgs>(body));
        Assert.That(e!.Reason, Does.Contain("UTF-8"));
        Assert.That(e.Offset, Is.Zero);
    }

    [Test]
    public void UndefinedEnumValueIsRejected()
    {
        var body = GoldenPacket.Load("auth_list.reply").Body; // count 1, AUTH_NONE
        BinaryPrimitives.WriteInt32BigEndian(body.AsSpan(4), 7);
        var e = Assert.Throws<XdrDecodeException>(() => XdrCodec.Decode<AuthListRet>(body));
        Assert.That(e!.Reason, Does.Contain("remote_auth_type"));
        Assert.That(e.Offset, Is.EqualTo(4));
    }

    [Test]
    public void UnknownUnionDiscriminantIsRejected()
    {
        // remote_typed_param: name, then the value union switched on VIR_TYPED_PARAM_* (1..7)
        var param = new TypedParam { Field = "x", Value = new TypedParamValue { Type = 1, I = 5 } };
        var bytes = XdrCodec.ToArray(param);
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(8), 99); // after "x" padded to 4 and its length
        var e = Assert.Throws<XdrDecodeException>(() => XdrCodec.Decode<TypedParam>(bytes));
        Assert.That(e!.Reason, Does.Contain("discriminant 99"));
        Assert.That(e.Offset, Is.EqualTo(8));
    }

    [Test]
    public void StringLongerThanItsMaximumIsRejectedBeforeReadingIt()
    {
        // remote_nonnull_string: max REMOTE_STRING_MAX = 4194304; declare one byte more, send nothing
        var bytes = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, Remote.Constants.StringMax + 1u);
        var e = Assert.Throws<XdrDecodeException>(() => XdrCodec.Decode<NetworkLookupByNameArgs>(bytes));
        Assert.That(e!.Reason, Does.Contain("exceeds maximum 4194304"));
    }

    [Test]
    public void HostileArrayCountAllocatesNothingBig()
    {
        // connect_list_all_networks reply claiming the maximum number of networks with no bytes behind it
        var bytes = new byte[8];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, (uint)Remote.Constants.NetworkListMax);
        var value = new ConnectListAllNetworksRet();
        long before = GC.GetAllocatedBytesForCurrentThread();
        Assert.Throws<XdrDecodeException>(() => XdrCodec.DecodeInto(bytes, ref value));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.That(allocated, Is.LessThan(16 * 1024), "only the exception, never the array");
        Assert.That(value.Nets, Is.Null);
    }

    [Test]
    public void CountOverTheDeclaredMaximumIsRejected()
    {
        var bytes = new byte[8];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, (uint)Remote.Constants.NetworkListMax + 1);
        var e = Assert.Throws<XdrDecodeException>(() => XdrCodec.Decode<ConnectListAllNetworksRet>(bytes));
        Assert.That(e!.Reason, Does.Contain("exceeds maximum 16384"));
    }

    [Test]
    public void OpaqueLengthBeyondTheMessageIsRejected()
    {
        var bytes = new byte[8];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, 100);
        Assert.Throws<XdrDecodeException>(() =>
        {
            var r = new XdrReader(bytes);
            r.ReadOpaqueSpan(1000);
        });
    }

    [TestCase(0u)]
    [TestCase(27u)]
    [TestCase((uint)PacketFraming.MaxPacketSize + 1)]
    [TestCase(0xFFFFFFFFu)]
    public void FrameLengthOutsideTheLimitsIsRejectedBeforeTheBody(uint length)
    {
        var bytes = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, length);
        var seq = new ReadOnlySequence<byte>(bytes);
        var e = Assert.Throws<PacketFramingException>(() => PacketFraming.TryReadPacket(ref seq, out _));
        Assert.That(e!.DeclaredLength, Is.EqualTo(length));
    }

    [Test]
    public void FrameLimitCanBeLowered()
    {
        var packet = GoldenPacket.Load("network_get_xml_desc.reply").Bytes;
        var seq = new ReadOnlySequence<byte>(packet);
        Assert.Throws<PacketFramingException>(() => PacketFraming.TryReadPacket(ref seq, out _, maxPacketSize: 100));
    }
}
