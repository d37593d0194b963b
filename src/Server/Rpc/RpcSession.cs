using System.Buffers;
using VirtNetworkd.Errors;
using VirtNetworkd.Protocol.Framing;
using VirtNetworkd.Protocol.Xdr;
using VirtNetworkd.Server.Host.Logging;
using KeepaliveProgram = VirtNetworkd.Protocol.Keepalive.KeepaliveProgram;
using KeepaliveProcedure = VirtNetworkd.Protocol.Keepalive.Procedure;
using MessageError = VirtNetworkd.Protocol.Net.MessageError;

namespace VirtNetworkd.Server.Rpc;

/// <summary>
/// One client's side of the RPC protocol, with no socket: bytes go into its input pipe, whole
/// calls are framed, checked (keepalive, program, type, status, procedure, authentication) and
/// dispatched; replies and events are encoded into its output pipe, which a transport sends.
/// Calls that complete inline are answered in order; calls handed to the worker pool may finish
/// out of order. Backpressure: while <see cref="ServerLimits.MaxClientRequests"/> calls are in
/// progress, or too many reply bytes wait unsent, it stops reading (it never rejects).
/// </summary>
public sealed partial class RpcSession : IRpcClient
{
    private static long s_nextId;

    private readonly ServerLimits _limits;
    private readonly IProgramDispatcher? _program;
    private readonly IWorkQueue _workers;
    private readonly Action? _onAuthenticated;
    private ISessionTransport _transport = null!;
    private int _inFlight;
    private long _queuedBytes;
    private volatile bool _closing;
    private bool _authenticated;

    internal RpcSession(ListenerRole role, ListenerAuth auth, PeerCredentials peer, ServerLimits limits,
        IProgramDispatcher? program, IWorkQueue workers, Logger log, Action? onAuthenticated)
    {
        Role = role;
        Auth = auth;
        Peer = peer;
        _limits = limits;
        _program = program;
        _workers = workers;
        Log = log;
        _onAuthenticated = onAuthenticated;
        Id = Interlocked.Increment(ref s_nextId);
        ConnectedAt = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        // libvirt lets root past polkit (at AUTH_LIST); doing it on connect keeps idle root
        // connections from counting against max_anonymous_clients
        _authenticated = auth == ListenerAuth.None || peer.Uid == 0;
        _lastReceived = Environment.TickCount64;
    }

    internal void Attach(ISessionTransport transport) => _transport = transport;

    public long Id { get; }
    public ListenerRole Role { get; }
    public ListenerAuth Auth { get; }
    public PeerCredentials Peer { get; }
    public long ConnectedAt { get; }
    public bool IsReadOnlySocket => Role == ListenerRole.ReadOnly;
    public object? ProgramState { get; set; }
    public Logger Log { get; }
    public bool IsAuthenticated => Volatile.Read(ref _authenticated);
    internal bool IsClosing => _closing;

    public void MarkAuthenticated()
    {
        if (!Volatile.Read(ref _authenticated))
        {
            Volatile.Write(ref _authenticated, true);
            _onAuthenticated?.Invoke();
        }
    }

    private bool HasCapacity =>
        Volatile.Read(ref _inFlight) < _limits.MaxClientRequests && Volatile.Read(ref _queuedBytes) < _limits.MaxQueuedReplyBytes;

