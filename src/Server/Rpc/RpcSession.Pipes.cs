using System.Buffers;
using VirtNetworkd.Protocol.Framing;

namespace VirtNetworkd.Server.Rpc;

/// <summary>
/// The session's two byte queues: the transport writes received bytes into the input and calls
/// <see cref="OnReceived"/>, which dispatches every whole call; replies wait in the output until
/// the transport sends them (<see cref="TakeOutput"/>, <see cref="OnSent"/>). Only the
/// transport's thread receives, resumes and closes; any thread may write replies, under the
/// output lock.
/// </summary>
public sealed partial class RpcSession
{
    private const int ReceiveSegmentSize = 16 * 1024;
    // a batch of list or XML replies fits one buffer, and so one send()
    private const int SendSegmentSize = 16 * 1024;
    /// <summary>The largest packet of a client that has not authenticated (AUTH_LIST, AUTH_POLKIT
    /// and keepalive need a few dozen bytes). Unlike libvirt, which allows 32 MiB from anyone.</summary>
    public const int MaxUnauthenticatedPacketSize = 8192;

    private enum ReadState
    {
        Reading,
        /// <summary>Backpressure: the calls in progress or the queued replies are at their limit.</summary>
        Paused,
        /// <summary>End of input, CONNECT_CLOSE or a framing error: only sending what is queued remains.</summary>
        Stopped,
    }

    private readonly SessionBuffer _input = new(ReceiveSegmentSize);
    private readonly SessionBuffer _output = new(SendSegmentSize);
    private readonly Lock _outputLock = new();
    private byte[]? _scratch;
    private volatile ReadState _readState;
    private bool _heldLargeInput;

    // under _outputLock
    private bool _unflushed;
    private bool _outputDone;
    private bool _completed;

    /// <summary>The lock that guards the output; the transport holds it while it sends.</summary>
    internal Lock OutputLock => _outputLock;

    /// <summary>Whether the session reads more input now (not paused, not stopped).</summary>
    internal bool WantsInput => _readState == ReadState.Reading;

    /// <summary>Bytes of replies and events waiting to be sent.</summary>
    public long QueuedBytes => Volatile.Read(ref _queuedBytes);

    /// <summary>Where the transport puts received bytes (then <see cref="OnReceived"/>).</summary>
    internal Memory<byte> InputBuffer() => _input.GetMemory(ReceiveSegmentSize / 4);

    /// <summary><paramref name="count"/> bytes were written into <see cref="InputBuffer"/>: dispatch the whole calls.</summary>
    internal void OnReceived(int count)
    {
        _input.Advance(count);
        ProcessInput();
    }

    /// <summary>The peer will send nothing more: answer what came, then close.</summary>
    internal void OnEndOfInput()
    {
        _closing = true;
        BeginClose();
    }

    /// <summary>Dispatches every whole call in the input, then sends the batch's replies.</summary>
    private void ProcessInput()
    {
        while (!_input.IsEmpty)
        {
            var buffer = _input.Readable;
            if (buffer.Length > PacketFraming.PooledScratchMax) _heldLargeInput = true;
            bool stoppedEarly = false;
            bool anyPacket = false;
            try
            {
                while (PacketFraming.TryReadPacket(ref buffer, out var packet, IsAuthenticated ? PacketFraming.MaxPacketSize : MaxUnauthenticatedPacketSize))
                {
                    anyPacket = true;
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
                Log.Warn($"client {Id}: {e.Message}; closing the connection");
                _closing = true;
            }
            finally
            {
                // what is left (part of a call, or whole calls when stopped early) stays for later
                _input.AdvanceTo(buffer.Start);
                if (anyPacket)
                {
                    // the keepalive clock counts whole packets; read once per batch, not per call
                    _lastReceived = Environment.TickCount64;
                    _pingsUnanswered = 0;
                }
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
        lock (_outputLock) _transport.InterestChangedLocked();
        return true;
    }

    /// <summary>Reading was paused and calls have finished: go on (the transport's thread).</summary>
    internal void Resume()
    {
        if (_readState != ReadState.Paused || _closing || !HasCapacity) return;
        _readState = ReadState.Reading;
        ProcessInput();
        if (_readState == ReadState.Reading)
            lock (_outputLock) _transport.InterestChangedLocked();
    }

    private void SignalCapacity()
    {
        if (_readState == ReadState.Paused && HasCapacity) _transport.PostResume();
    }

    /// <summary>Stops reading, sends what is queued and accepts no more output; the transport
    /// closes once that is sent (its own thread).</summary>
    internal void BeginClose()
    {
        _readState = ReadState.Stopped;
        lock (_outputLock)
        {
            if (_completed) return;
            FlushLocked();
            _outputDone = true;
            _transport.InterestChangedLocked();
        }
        _transport.CloseWhenSent();
    }

    /// <summary>Sends the queued replies.</summary>
    public void Flush()
    {
        lock (_outputLock) FlushLocked();
    }

    private void FlushLocked()
    {
        if (!_unflushed || _completed) return;
        _unflushed = false;
        _transport.SendLocked();
    }

    /// <summary>The committed output not yet sent (output lock held); false when there is none.
    /// A true answer must be followed by <see cref="OnSent"/>.</summary>
    internal bool TakeOutput(out ReadOnlySequence<byte> buffer)
    {
        buffer = default;
        if (_completed || _output.IsEmpty) return false;
        buffer = _output.Readable;
        return true;
    }

    /// <summary>The transport sent <paramref name="sent"/> bytes of what <see cref="TakeOutput"/>
    /// gave (output lock held).</summary>
    internal void OnSent(in ReadOnlySequence<byte> buffer, long sent)
    {
        if (sent > 0) _output.AdvanceTo(buffer.GetPosition(sent));
        if (sent > 0 && Interlocked.Add(ref _queuedBytes, -sent) < _limits.MaxQueuedReplyBytes) SignalCapacity();
    }

    /// <summary>The peer cannot take more: nothing queued can reach it (output lock held).</summary>
    internal void OnOutputFailed() => _outputDone = true;

    /// <summary>Releases the pipes and buffers once the transport is closed.</summary>
    internal void Complete()
    {
        lock (_outputLock)
        {
            if (_completed) return;
            _completed = true;
            _outputDone = true;
            _input.Clear();
            _output.Clear();
        }
        _closing = true;
        _readState = ReadState.Stopped;
        PacketFraming.ReleaseScratch(ref _scratch);
        if (_heldLargeInput) MemoryRelief.AfterLargePacket();
    }
}
