using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;
using VirtNetworkd.NetworkDriver.Errors;
using VirtNetworkd.Protocol.Framing;
using VirtNetworkd.Protocol.Xdr;
using KeepaliveProgram = VirtNetworkd.Protocol.Keepalive.KeepaliveProgram;
using KeepaliveProcedure = VirtNetworkd.Protocol.Keepalive.Procedure;
using MessageError = VirtNetworkd.Protocol.Net.MessageError;

namespace VirtNetworkd.Server.Rpc;

/// <summary>
/// One connected client: a read loop that frames packets and dispatches them, and a send loop
/// that drains the replies the handlers encode into an in-memory pipe. Calls that complete
/// inline are answered in order and flushed once per batch; calls handed to the worker pool
/// may finish out of order. Backpressure: while <see cref="ServerLimits.MaxClientRequests"/>
/// calls are in progress, or too many reply bytes wait for a client that does not read, we stop
/// reading from it (we never reject).
/// </summary>
public sealed partial class ClientConnection
{
    private static long s_nextId;

    private readonly Socket _socket;
    private readonly RpcServer _server;
    private readonly ServerLimits _limits;
    private readonly IProgramDispatcher? _program;
    private readonly Pipe _output;
    private readonly Lock _writeLock = new();
    private readonly SemaphoreSlim _capacity = new(0, int.MaxValue);
    private byte[]? _scratch;
    private int _inFlight;
    private long _queuedBytes;
    private int _waitingForCapacity;
    private int _closed;
    private bool _closing;
    private bool _outputDone;

    internal ClientConnection(Socket socket, ListenerRole role, ListenerAuth auth, RpcServer server, ServerLimits limits, IProgramDispatcher? program)
    {
        Auth = auth;
        _socket = socket;
        _server = server;
        _limits = limits;
        _program = program;
        Role = role;
        Id = Interlocked.Increment(ref s_nextId);
        Peer = PeerCredentials.Of(socket);
        // libvirt lets root past polkit (at AUTH_LIST); doing it on connect keeps idle root
        // connections from counting against max_anonymous_clients
        _authenticated = auth == ListenerAuth.None || Peer.Uid == 0;
        _output = new Pipe(new PipeOptions(
            readerScheduler: PipeScheduler.Inline,
            writerScheduler: PipeScheduler.Inline,
            pauseWriterThreshold: 0,
            resumeWriterThreshold: 0,
            useSynchronizationContext: false));
        _lastReceived = Environment.TickCount64;
    }

    public long Id { get; }

    /// <summary>How this client must authenticate.</summary>
    public ListenerAuth Auth { get; }

    /// <summary>Passed authentication: only AUTH_* procedures are allowed before.</summary>
    public bool IsAuthenticated => Volatile.Read(ref _authenticated);

    public void MarkAuthenticated()
    {
        if (!Volatile.Read(ref _authenticated))
        {
            Volatile.Write(ref _authenticated, true);
            _server.OnClientAuthenticated();
        }
    }

    private bool _authenticated;
    public ListenerRole Role { get; }
    public PeerCredentials Peer { get; }
    public bool IsReadOnlySocket => Role == ListenerRole.ReadOnly;
    public RpcServer Server => _server;

    /// <summary>Per-client state of the program (the remote program's session).</summary>
    public object? ProgramState { get; set; }

    internal async Task RunAsync()
    {
        var send = SendLoopAsync();
        try
        {
            await ReadLoopAsync().ConfigureAwait(false);
        }
        finally
        {
            lock (_writeLock)
            {
                FlushLocked();
                _outputDone = true;
                _output.Writer.Complete();
            }
            await send.ConfigureAwait(false);
            Close();
            _program?.OnClientClosed(this);
        }
    }

    private async Task ReadLoopAsync()
    {
        var reader = PipeReader.Create(new NetworkStream(_socket, ownsSocket: false),
            new StreamPipeReaderOptions(bufferSize: 64 * 1024, minimumReadSize: 4 * 1024, leaveOpen: true));
        try
        {
            while (!_closing)
            {
                if (!HasCapacity) await WaitForCapacityAsync().ConfigureAwait(false);
                if (_closing) break;
                var result = await reader.ReadAsync().ConfigureAwait(false);
                var buffer = result.Buffer;
                bool stoppedEarly = false;
                try
                {
                    while (PacketFraming.TryReadPacket(ref buffer, out var packet))
                    {
                        ProcessPacket(packet);
                        if (_closing || !HasCapacity)
                        {
                            stoppedEarly = true;
                            break;
                        }
                    }
                }
                finally
                {
                    // stopped with whole packets left: do not wait for more bytes to look at them
                    if (stoppedEarly) reader.AdvanceTo(buffer.Start);
                    else reader.AdvanceTo(buffer.Start, buffer.End);
                }
                Flush();
                if (result.IsCompleted) break;
            }
        }
        catch (PacketFramingException e)
        {
            _server.Log.Warn($"client {Id}: {e.Message}; closing the connection");
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or OperationCanceledException)
        {
        }
        finally
        {
            await reader.CompleteAsync().ConfigureAwait(false);
            if (_scratch is not null) ArrayPool<byte>.Shared.Return(_scratch);
            _scratch = null;
        }
    }

