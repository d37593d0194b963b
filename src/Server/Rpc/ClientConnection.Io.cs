using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using VirtNetworkd.Protocol.Framing;
using static VirtNetworkd.Server.Rpc.SocketCalls;

namespace VirtNetworkd.Server.Rpc;

/// <summary>
/// The socket side of a client, driven by the <see cref="IoLoop"/>: one recv per readable event
/// into the input pipe, the whole calls in it dispatched at once, the replies of the batch sent
/// with one send (sendmsg when they span buffers). Replies a client does not read wait in the
/// output pipe until epoll says the socket takes more. Only the loop thread receives and closes; any thread may send, under the write lock.
/// </summary>
public sealed partial class ClientConnection : IIoLoopClient
{
    private const int ReceiveSegmentSize = 16 * 1024;
    // a batch of list or XML replies fits one buffer, and so one send()
    private const int SendSegmentSize = 16 * 1024;
    private const int MaxIoVecs = 8;
    /// <summary>The largest packet of a client that has not authenticated (AUTH_LIST, AUTH_POLKIT
    /// and keepalive need a few dozen bytes). Unlike libvirt, which allows 32 MiB from anyone.</summary>
    public const int MaxUnauthenticatedPacketSize = 8192;

    private const int PostResume = 1;
    private const int PostDrainAndClose = 2;
    private const int PostClose = 4;

    private enum ReadState
    {
        Reading,
        /// <summary>Backpressure: the calls in progress or the queued replies are at their limit.</summary>
        Paused,
        /// <summary>End of input, CONNECT_CLOSE or a framing error: only sending what is queued remains.</summary>
        Stopped,
    }

    private readonly Socket _socket;
    private readonly int _fd;
    private readonly IoLoop _loop;
    private readonly Pipe _input;
    private readonly Pipe _output;
    private readonly Lock _writeLock = new();
    private readonly TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private ulong _token;
    private byte[]? _scratch;
    private volatile ReadState _readState;
    private int _postFlags;
    private bool _heldLargeInput;

    // under _writeLock
    private bool _registered;
    private uint _registeredMask;
    private bool _unflushed;
    private bool _wantWrite;
    private bool _outputDone;
    private bool _closeWhenDrained;
    private bool _closed;

    private static PipeOptions PipeOptionsFor(int segmentSize) => new(
        readerScheduler: PipeScheduler.Inline,
        writerScheduler: PipeScheduler.Inline,
        pauseWriterThreshold: 0,
        resumeWriterThreshold: 0,
        minimumSegmentSize: segmentSize,
        useSynchronizationContext: false);

    /// <summary>Serves the client until it is gone.</summary>
    internal async Task RunAsync()
    {
        lock (_writeLock)
        {
            if (!_closed)
            {
                try
                {
                    _token = _loop.Add(_fd, EPOLLIN, this);
                }
                catch (IOException)
                {
                    _closed = true;
                    _socket.Dispose();
                    throw;
                }
                _registered = true;
                _registeredMask = EPOLLIN;
            }
        }
        await _done.Task.ConfigureAwait(false);
        _program?.OnClientClosed(this);
    }

    void IIoLoopClient.OnEvents(uint events)
    {
        try
        {
            if ((events & EPOLLOUT) != 0)
            {
                lock (_writeLock)
                {
                    _wantWrite = false;
                    TrySendLocked();
                }
            }
            if (_readState == ReadState.Reading && (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) != 0) Receive();
            else if ((events & (EPOLLHUP | EPOLLERR)) != 0) FinishClose(); // gone while we were not reading
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            DropAfter(e);
        }
    }

    void IIoLoopClient.OnPosted()
    {
        try
        {
            int flags = Interlocked.Exchange(ref _postFlags, 0);
            if ((flags & PostClose) != 0) FinishClose();
            else if ((flags & PostDrainAndClose) != 0) BeginClose();
            else if ((flags & PostResume) != 0) Resume();
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            DropAfter(e);
        }
    }

    /// <summary>A fault of ours in this client's I/O: drop it rather than see the same event fail
    /// again and again (epoll is level-triggered).</summary>
    private void DropAfter(Exception e)
    {
        _server.Log.Error($"client {Id}: {e}; closing the connection");
        FinishClose();
    }

    private void Post(int flag)
    {
        if (Interlocked.Or(ref _postFlags, flag) == 0) _loop.Post(this);
    }

