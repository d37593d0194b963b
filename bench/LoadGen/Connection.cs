using System.Buffers;
using System.Buffers.Binary;
using System.Net.Sockets;
using VirtNetworkd.Protocol.Framing;
using VirtNetworkd.Protocol.Remote;
using VirtNetworkd.Protocol.Xdr;

namespace VirtNetworkd.LoadGen;

/// <summary>A hard failure: an error reply, a closed connection, a broken packet.</summary>
internal sealed class LoadGenException(string message) : Exception(message);

/// <summary>
/// One client connection. Set-up (auth_list, connect_open, a first call) is done blocking;
/// then the socket is switched to non-blocking and driven by an <see cref="EventLoop"/>:
/// the benchmark calls are copied from a preallocated template with the serial patched in place,
/// replies are parsed in place in a per-connection receive buffer, and matched by serial to the
/// send timestamp in a ring. Nothing on that path allocates.
/// </summary>
internal sealed class Connection : IDisposable
{
    public const uint RemoteProgramNumber = RemoteProgram.Number;
    public const uint KeepaliveProgram = 0x6b656570;
    private const int SerialOffset = PacketFraming.LengthFieldSize + 16;

    private readonly Socket _socket;
    private readonly int _fd;
    private byte[] _rbuf = new byte[PacketFraming.InitialPacketSize];
    private int _rstart, _rend;
    private byte[] _wbuf = [];
    private int _wstart, _wend;
    private bool _wantWrite;

    private byte[] _request = [];          // the benchmark call, serial to be patched
    private readonly byte[] _pong;         // keepalive PONG
    private int _procedure;
    private uint _nextSerial = 1;
    private long[] _sentAt = [];           // ring indexed by serial & _mask
    private uint[] _sentSerial = [];       // 0 = free slot
    private uint _mask;

    public int Index { get; }
    public int Fd => _fd;
    public int Outstanding { get; private set; }
    public long Pings { get; private set; }

