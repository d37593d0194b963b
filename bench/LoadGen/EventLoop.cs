using System.Diagnostics;

namespace VirtNetworkd.LoadGen;

/// <summary>
/// One thread with its own epoll set driving a share of the connections. Each connection keeps
/// <c>depth</c> calls in flight: all of them are written at the start, then every reply read is
/// answered with a new call; the calls due after one read go out in a single write.
/// Completions seen in [measureStart, measureEnd) are counted and their latencies recorded;
/// after measureEnd no call is sent any more and the loop waits (up to the drain time) for the
/// calls still out.
/// </summary>
internal sealed class EventLoop
{
    private readonly Connection[] _connections;   // indexed by Connection.Index (sparse: only ours set)
    private readonly List<Connection> _mine = new();
    private readonly int _depth;
    private readonly long _measureStart, _measureEnd, _drainEnd;
    private readonly Thread _thread;

    public LatencyHistogram Histogram { get; } = new();
    public long CallsTotal { get; private set; }
    public long AllocatedInWindow { get; private set; } = -1;
    public int Unanswered { get; private set; }
    public long Pings { get; private set; }
    public Exception? Failure { get; private set; }

    /// <summary>Set by any loop that fails, so that the others stop too.</summary>
    public static volatile bool Abort;

    public EventLoop(int id, int connectionCount, int depth, long measureStart, long measureEnd, long drainEnd)
    {
        _connections = new Connection[connectionCount];
        _depth = depth;
        _measureStart = measureStart;
        _measureEnd = measureEnd;
        _drainEnd = drainEnd;
        _thread = new Thread(Run) { Name = $"loadgen-{id}", IsBackground = true };
    }

    public void Add(Connection c)
    {
        _connections[c.Index] = c;
        _mine.Add(c);
    }

    public void Start() => _thread.Start();

    public bool Join(TimeSpan timeout) => _thread.Join(timeout);

    private void Run()
    {
        int epfd = -1;
        try
        {
            epfd = Native.EpollCreate();
            var events = new byte[Native.EpollEventSize * 256];
            foreach (var c in _mine) Native.EpollCtl(epfd, Native.EPOLL_CTL_ADD, c.Fd, Native.EPOLLIN, (ulong)c.Index);

            long now = Stopwatch.GetTimestamp();
            foreach (var c in _mine)
            {
                c.EnqueueCalls(_depth, now);
                c.Flush(epfd);
            }

            bool inWindow = false, stopped = false;
            long allocStart = 0;
            long freq = Stopwatch.Frequency;
            while (!Abort)
            {
                now = Stopwatch.GetTimestamp();
                if (!inWindow && now >= _measureStart)
                {
                    inWindow = true;
                    allocStart = GC.GetAllocatedBytesForCurrentThread();
                }
                if (!stopped && now >= _measureEnd)
                {
                    stopped = true;
                    inWindow = false;
                    AllocatedInWindow = GC.GetAllocatedBytesForCurrentThread() - allocStart;
                }
                if (stopped)
                {
                    int left = 0;
                    foreach (var c in _mine) left += c.Outstanding;
                    if (left == 0) break;
                    if (now >= _drainEnd) { Unanswered = left; break; }
                }

                long until = stopped ? _drainEnd : (inWindow ? _measureEnd : _measureStart);
                int timeoutMs = (int)Math.Clamp((until - now) * 1000 / freq + 1, 1, 100);
                int n = Native.EpollWait(epfd, events, timeoutMs);
                for (int i = 0; i < n; i++)
                {
                    var c = _connections[(int)Native.EventData(events, i)];
                    uint mask = Native.EventMask(events, i);
                    if ((mask & Native.EPOLLIN) != 0 || (mask & (Native.EPOLLERR | Native.EPOLLHUP)) != 0)
                    {
                        // on HUP/ERR the read returns 0 or fails: both are reported as such
                        int done = c.OnReadable(Histogram, _measureStart, _measureEnd);
                        CallsTotal += done;
                        if (done > 0 && !stopped)
                        {
                            long sendTime = Stopwatch.GetTimestamp();
                            if (sendTime < _measureEnd) c.EnqueueCalls(done, sendTime);
                        }
                    }
                    c.Flush(epfd);
                }
            }
            foreach (var c in _mine) Pings += c.Pings;
        }
        catch (Exception e)
        {
            Failure = e;
            Abort = true;
        }
        finally
        {
            if (epfd >= 0) Native.Close(epfd);
        }
    }
}
