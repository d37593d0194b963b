using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Text;

namespace VirtNetworkd.Protocol.Xdr;

/// <summary>
/// Writes XDR big-endian into an <see cref="IBufferWriter{T}"/> with zeroed padding. Bytes are
/// committed to the output in chunks and finally by <see cref="Flush"/>. A slot can be reserved
/// and patched later (the packet length): the output must not move bytes it has already been
/// given, which holds for <see cref="System.IO.Pipelines.PipeWriter"/> and
/// <see cref="PooledBufferWriter"/>.
/// </summary>
public ref struct XdrWriter
{
    private const int MinChunk = 512;
    private readonly IBufferWriter<byte> _output;
    private Memory<byte> _memory;
    private Span<byte> _span;
    private int _buffered;
    private long _committed;

    public XdrWriter(IBufferWriter<byte> output)
    {
        _output = output;
        _memory = default;
        _span = default;
        _buffered = 0;
        _committed = 0;
    }

    /// <summary>Bytes written through this writer so far, committed or not.</summary>
    public readonly long BytesWritten => _committed + _buffered;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private Span<byte> Reserve(int count)
    {
        if (_span.Length - _buffered < count) Grow(count);
        var s = _span.Slice(_buffered, count);
        _buffered += count;
        return s;
    }

    private void Grow(int count)
    {
        if (_buffered > 0)
        {
            _output.Advance(_buffered);
            _committed += _buffered;
            _buffered = 0;
        }
        _memory = _output.GetMemory(Math.Max(count, MinChunk));
        _span = _memory.Span;
    }

    public void WriteInt32(int value) => BinaryPrimitives.WriteInt32BigEndian(Reserve(4), value);
    public void WriteUInt32(uint value) => BinaryPrimitives.WriteUInt32BigEndian(Reserve(4), value);
    public void WriteInt64(long value) => BinaryPrimitives.WriteInt64BigEndian(Reserve(8), value);
    public void WriteUInt64(ulong value) => BinaryPrimitives.WriteUInt64BigEndian(Reserve(8), value);
    public void WriteSingle(float value) => BinaryPrimitives.WriteSingleBigEndian(Reserve(4), value);
    public void WriteDouble(double value) => BinaryPrimitives.WriteDoubleBigEndian(Reserve(8), value);
    public void WriteBool(bool value) => WriteInt32(value ? 1 : 0);
    public void WriteOptional(bool present) => WriteInt32(present ? 1 : 0);
    public void WriteChar(sbyte value) => WriteInt32(value);
    public void WriteUChar(byte value) => WriteUInt32(value);
    public void WriteShort(short value) => WriteInt32(value);
    public void WriteUShort(ushort value) => WriteUInt32(value);
    public void WriteEnum(int value) => WriteInt32(value);

    public void WriteArrayLength(int count, uint max, string field)
    {
        if ((uint)count > max) XdrThrow.EncodeOverMax(field, count, max);
        WriteUInt32((uint)count);
    }

    public void WriteOpaque(ReadOnlySpan<byte> data, uint max, string field)
    {
        if ((uint)data.Length > max) XdrThrow.EncodeOverMax(field, data.Length, max);
        WriteUInt32((uint)data.Length);
        WritePadded(data);
    }

    public void WriteOpaque(byte[]? data, uint max, string field)
    {
        if (data is null) XdrThrow.EncodeNull(field);
        WriteOpaque(data.AsSpan(), max, field);
    }

    public void WriteFixedOpaque(byte[]? data, int length, string field)
    {
        if (data is null) XdrThrow.EncodeNull(field);
        WriteFixedOpaque(data.AsSpan(), length, field);
    }

    public void WriteFixedOpaque(ReadOnlySpan<byte> data, int length, string field)
    {
        if (data.Length != length) XdrThrow.EncodeFixedSize(field, data.Length, length);
        WritePadded(data);
    }

    public void WriteString(string? value, uint max, string field)
    {
        if (value is null) XdrThrow.EncodeNull(field);
        int n = Encoding.UTF8.GetByteCount(value);
        if ((uint)n > max) XdrThrow.EncodeOverMax(field, n, max);
        WriteUInt32((uint)n);
        int padded = (n + 3) & ~3;
        var s = Reserve(padded);
        Encoding.UTF8.GetBytes(value, s);
        s.Slice(n).Clear();
    }

    /// <summary>Writes a string already encoded as UTF-8.</summary>
    public void WriteStringUtf8(ReadOnlySpan<byte> utf8, uint max, string field) => WriteOpaque(utf8, max, field);

    private void WritePadded(ReadOnlySpan<byte> data)
    {
        int padded = (data.Length + 3) & ~3;
        var s = Reserve(padded);
        data.CopyTo(s);
        s.Slice(data.Length).Clear();
    }

    /// <summary>Reserves a 4-byte slot to be filled in by <see cref="Patch"/> (e.g. a length).</summary>
    public XdrSlot ReserveUInt32()
    {
        if (_span.Length - _buffered < 4) Grow(4);
        var slot = new XdrSlot(_memory.Slice(_buffered, 4), BytesWritten);
        _buffered += 4;
        return slot;
    }

    public static void Patch(XdrSlot slot, uint value) => BinaryPrimitives.WriteUInt32BigEndian(slot.Memory.Span, value);

    /// <summary>Commits the buffered bytes to the output.</summary>
    public void Flush()
    {
        if (_buffered > 0)
        {
            _output.Advance(_buffered);
            _committed += _buffered;
            _buffered = 0;
        }
        _span = default;
        _memory = default;
    }
}

/// <summary>A reserved 4-byte slot of an <see cref="XdrWriter"/>; <see cref="Offset"/> is its
/// position in the writer's output.</summary>
public readonly record struct XdrSlot(Memory<byte> Memory, long Offset);
