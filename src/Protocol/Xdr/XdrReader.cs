using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Text;
using CommunityToolkit.HighPerformance.Buffers;

namespace VirtNetworkd.Protocol.Xdr;

/// <summary>
/// Reads XDR (RFC 4506) from one complete, contiguous message. Every variable-length item is
/// checked against its declared maximum and against the bytes left before anything is allocated;
/// a failed read throws <see cref="XdrDecodeException"/> with the offset of the bad item.
/// Strings go through a <see cref="StringPool"/>, so names and URIs that repeat from message to
/// message cost no allocation once seen.
/// </summary>
public ref struct XdrReader
{
    private readonly ReadOnlySpan<byte> _data;
    private readonly StringPool? _strings;
    private int _pos;

    /// <summary>Reads <paramref name="data"/>; strings are interned in <see cref="StringPool.Shared"/>.</summary>
    public XdrReader(ReadOnlySpan<byte> data) : this(data, StringPool.Shared) { }

    /// <summary>Reads <paramref name="data"/>; <paramref name="strings"/> null means plain allocation.</summary>
    public XdrReader(ReadOnlySpan<byte> data, StringPool? strings)
    {
        _data = data;
        _strings = strings;
        _pos = 0;
    }

    public readonly int Position => _pos;
    public readonly int Remaining => _data.Length - _pos;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ReadOnlySpan<byte> Take(int count)
    {
        if ((uint)count > (uint)(_data.Length - _pos)) XdrThrow.Truncated(_pos, count);
        var s = _data.Slice(_pos, count);
        _pos += count;
        return s;
    }

    public int ReadInt32() => BinaryPrimitives.ReadInt32BigEndian(Take(4));
    public uint ReadUInt32() => BinaryPrimitives.ReadUInt32BigEndian(Take(4));
    public long ReadInt64() => BinaryPrimitives.ReadInt64BigEndian(Take(8));
    public ulong ReadUInt64() => BinaryPrimitives.ReadUInt64BigEndian(Take(8));
    public float ReadSingle() => BinaryPrimitives.ReadSingleBigEndian(Take(4));
    public double ReadDouble() => BinaryPrimitives.ReadDoubleBigEndian(Take(8));

    public bool ReadBool()
    {
        int at = _pos;
        int v = ReadInt32();
        if ((uint)v > 1) XdrThrow.BadBool(at, v);
        return v == 1;
    }

    /// <summary>The presence flag of optional data (<c>type *name</c>).</summary>
    public bool ReadOptional() => ReadBool();

    /// <summary>rpcgen <c>char</c>: a 4-byte int holding a signed byte.</summary>
    public sbyte ReadChar() => (sbyte)ReadRanged(sbyte.MinValue, sbyte.MaxValue, "char");

    /// <summary>rpcgen <c>unsigned char</c>: a 4-byte unsigned int holding a byte.</summary>
    public byte ReadUChar() => (byte)ReadRanged(0, byte.MaxValue, "unsigned char");

    public short ReadShort() => (short)ReadRanged(short.MinValue, short.MaxValue, "short");
    public ushort ReadUShort() => (ushort)ReadRanged(0, ushort.MaxValue, "unsigned short");

    private long ReadRanged(long min, long max, string type)
    {
        int at = _pos;
        // unsigned rpcgen types travel as u_int; signed ones as int
        long v = min < 0 ? ReadInt32() : ReadUInt32();
        if (v < min || v > max) XdrThrow.OutOfRange(at, type, v);
        return v;
    }

    /// <summary>Reads an enum's 4-byte value; the generated code checks it is defined.</summary>
    public int ReadEnum() => ReadInt32();

    /// <summary>
    /// Reads a variable-length count and checks it against <paramref name="max"/> and against the
    /// bytes left, given that each element needs at least <paramref name="minElementSize"/> bytes.
    /// </summary>
    public int ReadArrayLength(uint max, int minElementSize)
    {
        int at = _pos;
        uint n = ReadUInt32();
        if (n > max) XdrThrow.LengthOverMax(at, n, max);
        long need = (long)n * Math.Max(minElementSize, 1);
        if (need > Remaining) XdrThrow.LengthOverRemaining(at, need, Remaining);
        return (int)n;
    }

    /// <summary>Variable-length opaque data as a slice of the message (no copy).</summary>
    public ReadOnlySpan<byte> ReadOpaqueSpan(uint max)
    {
        int at = _pos;
        uint n = ReadUInt32();
        if (n > max) XdrThrow.LengthOverMax(at, n, max);
        return ReadPadded(at, n);
    }

    /// <summary>Variable-length opaque data, copied into <paramref name="reuse"/> when its length
    /// matches, otherwise into a new array.</summary>
    public byte[] ReadOpaque(uint max, byte[]? reuse = null) => CopyInto(ReadOpaqueSpan(max), reuse);

    /// <summary>Fixed-length opaque data (<c>opaque x[N]</c>) as a slice (no copy).</summary>
    public ReadOnlySpan<byte> ReadFixedOpaqueSpan(int length) => ReadPadded(_pos, (uint)length);

    /// <summary>Fixed-length opaque data, copied into <paramref name="reuse"/> when it has that length.</summary>
    public byte[] ReadFixedOpaque(int length, byte[]? reuse = null) => CopyInto(ReadFixedOpaqueSpan(length), reuse);

    private static byte[] CopyInto(ReadOnlySpan<byte> data, byte[]? reuse)
    {
        if (reuse is null || reuse.Length != data.Length) reuse = data.Length == 0 ? [] : new byte[data.Length];
        data.CopyTo(reuse);
        return reuse;
    }

    /// <summary>A string of at most <paramref name="max"/> bytes, decoded as UTF-8.</summary>
    public string ReadString(uint max) => ReadString(max, null);

    /// <summary>
    /// Reads a string, returning <paramref name="previous"/> itself when the bytes spell it: a
    /// field decoded again and again into a kept value (the same network name call after call)
    /// then costs a compare, not a pool lookup.
    /// </summary>
    public string ReadString(uint max, string? previous)
    {
        int at = _pos;
        var bytes = ReadOpaqueSpan(max);
        if (bytes.IsEmpty) return string.Empty;
        // only an all-ASCII match counts, and ASCII bytes decode to exactly those chars
        if (previous is not null && bytes.Length == previous.Length && System.Text.Ascii.Equals(bytes, previous)) return previous;
        // a lossy decode would change the bytes on re-encode; libvirt's strings are UTF-8
        if (!System.Text.Unicode.Utf8.IsValid(bytes)) XdrThrow.BadUtf8(at);
        return _strings is null ? Encoding.UTF8.GetString(bytes) : _strings.GetOrAdd(bytes, Encoding.UTF8);
    }

    /// <summary>A string's raw UTF-8 bytes as a slice of the message (no copy, no decoding).</summary>
    public ReadOnlySpan<byte> ReadStringUtf8(uint max) => ReadOpaqueSpan(max);

    private ReadOnlySpan<byte> ReadPadded(int itemStart, uint length)
    {
        long padded = ((long)length + 3) & ~3L;
        if (padded > Remaining) XdrThrow.LengthOverRemaining(itemStart, padded, Remaining);
        var data = _data.Slice(_pos, (int)length);
        int pad = (int)(padded - length);
        for (int i = 0; i < pad; i++)
        {
            if (_data[_pos + (int)length + i] != 0) XdrThrow.NonZeroPadding(_pos + (int)length + i);
        }
        _pos += (int)padded;
        return data;
    }

    /// <summary>Throws unless every byte was consumed.</summary>
    public readonly void EnsureEnd()
    {
        if (_pos != _data.Length) XdrThrow.TrailingBytes(_pos, _data.Length - _pos);
    }
}
