using System.Buffers;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using static VirtNetworkd.Server.Rpc.SocketCalls;

namespace VirtNetworkd.Server.Rpc;

/// <summary>
/// The socket of one client, driven by the <see cref="IoLoop"/>, carrying its
/// <see cref="RpcSession"/>: one recv per readable event into the session's input, whose whole
/// calls it dispatches at once; the replies of the batch go out with one send (sendmsg when they
/// span buffers). Replies a client does not read wait in the session's output until epoll says
/// the socket takes more. Only the loop thread receives and closes; any thread may send, under
/// the session's output lock.
/// </summary>
internal sealed class ClientConnection : IIoLoopClient, ISessionTransport
{
    private const int MaxIoVecs = 8;

    private const int PostResume = 1;
    private const int PostDrainAndClose = 2;
    private const int PostClose = 4;

    private readonly Socket _socket;
    private readonly int _fd;
    private readonly IoLoop _loop;
    private readonly TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private ulong _token;
    private int _postFlags;

    // under the session's output lock
    private bool _registered;
    private uint _registeredMask;
    private bool _wantWrite;
    private bool _closeWhenDrained;
    private bool _closed;

    internal ClientConnection(Socket socket, RpcSession session, IoLoop loop)
    {
        _socket = socket;
        _fd = (int)socket.SafeHandle.DangerousGetHandle();
        _loop = loop;
        Session = session;
        session.Attach(this);
    }

    public RpcSession Session { get; }
    private Lock OutputLock => Session.OutputLock;

    /// <summary>Serves the client until it is gone.</summary>
    internal async Task RunAsync()
    {
        lock (OutputLock)
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
        Session.OnClosed();
    }

    void IIoLoopClient.OnEvents(uint events)
    {
        try
        {
            if ((events & EPOLLOUT) != 0)
            {
                lock (OutputLock)
                {
                    _wantWrite = false;
                    TrySendLocked();
                }
            }
            if (Session.WantsInput && (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) != 0) Receive();
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
            else if ((flags & PostDrainAndClose) != 0) Session.BeginClose();
            else if ((flags & PostResume) != 0) Session.Resume();
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
        Session.Log.Error($"client {Session.Id}: {e}; closing the connection");
        FinishClose();
    }

    private void Post(int flag)
    {
        if (Interlocked.Or(ref _postFlags, flag) == 0) _loop.Post(this);
    }

    private unsafe void Receive()
    {
        var memory = Session.InputBuffer();
        nint n;
        fixed (byte* p = memory.Span) n = Recv(_fd, p, memory.Length, MSG_DONTWAIT);
        if (n > 0)
        {
            Session.OnReceived((int)n);
            return;
        }
        if (n == 0)
        {
            Session.OnEndOfInput();
            return;
        }
        int errno = Marshal.GetLastPInvokeError();
        if (errno is EAGAIN or EINTR) return;
        FinishClose(); // ECONNRESET and the like: nobody to answer
    }

    void ISessionTransport.PostResume() => Post(PostResume);

    void ISessionTransport.PostClose(bool drain) => Post(drain ? PostDrainAndClose : PostClose);

    void ISessionTransport.CloseWhenSent()
    {
        bool closeNow;
        lock (OutputLock)
        {
            if (_closed) return;
            closeNow = !_wantWrite;
            _closeWhenDrained = !closeNow;
        }
        if (closeNow) FinishClose();
    }

    void ISessionTransport.SendLocked()
    {
        // while the socket is full, epoll's EPOLLOUT sends the rest
        if (!_wantWrite) TrySendLocked();
    }

    void ISessionTransport.InterestChangedLocked() => UpdateInterestLocked();

    private void FinishClose()
    {
        lock (OutputLock)
        {
            if (_closed) return;
            _closed = true;
            if (_registered) _loop.Remove(_fd, _token);
            try
            {
                _socket.Shutdown(SocketShutdown.Both);
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
            }
            _socket.Dispose();
        }
        Session.Complete();
        _done.TrySetResult();
    }

    private void TrySendLocked()
    {
        if (_closed) return;
        bool failed = false;
        while (Session.TakeOutput(out var buffer))
        {
            long sent = SendSome(buffer, out int errno);
            Session.OnSent(buffer, sent);
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
            Session.OnOutputFailed();
            Post(PostClose);
        }
        else
        {
            UpdateInterestLocked();
            if (!_wantWrite && _closeWhenDrained) Post(PostClose);
        }
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
        private System.Buffers.MemoryHandle _first;
    }

    private void UpdateInterestLocked()
    {
        if (_closed || !_registered) return;
        uint mask = (Session.WantsInput ? EPOLLIN : 0) | (_wantWrite ? EPOLLOUT : 0);
        if (mask == _registeredMask) return;
        _registeredMask = mask;
        _loop.Modify(_fd, mask, _token);
    }
}