    private unsafe void Receive()
    {
        var writer = _input.Writer;
        var memory = writer.GetMemory(ReceiveSegmentSize / 4);
        nint n;
        fixed (byte* p = memory.Span) n = Recv(_fd, p, memory.Length, MSG_DONTWAIT);
        if (n > 0)
        {
            writer.Advance((int)n);
            var flushed = writer.FlushAsync(); // no reader waits and no threshold: completes at once
            if (flushed.IsCompleted) flushed.GetAwaiter().GetResult();
            ProcessInput();
            return;
        }
        if (n == 0)
        {
            _closing = true;
            BeginClose();
            return;
        }
        int errno = Marshal.GetLastPInvokeError();
        if (errno is EAGAIN or EINTR) return;
        FinishClose(); // ECONNRESET and the like: nobody to answer
    }

    /// <summary>Dispatches every whole call in the input, then sends the batch's replies.</summary>
    private void ProcessInput()
    {
        var reader = _input.Reader;
        while (reader.TryRead(out var result))
        {
            var buffer = result.Buffer;
            if (buffer.Length > PacketFraming.PooledScratchMax) _heldLargeInput = true;
            bool stoppedEarly = false;
            try
            {
                while (PacketFraming.TryReadPacket(ref buffer, out var packet, IsAuthenticated ? PacketFraming.MaxPacketSize : MaxUnauthenticatedPacketSize))
                {
                    if (packet.Length > PacketFraming.PooledScratchMax) MemoryRelief.AfterLargePacket();
                    ProcessPacket(packet);
                    if (PacketFraming.IsLargeScratch(_scratch)) PacketFraming.ReleaseScratch(ref _scratch);
                    if (_closing || !HasCapacity)
                    {
                        stoppedEarly = true;
                        break;
                    }
                }
            }
            catch (PacketFramingException e)
            {
                _server.Log.Warn($"client {Id}: {e.Message}; closing the connection");
                _closing = true;
            }
            finally
            {
                // stopped with whole calls left: look at them again without waiting for more bytes
                if (stoppedEarly) reader.AdvanceTo(buffer.Start);
                else reader.AdvanceTo(buffer.Start, buffer.End);
            }
            Flush();
            if (_closing)
            {
                BeginClose();
                return;
            }
            if (!HasCapacity && PauseReading()) return;
            // Stopped at the limit but the calls in progress have finished meanwhile: the calls left
            // in the input must be dispatched now, as the client may be waiting for their replies
            // and send nothing more that would wake us.
            if (!stoppedEarly) return;
        }
    }

    /// <summary>Stops reading until calls finish; false when they already have (reading goes on).</summary>
    private bool PauseReading()
    {
        _readState = ReadState.Paused;
        // pairs with SignalCapacity: it lowers the count, then looks at our state; we set the
        // state, then look at the count, so one of us sees the other
        Interlocked.MemoryBarrier();
        if (HasCapacity)
        {
            _readState = ReadState.Reading;
            return false;
        }
        lock (_writeLock) UpdateInterestLocked();
        return true;
    }

    private void Resume()
    {
        if (_readState != ReadState.Paused || _closing || !HasCapacity) return;
        _readState = ReadState.Reading;
        ProcessInput();
        if (_readState == ReadState.Reading)
            lock (_writeLock) UpdateInterestLocked();
    }

    private void SignalCapacity()
    {
        if (_readState == ReadState.Paused && HasCapacity) Post(PostResume);
    }

    /// <summary>Stops reading and closes once the queued replies are sent (loop thread).</summary>
    private void BeginClose()
    {
        _readState = ReadState.Stopped;
        bool closeNow;
        lock (_writeLock)
        {
            if (_closed) return;
            FlushLocked();
            _outputDone = true;
            closeNow = !_wantWrite;
            _closeWhenDrained = !closeNow;
            UpdateInterestLocked();
        }
        if (closeNow) FinishClose();
    }

    /// <summary>Answers what is queued, then closes (CONNECT_CLOSE).</summary>
    public void CloseAfterReplies()
    {
        _closing = true;
        Post(PostDrainAndClose);
    }

    /// <summary>Drops the client now (keepalive timeout, server shutdown).</summary>
    public void Abort()
    {
        _closing = true;
        Post(PostClose);
    }

