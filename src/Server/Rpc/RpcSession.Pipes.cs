using System.Buffers;
using System.IO.Pipelines;
using VirtNetworkd.Protocol.Framing;

namespace VirtNetworkd.Server.Rpc;

/// <summary>
/// The session's two pipes: the transport writes received bytes into the input and calls
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

    private readonly Pipe _input;
    private readonly Pipe _output;
    private readonly Lock _outputLock = new();
    private byte[]? _scratch;
    private volatile ReadState _readState;
    private bool _heldLargeInput;

    // under _outputLock
    private bool _unflushed;
    private bool _outputDone;
    private bool _completed;

    private static PipeOptions PipeOptionsFor(int segmentSize) => new(
        readerScheduler: PipeScheduler.Inline,
        writerScheduler: PipeScheduler.Inline,
        pauseWriterThreshold: 0,
        resumeWriterThreshold: 0,
        minimumSegmentSize: segmentSize,
        useSynchronizationContext: false);

    /// <summary>The lock that guards the output; the transport holds it while it sends.</summary>
    internal Lock OutputLock => _outputLock;

    /// <summary>Whether the session reads more input now (not paused, not stopped).</summary>
    internal bool WantsInput => _readState == ReadState.Reading;

    /// <summary>Bytes of replies and events waiting to be sent.</summary>
    public long QueuedBytes => Interlocked.Read(ref _queuedBytes);

    /// <summary>Where the transport puts received bytes (then <see cref="OnReceived"/>).</summary>
    internal Memory<byte> InputBuffer() => _input.Writer.GetMemory(ReceiveSegmentSize / 4);

    /// <summary><paramref name="count"/> bytes were written into <see cref="InputBuffer"/>: dispatch the whole calls.</summary>
    internal void OnReceived(int count)
    {
        var writer = _input.Writer;
        writer.Advance(count);
        var flushed = writer.FlushAsync(); // no reader waits and no threshold: completes at once
        if (flushed.IsCompleted) flushed.GetAwaiter().GetResult();
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
                Log.Warn($"client {Id}: {e.Message}; closing the connection");
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
        // commits the written bytes to the reader; never pauses (no writer threshold)
        var pending = _output.Writer.FlushAsync();
        if (pending.IsCompleted) pending.GetAwaiter().GetResult();
        _transport.SendLocked();
    }

    /// <summary>The committed output not yet sent (output lock held); false when there is none.
    /// A true answer must be followed by <see cref="OnSent"/>.</summary>
    internal bool TakeOutput(out ReadOnlySequence<byte> buffer)
    {
        buffer = default;
        if (_completed || !_output.Reader.TryRead(out var result)) return false;
        buffer = result.Buffer;
        if (!buffer.IsEmpty) return true;
        _output.Reader.AdvanceTo(buffer.End);
        return false;
    }

    /// <summary>The transport sent <paramref name="sent"/> bytes of what <see cref="TakeOutput"/>
    /// gave (output lock held).</summary>
    internal void OnSent(in ReadOnlySequence<byte> buffer, long sent)
    {
        _output.Reader.AdvanceTo(buffer.GetPosition(sent));
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
            _input.Writer.Complete();
            _input.Reader.Complete();
            _output.Writer.Complete();
            _output.Reader.Complete();
        }
        _closing = true;
        _readState = ReadState.Stopped;
        PacketFraming.ReleaseScratch(ref _scratch);
        if (_heldLargeInput) MemoryRelief.AfterLargePacket();
    }
}
