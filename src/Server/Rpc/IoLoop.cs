using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using static VirtNetworkd.Server.Rpc.SocketCalls;

namespace VirtNetworkd.Server.Rpc;

/// <summary>What a client registered with an <see cref="IoLoop"/> is told, always on the loop thread.</summary>
internal interface IIoLoopClient
{
    /// <summary>epoll reported these events for its descriptor.</summary>
    void OnEvents(uint events);

    /// <summary>Work another thread asked for with <see cref="IoLoop.Post"/>.</summary>
    void OnPosted();
}

/// <summary>
/// One thread running a level-triggered epoll over every client socket. A readable socket gets one
/// recv per wake-up (level-triggered, so what is left is reported again): .NET's socket engine
/// instead tries a receive as soon as a read is started, which after each batch of calls finds the
/// socket empty and costs a third of our receive time. Other threads reach the loop with
/// <see cref="Post"/> (an eventfd wakes it).
/// </summary>
internal sealed unsafe class IoLoop : IDisposable
{
    private const int MaxEvents = 64;
    private const ulong WakeToken = ulong.MaxValue;

    private readonly int _epoll;
    private readonly int _wake;
    private readonly Thread _thread;
    private readonly Action<Exception> _onError;
    private readonly Lock _slotLock = new();
    private readonly ConcurrentQueue<IIoLoopClient> _posted = new();
    private IIoLoopClient?[] _slots = new IIoLoopClient?[64];
    private uint[] _generations = new uint[64];
    private readonly Stack<int> _freeSlots = new();
    private int _nextSlot;
    private int _wakePending;
    private volatile bool _stopping;

    public IoLoop(Action<Exception> onError)
    {
        _onError = onError;
        _epoll = EpollCreate1(EPOLL_CLOEXEC);
        if (_epoll < 0) throw new IOException($"epoll_create1 failed: {Marshal.GetLastPInvokeErrorMessage()}");
        _wake = EventFd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (_wake < 0 || EpollControl(_epoll, EPOLL_CTL_ADD, _wake, EPOLLIN, WakeToken) != 0)
            throw new IOException($"cannot set up the I/O loop's wake-up: {Marshal.GetLastPInvokeErrorMessage()}");
        _thread = new Thread(Run) { IsBackground = true, Name = "rpc-io" };
        _thread.Start();
    }

    public bool IsLoopThread => Thread.CurrentThread == _thread;

    /// <summary>Watches <paramref name="fd"/> for <paramref name="events"/>; the token goes to <see cref="Modify"/> and <see cref="Remove"/>.</summary>
    public ulong Add(int fd, uint events, IIoLoopClient client)
    {
        ulong token;
        lock (_slotLock)
        {
            if (!_freeSlots.TryPop(out int slot))
            {
                slot = _nextSlot++;
                if (slot == _slots.Length)
                {
                    Array.Resize(ref _generations, slot * 2);
                    var grown = new IIoLoopClient?[slot * 2];
                    Array.Copy(_slots, grown, slot);
                    _slots = grown;
                }
            }
            token = (ulong)_generations[slot] << 32 | (uint)slot;
            _slots[slot] = client;
        }
        if (EpollControl(_epoll, EPOLL_CTL_ADD, fd, events, token) != 0)
        {
            string error = Marshal.GetLastPInvokeErrorMessage();
            FreeSlot(token);
            throw new IOException($"epoll_ctl(ADD) failed: {error}");
        }
        return token;
    }

    /// <summary>Changes the events watched; false when the descriptor is no longer valid.</summary>
    public bool Modify(int fd, uint events, ulong token) => EpollControl(_epoll, EPOLL_CTL_MOD, fd, events, token) == 0;

    /// <summary>Stops watching <paramref name="fd"/> (before it is closed); its slot is reused.</summary>
    public void Remove(int fd, ulong token)
    {
        EpollControl(_epoll, EPOLL_CTL_DEL, fd, 0, 0);
        FreeSlot(token);
    }

    private void FreeSlot(ulong token)
    {
        int slot = (int)(uint)token;
        lock (_slotLock)
        {
            if (_generations[slot] != (uint)(token >> 32)) return;
            // a new generation, so an event already fetched for the old client is not delivered to the next one
            _generations[slot]++;
            _slots[slot] = null;
            _freeSlots.Push(slot);
        }
    }

    /// <summary>Runs <see cref="IIoLoopClient.OnPosted"/> on the loop thread soon.</summary>
    public void Post(IIoLoopClient client)
    {
        _posted.Enqueue(client);
        if (IsLoopThread) return; // drained before the loop waits again
        if (Interlocked.Exchange(ref _wakePending, 1) == 0)
        {
            ulong one = 1;
            Host.LibC.Write(_wake, (byte*)&one, 8);
        }
    }

    private void Run()
    {
        byte* events = (byte*)NativeMemory.Alloc((nuint)(MaxEvents * EpollEventSize));
        try
        {
            while (!_stopping)
            {
                int n = EpollWait(_epoll, events, MaxEvents, _posted.IsEmpty ? -1 : 0);
                if (n < 0)
                {
                    if (Marshal.GetLastPInvokeError() == EINTR) continue;
                    _onError(new IOException($"epoll_wait failed: {Marshal.GetLastPInvokeErrorMessage()}"));
                    return;
                }
                for (int i = 0; i < n; i++)
                {
                    byte* ev = events + i * EpollEventSize;
                    uint mask = *(uint*)ev;
                    ulong token = *(ulong*)(ev + EpollDataOffset);
                    if (token == WakeToken)
                    {
                        ulong count;
                        Read(_wake, (byte*)&count, 8);
                        Volatile.Write(ref _wakePending, 0);
                        continue;
                    }
                    var client = Lookup(token);
                    if (client is null) continue;
                    try
                    {
                        client.OnEvents(mask);
                    }
                    catch (Exception e)
                    {
                        _onError(e);
                    }
                }
                while (_posted.TryDequeue(out var client))
                {
                    try
                    {
                        client.OnPosted();
                    }
                    catch (Exception e)
                    {
                        _onError(e);
                    }
                }
            }
        }
        finally
        {
            NativeMemory.Free(events);
        }
    }

    private IIoLoopClient? Lookup(ulong token)
    {
        int slot = (int)(uint)token;
        // a slot freed (and maybe taken again) since epoll_wait returned: the event was for the old client
        lock (_slotLock) return slot < _slots.Length && _generations[slot] == (uint)(token >> 32) ? _slots[slot] : null;
    }

    public void Dispose()
    {
        if (_stopping) return;
        _stopping = true;
        ulong one = 1;
        Host.LibC.Write(_wake, (byte*)&one, 8);
        if (!IsLoopThread) _thread.Join();
        Host.LibC.Close(_wake);
        Host.LibC.Close(_epoll);
    }
}