    private void FinishClose()
    {
        lock (_writeLock)
        {
            if (_closed) return;
            _closed = true;
            _outputDone = true;
            if (_registered) _loop.Remove(_fd, _token);
            try
            {
                _socket.Shutdown(SocketShutdown.Both);
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
            }
            _socket.Dispose();
            _input.Writer.Complete();
            _input.Reader.Complete();
            _output.Writer.Complete();
            _output.Reader.Complete();
        }
        _closing = true;
        _readState = ReadState.Stopped;
        PacketFraming.ReleaseScratch(ref _scratch);
        if (_heldLargeInput) MemoryRelief.AfterLargePacket();
        _done.TrySetResult();
    }

    /// <summary>Sends the queued replies.</summary>
    public void Flush()
    {
        lock (_writeLock) FlushLocked();
    }

    private void FlushLocked()
    {
        if (!_unflushed || _closed) return;
        _unflushed = false;
        // commits the written bytes to the reader; never pauses (no writer threshold)
        var pending = _output.Writer.FlushAsync();
        if (pending.IsCompleted) pending.GetAwaiter().GetResult();
        // while the socket is full, epoll's EPOLLOUT sends the rest
        if (!_wantWrite) TrySendLocked();
    }

    private void TrySendLocked()
    {
        if (_closed) return;
        var reader = _output.Reader;
        long sentTotal = 0;
        bool failed = false;
        while (reader.TryRead(out var result))
        {
            var buffer = result.Buffer;
            long sent = SendSome(buffer, out int errno);
            reader.AdvanceTo(buffer.GetPosition(sent));
            sentTotal += sent;
            if (sent < buffer.Length)
            {
                if (errno is 0 or EAGAIN or EINTR) _wantWrite = true;
                else failed = true;
                break;
            }
        }
        if (failed)
        {
            // EPIPE, ECONNRESET: the client is gone; queued replies cannot reach it
            _outputDone = true;
            Post(PostClose);
        }
        else
        {
            UpdateInterestLocked();
            if (!_wantWrite && _closeWhenDrained) Post(PostClose);
        }
        if (sentTotal > 0 && Interlocked.Add(ref _queuedBytes, -sentTotal) < _limits.MaxQueuedReplyBytes) SignalCapacity();
    }

    /// <summary>One sendmsg of (the start of) <paramref name="buffer"/>; returns the bytes sent.</summary>
    private unsafe long SendSome(in ReadOnlySequence<byte> buffer, out int errno)
    {
        errno = 0;
        while (true)
        {
            nint n;
            if (buffer.IsSingleSegment)
            {
                fixed (byte* p = buffer.FirstSpan) n = SendOne(p, buffer.FirstSpan.Length);
            }
            else
            {
                n = SendGathered(buffer);
            }
            if (n >= 0) return n;
            errno = Marshal.GetLastPInvokeError();
            if (errno != EINTR) return 0;
        }
    }

    private unsafe nint SendOne(byte* p, int length) => Send(_fd, p, length, MSG_DONTWAIT | MSG_NOSIGNAL);

    private unsafe nint SendGathered(in ReadOnlySequence<byte> buffer)
    {
        // batches larger than one output buffer only: pinning handles are fine here
        IoVec* iov = stackalloc IoVec[MaxIoVecs];
        var pins = new Pins();
        int count = 0;
        try
        {
            foreach (var segment in buffer)
            {
                if (segment.IsEmpty) continue;
                pins[count] = segment.Pin();
                iov[count] = new IoVec { Base = (byte*)pins[count].Pointer, Length = (nuint)segment.Length };
                if (++count == MaxIoVecs) break;
            }
            MsgHdr msg = new() { Iov = iov, IovLength = (nuint)count };
            return SendMsg(_fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
        }
        finally
        {
            for (int i = 0; i < count; i++) pins[i].Dispose();
        }
    }

    [System.Runtime.CompilerServices.InlineArray(MaxIoVecs)]
    private struct Pins
    {
        private MemoryHandle _first;
    }

    private void UpdateInterestLocked()
    {
        if (_closed || !_registered) return;
        uint mask = (_readState == ReadState.Reading ? EPOLLIN : 0) | (_wantWrite ? EPOLLOUT : 0);
        if (mask == _registeredMask) return;
        _registeredMask = mask;
        _loop.Modify(_fd, mask, _token);
    }
}
