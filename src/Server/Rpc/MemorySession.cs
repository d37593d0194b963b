using System.Buffers;
using VirtNetworkd.Server.Host.Logging;

namespace VirtNetworkd.Server.Rpc;

/// <summary>Runs work at once on the caller's thread (tests and the fuzzing harness: deterministic).</summary>
public sealed class InlineWorkQueue : IWorkQueue
{
    public static readonly InlineWorkQueue Instance = new();

    public void Queue(bool highPriority, Action work) => work();
}

/// <summary>
/// A <see cref="RpcSession"/> driven in memory, with no socket and no event loop: bytes given to
/// <see cref="Feed"/> are framed and dispatched at once, and what the daemon would send collects
/// until <see cref="TakeOutput"/>. Unit tests and the fuzzing harness use it; the daemon uses
/// <see cref="ClientConnection"/>.
/// </summary>
public sealed class MemorySession : ISessionTransport, IDisposable
{
    private readonly ArrayBufferWriter<byte> _sent = new();
    private byte[] _pending = [];
    private bool _resume;
    private bool _drainAndClose;
    private bool _abort;
    private bool _closeWhenSent;

    public MemorySession(IProgramDispatcher? program, ListenerRole role = ListenerRole.ReadWrite, ListenerAuth auth = ListenerAuth.None,
        PeerCredentials? peer = null, ServerLimits? limits = null, IWorkQueue? workers = null, Logger? log = null)
    {
        Session = new RpcSession(role, auth, peer ?? new PeerCredentials(Environment.ProcessId, 0, 0), limits ?? new ServerLimits(),
            program, workers ?? InlineWorkQueue.Instance, log ?? Log.For("rpc"), onAuthenticated: null);
        Session.Attach(this);
    }

    public RpcSession Session { get; }

    /// <summary>The session closed (end of input, CONNECT_CLOSE, a framing error, an abort).</summary>
    public bool Closed { get; private set; }

    /// <summary>Gives the session bytes as if received; whole calls are dispatched before it returns
    /// (with <see cref="InlineWorkQueue"/>, worker calls too).</summary>
    public void Feed(ReadOnlySpan<byte> data)
    {
        if (_pending.Length > 0)
        {
            _pending = [.. _pending, .. data];
            data = [];
        }
        else if (!Session.WantsInput)
        {
            _pending = data.ToArray();
            data = [];
        }
        Pump(data);
    }

    /// <summary>The peer closed its side: what came is answered, then the session closes.</summary>
    public void EndOfInput()
    {
        if (Closed) return;
        Session.OnEndOfInput();
        Pump([]);
    }

    private void Pump(ReadOnlySpan<byte> data)
    {
        while (!Closed)
        {
            RunPosted();
            if (Closed) return;
            if (_pending.Length > 0 && Session.WantsInput)
            {
                var pending = _pending;
                _pending = [];
                Receive(pending, out int used);
                if (used < pending.Length) _pending = pending[used..];
                continue;
            }
            if (data.IsEmpty || !Session.WantsInput)
            {
                if (!data.IsEmpty) _pending = [.. _pending, .. data];
                return;
            }
            Receive(data, out int n);
            data = data[n..];
        }
    }

    private void Receive(ReadOnlySpan<byte> data, out int used)
    {
        var buffer = Session.InputBuffer().Span;
        used = Math.Min(buffer.Length, data.Length);
        data[..used].CopyTo(buffer);
        Session.OnReceived(used);
    }

    private void RunPosted()
    {
        while (true)
        {
            if (_abort)
            {
                Finish(sendQueued: false);
                return;
            }
            if (_closeWhenSent)
            {
                Finish(sendQueued: true);
                return;
            }
            if (_drainAndClose)
            {
                _drainAndClose = false;
                Session.BeginClose();
                continue;
            }
            if (_resume)
            {
                _resume = false;
                Session.Resume();
                continue;
            }
            return;
        }
    }

    private void Finish(bool sendQueued)
    {
        if (sendQueued) Drain();
        Closed = true;
        Session.Complete();
        Session.OnClosed();
    }

    /// <summary>What the daemon sent since the last call.</summary>
    public byte[] TakeOutput()
    {
        RunPosted();
        Drain();
        byte[] bytes = _sent.WrittenSpan.ToArray();
        _sent.ResetWrittenCount();
        return bytes;
    }

    private void Drain()
    {
        lock (Session.OutputLock)
        {
            while (Session.TakeOutput(out var buffer))
            {
                foreach (var segment in buffer) _sent.Write(segment.Span);
                Session.OnSent(buffer, buffer.Length);
            }
        }
    }

    void ISessionTransport.SendLocked()
    {
    }

    void ISessionTransport.InterestChangedLocked()
    {
    }

    void ISessionTransport.PostResume() => _resume = true;

    void ISessionTransport.PostClose(bool drain)
    {
        if (drain) _drainAndClose = true;
        else _abort = true;
    }

    void ISessionTransport.CloseWhenSent() => _closeWhenSent = true;

    public void Dispose()
    {
        if (!Closed) Finish(sendQueued: false);
    }
}
