using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;
using VirtNetworkd.Errors;
using VirtNetworkd.Protocol.Framing;
using VirtNetworkd.Protocol.Xdr;
using KeepaliveProgram = VirtNetworkd.Protocol.Keepalive.KeepaliveProgram;
using KeepaliveProcedure = VirtNetworkd.Protocol.Keepalive.Procedure;
using MessageError = VirtNetworkd.Protocol.Net.MessageError;

namespace VirtNetworkd.Server.Rpc;

/// <summary>
/// One connected client. Its socket is watched by the server's <see cref="IoLoop"/>, which frames
/// the calls and dispatches them on the loop thread (ClientConnection.Io.cs); the handlers encode
/// their replies into an output pipe that is sent once per batch, or at once by a worker. Calls
/// that complete inline are answered in order; calls handed to the worker pool may finish out of
/// order. Backpressure: while <see cref="ServerLimits.MaxClientRequests"/> calls are in progress,
/// or too many reply bytes wait for a client that does not read, we stop reading from it (we never
/// reject).
/// </summary>
public sealed partial class ClientConnection
{
    private static long s_nextId;

    private readonly RpcServer _server;
    private readonly ServerLimits _limits;
    private readonly IProgramDispatcher? _program;
    private int _inFlight;
    private long _queuedBytes;
    private volatile bool _closing;

    internal ClientConnection(Socket socket, ListenerRole role, ListenerAuth auth, RpcServer server, ServerLimits limits, IProgramDispatcher? program)
    {
        Auth = auth;
        _socket = socket;
        _fd = (int)socket.SafeHandle.DangerousGetHandle();
        _server = server;
        _loop = server.Loop;
        _limits = limits;
        _program = program;
        Role = role;
        Id = Interlocked.Increment(ref s_nextId);
        Peer = PeerCredentials.Of(socket);
        // libvirt lets root past polkit (at AUTH_LIST); doing it on connect keeps idle root
        // connections from counting against max_anonymous_clients
        _authenticated = auth == ListenerAuth.None || Peer.Uid == 0;
        _input = new Pipe(PipeOptionsFor(ReceiveSegmentSize));
        _output = new Pipe(PipeOptionsFor(SendSegmentSize));
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

    private bool HasCapacity =>
        Volatile.Read(ref _inFlight) < _limits.MaxClientRequests && Interlocked.Read(ref _queuedBytes) < _limits.MaxQueuedReplyBytes;

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
        catch (XdrEncodeException e)
        {
            ReplyEncodeFailed(header, e, flush: false);
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
            catch (XdrEncodeException e)
            {
                ReplyEncodeFailed(h, e, flush: true);
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

    /// <summary>A reply too large for the protocol (e.g. an XML document over REMOTE_STRING_MAX):
    /// libvirt's virNetMessageEncodePayload error, logged without a trace.</summary>
    private void ReplyEncodeFailed(in PacketHeader call, XdrEncodeException e, bool flush)
    {
        _server.Log.Error($"client {Id}: proc {call.Procedure}: Unable to encode message payload: {e.Message}");
        ReplyError(call, RpcErrors.EncodeFailed(), flush);
    }

    /// <summary>Sends an unsolicited MESSAGE packet (an event) and flushes it. A client that lets
    /// more than <see cref="ServerLimits.MaxQueuedEventBytes"/> wait unsent is dropped (logged), as
    /// libvirt drops a client whose queue is full: its events must not grow the daemon.</summary>
    public void SendMessage<T>(uint program, uint version, int procedure, in T body) where T : IXdrType<T>
    {
        if (Interlocked.Read(ref _queuedBytes) >= _limits.MaxQueuedEventBytes)
        {
            if (!_closing)
                _server.Log.Warn($"client {Id}: {Interlocked.Read(ref _queuedBytes)} bytes of replies and events wait unsent (limit {_limits.MaxQueuedEventBytes}): it does not read; dropping the client");
            Abort();
            return;
        }
        Write(new PacketHeader(program, version, procedure, PacketType.Message, 1, PacketStatus.Ok), body, flush: true);
    }

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
                Abort();
                return;
            }
            Interlocked.Add(ref _queuedBytes, n);
            _unflushed = true;
            if (flush) FlushLocked();
        }
    }
}
