using System.Buffers;

namespace VirtNetworkd.Server.Rpc;

/// <summary>
/// A byte queue of pooled segments for one session's input or output: written at the tail as an
/// <see cref="IBufferWriter{T}"/>, read at the head as a <see cref="ReadOnlySequence{T}"/>.
/// Unlike <c>System.IO.Pipelines.Pipe</c> it takes no lock of its own (the session already
/// serialises each side: the transport thread for input, the output lock for output), which
/// costs measurably per call. Written bytes never move, so a reserved slot (a packet's length)
/// stays valid while more is written. Segments go back to the pool once read, and an empty
/// queue holds no memory (idle clients cost nothing).
/// </summary>
internal sealed class SessionBuffer : IBufferWriter<byte>
{
    private readonly int _segmentSize;
    private readonly Stack<Segment> _spare = new();
    private Segment? _head;
    private Segment? _tail;
    private int _headStart;

    public SessionBuffer(int segmentSize) => _segmentSize = segmentSize;

    /// <summary>Bytes written and not yet consumed.</summary>
    public long Length { get; private set; }

    public bool IsEmpty => Length == 0;

    public void Advance(int count)
    {
        if (_tail is null || (uint)count > (uint)(_tail.Array.Length - _tail.End))
            throw new ArgumentOutOfRangeException(nameof(count));
        _tail.Commit(count);
        Length += count;
    }

    public Memory<byte> GetMemory(int sizeHint = 0) => Reserve(sizeHint);

    public Span<byte> GetSpan(int sizeHint = 0) => Reserve(sizeHint).Span;

    private Memory<byte> Reserve(int sizeHint)
    {
        int need = Math.Max(sizeHint, 1);
        if (_tail is null || _tail.Array.Length - _tail.End < need)
        {
            var segment = _spare.Count > 0 ? _spare.Pop() : new Segment();
            segment.Take(ArrayPool<byte>.Shared.Rent(Math.Max(need, _segmentSize)), _tail is null ? 0 : _tail.RunningIndex + _tail.End);
            if (_tail is null)
            {
                _head = _tail = segment;
                _headStart = 0;
            }
            else
            {
                _tail.Next = segment;
                _tail = segment;
            }
        }
        return _tail.Array.AsMemory(_tail.End);
    }

    /// <summary>What is written and not yet consumed.</summary>
    public ReadOnlySequence<byte> Readable =>
        Length == 0 ? ReadOnlySequence<byte>.Empty : new ReadOnlySequence<byte>(_head!, _headStart, _tail!, _tail!.End);

    /// <summary>Consumes everything before <paramref name="position"/>, a position in <see cref="Readable"/>.</summary>
    public void AdvanceTo(SequencePosition position)
    {
        if (Length == 0) return;
        var segment = position.GetObject() as Segment ?? throw new ArgumentException("not a position of this buffer", nameof(position));
        int index = position.GetInteger();
        long consumed = segment.RunningIndex + index - (_head!.RunningIndex + _headStart);
        if (consumed < 0 || consumed > Length) throw new ArgumentOutOfRangeException(nameof(position));
        while (_head != segment)
        {
            var done = _head!;
            _head = done.Next ?? throw new ArgumentException("not a position of this buffer", nameof(position));
            Recycle(done);
        }
        _headStart = index;
        Length -= consumed;
        if (Length == 0) Clear();
    }

    /// <summary>Consumes the first <paramref name="count"/> bytes.</summary>
    public void Consume(long count)
    {
        if (count <= 0) return;
        AdvanceTo(Readable.GetPosition(count));
    }

    /// <summary>Drops everything and gives the segments back to the pool.</summary>
    public void Clear()
    {
        for (var s = _head; s is not null;)
        {
            var next = s.Next;
            Recycle(s);
            s = next;
        }
        _head = _tail = null;
        _headStart = 0;
        Length = 0;
    }

    // a few segment objects are kept for reuse: a busy client must not allocate one per batch
    private void Recycle(Segment segment)
    {
        segment.Release();
        if (_spare.Count < 4) _spare.Push(segment);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public byte[] Array { get; private set; } = [];

        public new Segment? Next
        {
            get => (Segment?)base.Next;
            set => base.Next = value;
        }

        public void Take(byte[] array, long runningIndex)
        {
            Array = array;
            End = 0;
            RunningIndex = runningIndex;
            Memory = ReadOnlyMemory<byte>.Empty;
        }

        /// <summary>Bytes written into <see cref="Array"/>.</summary>
        public int End { get; private set; }

        public void Commit(int count)
        {
            End += count;
            Memory = Array.AsMemory(0, End);
        }

        public void Release()
        {
            if (Array.Length > 0) ArrayPool<byte>.Shared.Return(Array);
            Array = [];
            End = 0;
            Next = null;
            Memory = ReadOnlyMemory<byte>.Empty;
        }
    }
}
