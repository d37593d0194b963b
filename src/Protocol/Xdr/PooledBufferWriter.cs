using System.Buffers;

namespace VirtNetworkd.Protocol.Xdr;

/// <summary>
/// An <see cref="IBufferWriter{T}"/> over pooled chunks that never moves bytes once written, so an
/// <see cref="XdrSlot"/> stays valid. <see cref="Reset"/> keeps the chunks for the next message:
/// reused, it allocates nothing.
/// </summary>
public sealed class PooledBufferWriter : IBufferWriter<byte>, IDisposable
{
    private readonly List<Chunk> _chunks = new();
    private readonly int _chunkSize;
    private int _current = -1;

    public PooledBufferWriter(int chunkSize = 16 * 1024) => _chunkSize = chunkSize;

    public long WrittenCount { get; private set; }

    public void Advance(int count)
    {
        if (_current < 0 || count < 0 || _chunks[_current].Used + count > _chunks[_current].Buffer.Length)
            throw new InvalidOperationException("Advance past the memory that was handed out");
        var c = _chunks[_current];
        c.Used += count;
        _chunks[_current] = c;
        WrittenCount += count;
    }

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        int need = Math.Max(sizeHint, 1);
        if (_current >= 0 && _chunks[_current].Buffer.Length - _chunks[_current].Used >= need)
            return _chunks[_current].Buffer.AsMemory(_chunks[_current].Used);
        // next kept chunk if it is big enough, otherwise a new one
        for (int i = _current + 1; i < _chunks.Count; i++)
        {
            if (_chunks[i].Buffer.Length >= need)
            {
                (_chunks[i], _chunks[_current + 1]) = (_chunks[_current + 1], _chunks[i]);
                _current++;
                return _chunks[_current].Buffer.AsMemory();
            }
        }
        var buffer = ArrayPool<byte>.Shared.Rent(Math.Max(need, _chunkSize));
        _chunks.Insert(_current + 1, new Chunk { Buffer = buffer });
        _current++;
        return buffer.AsMemory();
    }

    public Span<byte> GetSpan(int sizeHint = 0) => GetMemory(sizeHint).Span;

    public void CopyTo(Span<byte> destination)
    {
        if (destination.Length < WrittenCount) throw new ArgumentException("destination too small", nameof(destination));
        int at = 0;
        for (int i = 0; i <= _current; i++)
        {
            var c = _chunks[i];
            c.Buffer.AsSpan(0, c.Used).CopyTo(destination.Slice(at));
            at += c.Used;
        }
    }

    public byte[] ToArray()
    {
        var result = new byte[WrittenCount];
        CopyTo(result);
        return result;
    }

    /// <summary>Forgets what was written; keeps the chunks.</summary>
    public void Reset()
    {
        for (int i = 0; i < _chunks.Count; i++)
        {
            var c = _chunks[i];
            c.Used = 0;
            _chunks[i] = c;
        }
        _current = -1;
        WrittenCount = 0;
    }

    public void Dispose()
    {
        foreach (var c in _chunks) ArrayPool<byte>.Shared.Return(c.Buffer);
        _chunks.Clear();
        _current = -1;
        WrittenCount = 0;
    }

    private struct Chunk
    {
        public byte[] Buffer;
        public int Used;
    }
}
