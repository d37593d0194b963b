namespace VirtNetworkd.Server.Rpc;

/// <summary>
/// Threads for calls that may block (libvirt's min_workers / max_workers / prio_workers):
/// <c>min</c> threads wait from the start, more are started up to <c>max</c> while work waits,
/// and <c>prio</c> further threads take only high-priority work, so a cheap high-priority call
/// is not stuck behind slow ones. Cheap calls never come here: they run on the client's loop.
/// </summary>
public sealed class WorkerPool : IDisposable
{
    private readonly Queue<Action> _normal = new();
    private readonly Queue<Action> _priority = new();
    private readonly object _gate = new();
    private readonly int _max;
    private readonly int _prio;
    private readonly Action<Exception> _onError;
    private int _threads;
    private int _prioThreads;
    private int _idle;
    private int _idlePrio;
    private int _running;
    private bool _stopping;

    public WorkerPool(int min, int max, int prio, Action<Exception> onError)
    {
        _max = Math.Max(1, max);
        _prio = Math.Max(0, prio);
        _onError = onError;
        lock (_gate)
        {
            for (int i = 0; i < Math.Clamp(min, 0, _max); i++) StartThread(priorityOnly: false);
            for (int i = 0; i < _prio; i++) StartThread(priorityOnly: true);
        }
    }

    public int Threads { get { lock (_gate) return _threads + _prioThreads; } }

    public void Queue(bool highPriority, Action work)
    {
        lock (_gate)
        {
            if (_stopping) throw new InvalidOperationException("worker pool is stopping");
            (highPriority ? _priority : _normal).Enqueue(work);
            int waiting = _normal.Count + _priority.Count;
            if (_idle + (highPriority ? _idlePrio : 0) < waiting && _threads < _max) StartThread(priorityOnly: false);
            Monitor.PulseAll(_gate);
        }
    }

    /// <summary>Waits until no work is queued or running (calls in progress finish first).</summary>
    public bool WaitIdle(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        lock (_gate)
        {
            while (_normal.Count + _priority.Count + _running > 0)
            {
                var left = deadline - DateTime.UtcNow;
                if (left <= TimeSpan.Zero) return false;
                Monitor.Wait(_gate, left);
            }
            return true;
        }
    }

    private void StartThread(bool priorityOnly)
    {
        if (priorityOnly) _prioThreads++;
        else _threads++;
        var t = new Thread(() => Run(priorityOnly)) { IsBackground = true, Name = priorityOnly ? "prio-worker" : "worker" };
        t.Start();
    }

    private void Run(bool priorityOnly)
    {
        while (true)
        {
            Action work;
            lock (_gate)
            {
                while (true)
                {
                    if (_priority.Count > 0) { work = _priority.Dequeue(); break; }
                    if (!priorityOnly && _normal.Count > 0) { work = _normal.Dequeue(); break; }
                    if (_stopping) return;
                    if (priorityOnly) _idlePrio++; else _idle++;
                    Monitor.Wait(_gate);
                    if (priorityOnly) _idlePrio--; else _idle--;
                }
                _running++;
            }
            try
            {
                work();
            }
            catch (Exception e)
            {
                _onError(e);
            }
            finally
            {
                lock (_gate)
                {
                    _running--;
                    Monitor.PulseAll(_gate);
                }
            }
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _stopping = true;
            Monitor.PulseAll(_gate);
        }
    }
}
