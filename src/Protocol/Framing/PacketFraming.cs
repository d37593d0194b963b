using System.Buffers;
using System.Buffers.Binary;

namespace VirtNetworkd.Protocol.Framing;

/// <summary>
/// Splits a byte stream into libvirt packets: a 4-byte big-endian length that counts itself,
/// the 24-byte header, then the XDR body. Stateless: call it in a loop over what the pipe holds.
/// </summary>
public static class PacketFraming
{
    public const int LengthFieldSize = 4;
    public const int MinPacketSize = LengthFieldSize + PacketHeader.Size;
    /// <summary>VIR_NET_MESSAGE_MAX: the largest packet, length field included.</summary>
    public const int MaxPacketSize = 33554432;
    /// <summary>VIR_NET_MESSAGE_INITIAL: the size libvirt's own buffers start at.</summary>
    public const int InitialPacketSize = 65536;

    /// <summary>
    /// If <paramref name="buffer"/> starts with a whole packet, slices it off into
    /// <paramref name="packet"/> (length field included) and returns true. A length below the
    /// header size or above <paramref name="maxPacketSize"/> throws
    /// <see cref="PacketFramingException"/> as soon as the 4 length bytes are seen, before any
    /// of the body is waited for.
    /// </summary>
    public static bool TryReadPacket(ref ReadOnlySequence<byte> buffer, out ReadOnlySequence<byte> packet,
        int maxPacketSize = MaxPacketSize)
    {
        packet = default;
        if (buffer.Length < LengthFieldSize) return false;
        uint length;
        var first = buffer.FirstSpan;
        if (first.Length >= LengthFieldSize)
        {
            length = BinaryPrimitives.ReadUInt32BigEndian(first);
        }
        else
        {
            Span<byte> tmp = stackalloc byte[LengthFieldSize];
            buffer.Slice(0, LengthFieldSize).CopyTo(tmp);
            length = BinaryPrimitives.ReadUInt32BigEndian(tmp);
        }
        if (length < MinPacketSize) throw new PacketFramingException($"packet {length} bytes received from client too small, want {MinPacketSize}", length);
        if (length > (uint)maxPacketSize) throw new PacketFramingException($"packet {length} bytes received from client too large, want {maxPacketSize}", length);
        if (buffer.Length < length) return false;
        packet = buffer.Slice(0, length);
        buffer = buffer.Slice(length);
        return true;
    }

    /// <summary>
    /// The packet as one span: the sequence's own memory when it is a single segment, otherwise
    /// a copy into <paramref name="scratch"/>, a pooled buffer that is grown (and returned to the
    /// pool) as needed and kept by the caller for the next packet.
    /// </summary>
    public static ReadOnlySpan<byte> Contiguous(in ReadOnlySequence<byte> packet, ref byte[]? scratch)
    {
        if (packet.IsSingleSegment) return packet.FirstSpan;
        int n = checked((int)packet.Length);
        if (scratch is null || scratch.Length < n)
        {
            ReleaseScratch(ref scratch);
            // a rare large packet gets a buffer of its own: pooled, megabytes would stay with the
            // process for good
            scratch = n <= PooledScratchMax ? ArrayPool<byte>.Shared.Rent(n) : GC.AllocateUninitializedArray<byte>(n);
        }
        packet.CopyTo(scratch);
        return scratch.AsSpan(0, n);
    }

    /// <summary>The largest scratch buffer taken from (and given back to) the shared pool.</summary>
    public const int PooledScratchMax = 1 << 20;

    /// <summary>Whether <paramref name="scratch"/> is one of the large buffers a caller should not keep.</summary>
    public static bool IsLargeScratch(byte[]? scratch) => scratch is not null && scratch.Length > PooledScratchMax;

    /// <summary>Gives a scratch buffer from <see cref="Contiguous"/> back (to the pool when it came from there).</summary>
    public static void ReleaseScratch(ref byte[]? scratch)
    {
        if (scratch is not null && scratch.Length <= PooledScratchMax) ArrayPool<byte>.Shared.Return(scratch);
        scratch = null;
    }

    /// <summary>Header of a whole packet (length field included).</summary>
    public static PacketHeader ReadHeader(ReadOnlySpan<byte> packet) => PacketHeader.Read(packet.Slice(LengthFieldSize, PacketHeader.Size));

    /// <summary>Body of a whole packet (length field included).</summary>
    public static ReadOnlySpan<byte> Body(ReadOnlySpan<byte> packet) => packet.Slice(MinPacketSize);
}

/// <summary>A frame that cannot be a libvirt packet; the connection cannot be resynchronised.</summary>
public sealed class PacketFramingException : Exception
{
    public PacketFramingException(string message, uint declaredLength) : base(message) => DeclaredLength = declaredLength;
    public uint DeclaredLength { get; }
}