    public Connection(int index, string socketPath, byte[] pong, int timeoutMs)
    {
        Index = index;
        _pong = pong;
        _socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified)
        {
            ReceiveTimeout = timeoutMs,
            SendTimeout = timeoutMs,
        };
        try
        {
            _socket.Connect(new UnixDomainSocketEndPoint(socketPath));
        }
        catch (SocketException e)
        {
            _socket.Dispose();
            throw new LoadGenException($"connection {index}: cannot connect to {socketPath}: {e.Message}");
        }
        _fd = (int)_socket.Handle;
    }

    // ---------------------------------------------------------------- blocking set-up phase

    /// <summary>Sends one call and waits for its reply (keepalive pings on the way are answered);
    /// returns the reply body. Only for set-up: allocates.</summary>
    public byte[] CallBlocking<T>(int procedure, in T args, string what) where T : IXdrType<T>
        => CallBlocking(Program.Request(procedure, args), procedure, what);

    /// <summary>The same with a request packet built beforehand (its serial is patched in a copy).</summary>
    public byte[] CallBlocking(byte[] request, int procedure, string what)
    {
        uint serial = NextSerial();
        var call = (byte[])request.Clone();
        BinaryPrimitives.WriteUInt32BigEndian(call.AsSpan(SerialOffset), serial);
        _socket.Send(call);
        while (true)
        {
            var packet = ReadPacketBlocking(what);
            var h = PacketFraming.ReadHeader(packet);
            if (h.Program == KeepaliveProgram)
            {
                if (h.Procedure == 1 && h.Type == PacketType.Message) _socket.Send(_pong);
                continue;
            }
            if (h.Program != RemoteProgramNumber || h.Type == PacketType.Message) continue; // an event: not ours
            if (h.Type != PacketType.Reply || h.Serial != serial || h.Procedure != procedure)
                throw new LoadGenException($"connection {Index}: {what}: unexpected packet (program {h.Program:x}, procedure {h.Procedure}, type {h.Type}, serial {h.Serial}; expected reply to serial {serial})");
            if (h.Status != PacketStatus.Ok) throw ErrorReply(packet, what);
            return PacketFraming.Body(packet).ToArray();
        }
    }

    private ReadOnlySpan<byte> ReadPacketBlocking(string what)
    {
        while (true)
        {
            if (TryTakePacket(out int start, out int length)) return _rbuf.AsSpan(start, length);
            Compact();
            int n;
            try
            {
                n = _socket.Receive(_rbuf, _rend, _rbuf.Length - _rend, SocketFlags.None);
            }
            catch (SocketException e)
            {
                throw new LoadGenException($"connection {Index}: {what}: {e.Message}");
            }
            if (n == 0) throw new LoadGenException($"connection {Index}: {what}: the server closed the connection");
            _rend += n;
        }
    }

    /// <summary>Switches to the event loop: from now on <paramref name="request"/> (a whole call
    /// packet of <paramref name="procedure"/>) is sent <paramref name="depth"/> at a time, on a
    /// non-blocking socket.</summary>
    public void Start(byte[] request, int procedure, int depth)
    {
        _request = request;
        _procedure = procedure;
        _wbuf = new byte[Math.Max(4096, depth * request.Length * 2 + _pong.Length * 4)];
        int ring = 1024;
        while (ring < depth * 64) ring <<= 1;
        _sentAt = new long[ring];
        _sentSerial = new uint[ring];
        _mask = (uint)ring - 1;
        _socket.Blocking = false;
    }

    // ---------------------------------------------------------------- event-loop phase

    /// <summary>Appends <paramref name="count"/> benchmark calls stamped <paramref name="now"/> to the
    /// output buffer (call <see cref="Flush"/> after).</summary>
    public void EnqueueCalls(int count, long now)
    {
        int len = _request.Length;
        if (_wend + count * len > _wbuf.Length) CompactWrite(count * len);
        for (int i = 0; i < count; i++)
        {
            uint serial = NextSerial();
            uint slot = serial & _mask;
            if (_sentSerial[slot] != 0)
                throw new LoadGenException($"connection {Index}: serial {_sentSerial[slot]} still unanswered {_sentAt.Length} calls later");
            _sentSerial[slot] = serial;
            _sentAt[slot] = now;
            var dst = _wbuf.AsSpan(_wend, len);
            _request.CopyTo(dst);
            BinaryPrimitives.WriteUInt32BigEndian(dst.Slice(SerialOffset), serial);
            _wend += len;
        }
        Outstanding += count;
    }

    /// <summary>Writes what is buffered; asks the loop for EPOLLOUT if the socket is full.</summary>
    public void Flush(int epfd)
    {
        while (_wend > _wstart)
        {
            int n = Native.Write(_fd, _wbuf.AsSpan(_wstart, _wend - _wstart));
            if (n < 0)
            {
                if (!_wantWrite)
                {
                    Native.EpollCtl(epfd, Native.EPOLL_CTL_MOD, _fd, Native.EPOLLIN | Native.EPOLLOUT, (ulong)Index);
                    _wantWrite = true;
                }
                return;
            }
            _wstart += n;
        }
        _wstart = _wend = 0;
        if (_wantWrite)
        {
            Native.EpollCtl(epfd, Native.EPOLL_CTL_MOD, _fd, Native.EPOLLIN, (ulong)Index);
            _wantWrite = false;
        }
    }

    /// <summary>
    /// Reads what the socket holds and handles every whole packet in it. Returns the number of
    /// benchmark replies completed; the latencies (reply read minus call sent) of those read
    /// within [<paramref name="windowStart"/>, <paramref name="windowEnd"/>) go to
    /// <paramref name="histogram"/>.
    /// </summary>
    public int OnReadable(LatencyHistogram histogram, long windowStart, long windowEnd)
    {
        Compact();
        int n = Native.Read(_fd, _rbuf.AsSpan(_rend));
        if (n < 0) return 0;
        if (n == 0) throw new LoadGenException($"connection {Index}: the server closed the connection ({Outstanding} calls unanswered)");
        long now = System.Diagnostics.Stopwatch.GetTimestamp();
        _rend += n;
        bool record = now >= windowStart && now < windowEnd;
        int completed = 0;
        while (TryTakePacket(out int start, out int length))
        {
            var packet = _rbuf.AsSpan(start, length);
            var h = PacketFraming.ReadHeader(packet);
            if (h.Program == RemoteProgramNumber && h.Type == PacketType.Reply)
            {
                if (h.Status != PacketStatus.Ok) throw ErrorReply(packet, $"procedure {h.Procedure}, serial {h.Serial}");
                uint slot = h.Serial & _mask;
                if (h.Serial == 0 || _sentSerial[slot] != h.Serial || h.Procedure != _procedure)
                    throw new LoadGenException($"connection {Index}: reply to an unknown call (procedure {h.Procedure}, serial {h.Serial})");
                _sentSerial[slot] = 0;
                if (record) histogram.Record(now - _sentAt[slot]);
                Outstanding--;
                completed++;
            }
            else if (h.Program == KeepaliveProgram)
            {
                if (h.Procedure == 1 && h.Type == PacketType.Message)
                {
                    Pings++;
                    AppendRaw(_pong);
                }
            }
            else if (h.Program == RemoteProgramNumber && h.Type == PacketType.Message)
            {
                // an event: nothing here registers for any, ignore it
            }
            else
            {
                throw new LoadGenException($"connection {Index}: unexpected packet (program {h.Program:x}, procedure {h.Procedure}, type {h.Type}, status {h.Status})");
            }
        }
        return completed;
    }

    private void AppendRaw(ReadOnlySpan<byte> bytes)
    {
        if (_wend + bytes.Length > _wbuf.Length) CompactWrite(bytes.Length);
        bytes.CopyTo(_wbuf.AsSpan(_wend));
        _wend += bytes.Length;
    }

    // ---------------------------------------------------------------- shared

    private uint NextSerial()
    {
        uint s = _nextSerial++;
        if (_nextSerial == 0) _nextSerial = 1;
        return s;
    }

    /// <summary>Slices the next whole packet off the receive buffer (PacketFraming does the
    /// length checks); grows the buffer when a packet is bigger than it.</summary>
    private bool TryTakePacket(out int start, out int length)
    {
        start = length = 0;
        int have = _rend - _rstart;
        if (have < PacketFraming.LengthFieldSize) return false;
        var seq = new ReadOnlySequence<byte>(_rbuf, _rstart, have);
        ReadOnlySequence<byte> packet;
        try
        {
            if (!PacketFraming.TryReadPacket(ref seq, out packet))
            {
                uint declared = BinaryPrimitives.ReadUInt32BigEndian(_rbuf.AsSpan(_rstart));
                if (declared > _rbuf.Length) Grow((int)declared);
                return false;
            }
        }
        catch (PacketFramingException e)
        {
            throw new LoadGenException($"connection {Index}: {e.Message.Replace("from client", "from server", StringComparison.Ordinal)}");
        }
        start = _rstart;
        length = (int)packet.Length;
        _rstart += length;
        if (_rstart == _rend) _rstart = _rend = 0;
        return true;
    }

    private void Compact()
    {
        if (_rstart == 0) return;
        if (_rstart == _rend) { _rstart = _rend = 0; return; }
        // only move bytes when the free tail is getting short
        if (_rbuf.Length - _rend >= 4096) return;
        Buffer.BlockCopy(_rbuf, _rstart, _rbuf, 0, _rend - _rstart);
        _rend -= _rstart;
        _rstart = 0;
    }

    private void Grow(int size)
    {
        var bigger = new byte[size];
        Buffer.BlockCopy(_rbuf, _rstart, bigger, 0, _rend - _rstart);
        _rend -= _rstart;
        _rstart = 0;
        _rbuf = bigger;
    }

    private void CompactWrite(int need)
    {
        if (_wstart > 0)
        {
            Buffer.BlockCopy(_wbuf, _wstart, _wbuf, 0, _wend - _wstart);
            _wend -= _wstart;
            _wstart = 0;
        }
        if (_wend + need > _wbuf.Length)
            throw new LoadGenException($"connection {Index}: the server has not read {_wend} bytes of calls (socket full)");
    }

    private LoadGenException ErrorReply(ReadOnlySpan<byte> packet, string what)
    {
        string detail;
        try
        {
            var e = XdrCodec.Decode<VirtNetworkd.Protocol.Net.MessageError>(PacketFraming.Body(packet));
            detail = $"error reply: code {e.Code}, domain {e.Domain}: {e.Message ?? "(no message)"}";
        }
        catch (XdrDecodeException x)
        {
            detail = $"error reply that does not decode as virNetMessageError: {x.Message}";
        }
        return new LoadGenException($"connection {Index}: {what}: {detail}");
    }

    public void Dispose() => _socket.Dispose();
}