    private bool HasCapacity =>
        Volatile.Read(ref _inFlight) < _limits.MaxClientRequests && Interlocked.Read(ref _queuedBytes) < _limits.MaxQueuedReplyBytes;

    private async Task WaitForCapacityAsync()
    {
        while (!HasCapacity && !_closing)
        {
            Volatile.Write(ref _waitingForCapacity, 1);
            if (HasCapacity || _closing) break; // re-check after announcing we wait
            await _capacity.WaitAsync().ConfigureAwait(false);
        }
        Volatile.Write(ref _waitingForCapacity, 0);
    }

    private void SignalCapacity()
    {
        if (Interlocked.Exchange(ref _waitingForCapacity, 0) == 1) _capacity.Release();
    }

    private void ProcessPacket(in ReadOnlySequence<byte> packet)
    {
        var span = PacketFraming.Contiguous(packet, ref _scratch);
        var header = PacketFraming.ReadHeader(span);
        var body = PacketFraming.Body(span);
        _lastReceived = Environment.TickCount64;
        _pingsUnanswered = 0;

        if (header.Program == KeepaliveProgram.Number && header.Version == KeepaliveProgram.Version && header.Type == PacketType.Message)
        {
            if (header.Procedure == (int)KeepaliveProcedure.Ping) SendKeepalive(KeepaliveProcedure.Pong, flush: false);
            return;
        }
        if (_program is null || header.Program != _program.Program || header.Version != _program.Version)
        {
            ReplyError(header, RpcErrors.UnknownProgram(header.Program, header.Version));
            return;
        }
        if (header.Type != PacketType.Call)
        {
            // libvirt drops stray replies, messages and stream data from a client without answering;
            // a call with file descriptors we cannot receive gets an error
            if (header.Type == PacketType.CallWithFds) ReplyError(header, RpcErrors.UnexpectedType(header.Type));
            return;
        }
        if (header.Status != PacketStatus.Ok)
        {
            ReplyError(header, RpcErrors.UnexpectedStatus(header.Status));
            return;
        }
        if (!_program.IsKnownProcedure(header.Procedure))
        {
            ReplyError(header, RpcErrors.UnknownProcedure(header.Procedure));
            return;
        }
        if (!IsAuthenticated && _program.NeedsAuth(header.Procedure))
        {
            ReplyError(header, RpcErrors.AuthenticationRequired());
            return;
        }
        try
        {
            _program.Dispatch(this, header, body);
        }
        catch (LibvirtError e)
        {
            ReplyError(header, e);
        }
        catch (XdrDecodeException e)
        {
            _server.Log.Debug($"client {Id}: proc {header.Procedure}: {e.Message}");
            ReplyError(header, RpcErrors.DecodeFailed());
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            _server.Log.Error($"client {Id}: proc {header.Procedure} failed: {e}");
            ReplyError(header, RpcErrors.Internal(e.Message));
        }
    }

    /// <summary>
    /// Runs a call that may block (spawns processes, touches the kernel) on the worker pool and
    /// replies when it is done; the client's in-flight count holds until then.
    /// </summary>
    public void RunOnWorker(in PacketHeader header, bool highPriority, Action<ClientConnection, PacketHeader> work)
    {
        Interlocked.Increment(ref _inFlight);
        var h = header;
        _server.Workers.Queue(highPriority, () =>
        {
            try
            {
                work(this, h);
            }
            catch (LibvirtError e)
            {
                ReplyError(h, e, flush: true);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                _server.Log.Error($"client {Id}: proc {h.Procedure} failed: {e}");
                ReplyError(h, RpcErrors.Internal(e.Message), flush: true);
            }
            finally
            {
                Interlocked.Decrement(ref _inFlight);
                SignalCapacity();
            }
        });
    }