    private void ProcessPacket(in ReadOnlySequence<byte> packet)
    {
        var span = PacketFraming.Contiguous(packet, ref _scratch);
        var header = PacketFraming.ReadHeader(span);
        var body = PacketFraming.Body(span);

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
        AfterReply.Enter();
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
            Log.Debug($"client {Id}: proc {header.Procedure}: {e.Message}");
            ReplyError(header, RpcErrors.DecodeFailed());
        }
        catch (XdrEncodeException e)
        {
            ReplyEncodeFailed(header, e, flush: false);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            Log.Error($"client {Id}: proc {header.Procedure} failed: {e}");
            ReplyError(header, RpcErrors.Internal(e.Message));
        }
        finally
        {
            AfterReply.Exit(_onDeferredFault);
        }
    }

    private void OnDeferredFault(Exception e) => Log.Error($"client {Id}: after a reply: {e}");

    // made once: a method group converted on every call would allocate a delegate per call
    private Action<Exception> _onDeferredFault => _deferredFault ??= OnDeferredFault;
    private Action<Exception>? _deferredFault;

    /// <summary>
    /// Runs a call that may block (spawns processes, touches the kernel) on the worker pool and
    /// sends its reply when it is done; the client's in-flight count holds until then.
    /// </summary>
    public void RunOnWorker(in PacketHeader header, bool highPriority, Action<IRpcClient, PacketHeader> work)
    {
        Interlocked.Increment(ref _inFlight);
        var h = header;
        _workers.Queue(highPriority, () =>
        {
            AfterReply.Enter();
            try
            {
                work(this, h);
            }
            catch (LibvirtError e)
            {
                ReplyError(h, e, flush: true);
            }
            catch (XdrEncodeException e)
            {
                ReplyEncodeFailed(h, e, flush: true);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                Log.Error($"client {Id}: proc {h.Procedure} failed: {e}");
                ReplyError(h, RpcErrors.Internal(e.Message), flush: true);
            }
            finally
            {
                // the loop flushed the batch this call came in long ago: a reply the handler did
                // not flush itself would wait for the client's next packet, which may never come
                Flush();
                AfterReply.Exit(_onDeferredFault);
                Interlocked.Decrement(ref _inFlight);
                SignalCapacity();
            }
        });
    }

    /// <summary>Reads the args of a call that will run on a worker (the body span dies with dispatch).</summary>
    public static T DecodeArgs<T>(ReadOnlySpan<byte> body) where T : IXdrType<T> => XdrCodec.Decode<T>(body);

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

    /// <summary>A reply too large for the protocol (e.g. an XML document over REMOTE_STRING_MAX):
    /// libvirt's virNetMessageEncodePayload error, logged without a trace.</summary>
    private void ReplyEncodeFailed(in PacketHeader call, XdrEncodeException e, bool flush)
    {
        Log.Error($"client {Id}: proc {call.Procedure}: Unable to encode message payload: {e.Message}");
        ReplyError(call, RpcErrors.EncodeFailed(), flush);
    }

    /// <summary>Sends an unsolicited MESSAGE packet (an event) and flushes it. A client that lets
    /// more than <see cref="ServerLimits.MaxQueuedEventBytes"/> wait unsent is dropped (logged), as
    /// libvirt drops a client whose queue is full: its events must not grow the daemon.</summary>
    public void SendMessage<T>(uint program, uint version, int procedure, in T body) where T : IXdrType<T>
    {
        if (Volatile.Read(ref _queuedBytes) >= _limits.MaxQueuedEventBytes)
        {
            if (!_closing)
                Log.Warn($"client {Id}: {Volatile.Read(ref _queuedBytes)} bytes of replies and events wait unsent (limit {_limits.MaxQueuedEventBytes}): it does not read; dropping the client");
            Abort();
            return;
        }
        Write(new PacketHeader(program, version, procedure, PacketType.Message, 1, PacketStatus.Ok), body, flush: true);
    }

    private void SendKeepalive(KeepaliveProcedure procedure, bool flush) =>
        Write(new PacketHeader(KeepaliveProgram.Number, KeepaliveProgram.Version, (int)procedure, PacketType.Message, 0, PacketStatus.Ok), new XdrVoid(), flush);

    private void Write<T>(in PacketHeader header, in T body, bool flush) where T : IXdrType<T>
    {
        lock (_outputLock)
        {
            if (_outputDone) return;
            long n;
            try
            {
                n = PacketWriter.Write(_output, header, body);
            }
            catch (XdrEncodeException e)
            {
                // part of the packet may be in the pipe already: the stream cannot be trusted
                Log.Error($"client {Id}: cannot encode reply to proc {header.Procedure}: {e.Message}; closing");
                _outputDone = true;
                Abort();
                return;
            }
            Interlocked.Add(ref _queuedBytes, n);
            _unflushed = true;
            if (flush) FlushLocked();
        }
    }

    /// <summary>Answers what is queued, then closes (CONNECT_CLOSE).</summary>
    public void CloseAfterReplies()
    {
        _closing = true;
        _transport.PostClose(drain: true);
    }

    /// <summary>Drops the client now (keepalive timeout, server shutdown, event backlog).</summary>
    public void Abort()
    {
        _closing = true;
        _transport.PostClose(drain: false);
    }

    /// <summary>The transport is gone: tells the program, once.</summary>
    internal void OnClosed() => _program?.OnClientClosed(this);
}