    /// <summary>Reads the args of a call that will run on a worker (the body span dies with dispatch).</summary>
    public static T DecodeArgs<T>(ReadOnlySpan<byte> body) where T : IXdrType<T> => XdrCodec.Decode<T>(body);

    /// <summary>Queues the successful reply to a call. Inline calls are flushed with their batch;
    /// a worker passes <paramref name="flush"/> true.</summary>
    public void Reply<T>(in PacketHeader call, in T body, bool flush = false) where T : IXdrType<T> =>
        Write(call with { Type = PacketType.Reply, Status = PacketStatus.Ok }, body, flush);

    public void ReplyError(in PacketHeader call, LibvirtError error, bool flush = false)
    {
        var body = new MessageError
        {
            Code = (int)error.Code,
            Domain = (int)error.Domain,
            Message = error.Message,
            Level = (int)error.Level,
            Str1 = error.Template,
            Str2 = error.Detail,
            Int1 = -1,
            Int2 = -1,
        };
        Write(call with { Type = PacketType.Reply, Status = PacketStatus.Error }, body, flush);
    }

    /// <summary>Sends an unsolicited MESSAGE packet (an event) and flushes it.</summary>
    public void SendMessage<T>(uint program, uint version, int procedure, in T body) where T : IXdrType<T> =>
        Write(new PacketHeader(program, version, procedure, PacketType.Message, 1, PacketStatus.Ok), body, flush: true);

    private void SendKeepalive(KeepaliveProcedure procedure, bool flush) =>
        Write(new PacketHeader(KeepaliveProgram.Number, KeepaliveProgram.Version, (int)procedure, PacketType.Message, 0, PacketStatus.Ok), new XdrVoid(), flush);

    private void Write<T>(in PacketHeader header, in T body, bool flush) where T : IXdrType<T>
    {
        lock (_writeLock)
        {
            if (_outputDone) return;
            long n;
            try
            {
                n = PacketWriter.Write(_output.Writer, header, body);
            }
            catch (XdrEncodeException e)
            {
                // part of the packet may be in the pipe already: the stream cannot be trusted
                _server.Log.Error($"client {Id}: cannot encode reply to proc {header.Procedure}: {e.Message}; closing");
                _outputDone = true;
                _output.Writer.Complete();
                Abort();
                return;
            }
            Interlocked.Add(ref _queuedBytes, n);
            _unflushed = true;
            if (flush) FlushLocked();
        }
    }

    private bool _unflushed;

    /// <summary>Hands the queued replies to the send loop.</summary>
    public void Flush()
    {
        lock (_writeLock) FlushLocked();
    }

    private void FlushLocked()
    {
        if (!_unflushed || _outputDone) return;
        _unflushed = false;
        // never pauses (no writer threshold); with the inline reader scheduler the send loop
        // runs right here, so a reply usually reaches the socket before Flush returns
        var pending = _output.Writer.FlushAsync();
        if (pending.IsCompleted) pending.GetAwaiter().GetResult();
        else _ = pending.AsTask();
    }

    private async Task SendLoopAsync()
    {
        var reader = _output.Reader;
        try
        {
            while (true)
            {
                var result = await reader.ReadAsync().ConfigureAwait(false);
                var buffer = result.Buffer;
                foreach (var segment in buffer)
                {
                    var remaining = segment;
                    while (!remaining.IsEmpty)
                    {
                        int sent = await _socket.SendAsync(remaining, SocketFlags.None).ConfigureAwait(false);
                        remaining = remaining[sent..];
                    }
                }
                long n = buffer.Length;
                reader.AdvanceTo(buffer.End);
                if (n > 0 && Interlocked.Add(ref _queuedBytes, -n) < _limits.MaxQueuedReplyBytes) SignalCapacity();
                if (result.IsCompleted) break;
            }
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException)
        {
            Abort();
        }
        finally
        {
            await reader.CompleteAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Answers what is queued, then closes (CONNECT_CLOSE).</summary>
    public void CloseAfterReplies()
    {
        _closing = true;
        SignalCapacity();
    }

    /// <summary>Drops the client now (keepalive timeout, server shutdown).</summary>
    public void Abort()
    {
        _closing = true;
        Close();
        SignalCapacity();
    }

    private void Close()
    {
        if (Interlocked.Exchange(ref _closed, 1) == 1) return;
        try
        {
            _socket.Shutdown(SocketShutdown.Both);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
        }
        _socket.Dispose();
    }
}
