using VirtNetworkd.Errors;

namespace VirtNetworkd.Server.Rpc;

/// <summary>What a worker pool reports (virt-admin server-threadpool-info).</summary>
public readonly record struct WorkerPoolStats(int MinWorkers, int MaxWorkers, int Workers, int FreeWorkers, int PrioWorkers, int JobQueueDepth);

/// <summary>
/// Threads for calls that may block (libvirt's min_workers / max_workers / prio_workers):
/// <c>min</c> threads wait from the start, more are started up to <c>max</c> while work waits,
/// and <c>prio</c> further threads take only high-priority work, so a cheap high-priority call
/// is not stuck behind slow ones. Cheap calls never come here: they run on the client's loop.
/// The limits can be changed while it runs (<see cref="SetParameters"/>): threads above a
/// lowered limit finish their call and exit, as libvirt's do.
/// </summary>
public sealed class WorkerPool : IWorkQueue, IDisposable
{
    private readonly Queue<Action> _normal = new();
    private readonly Queue<Action> _priority = new();
    private readonly object _gate = new();
    private readonly Action<Exception> _onError;
    private readonly string _name;
    private int _min;
    private int _max;
    private int _maxPrio;
    private int _threads;
    private int _prioThreads;
    private int _idle;
    private int _idlePrio;
    private int _running;
    private bool _stopping;

    public WorkerPool(int min, int max, int prio, Action<Exception> onError, string name = "worker")
    {
        _max = Math.Max(1, max);
        _min = Math.Clamp(min, 0, _max);
        _maxPrio = Math.Max(0, prio);
        _onError = onError;
        _name = name;
        lock (_gate)
        {
            for (int i = 0; i < _min; i++) StartThread(priorityOnly: false);
            for (int i = 0; i < _maxPrio; i++) StartThread(priorityOnly: true);
        }
    }

    /// <summary>Threads alive, both kinds.</summary>
    public int Threads { get { lock (_gate) return _threads + _prioThreads; } }

    public WorkerPoolStats Stats
    {
        get
        {
            lock (_gate) return new WorkerPoolStats(_min, _max, _threads, _idle, _prioThreads, _normal.Count + _priority.Count);
        }
    }

    /// <summary>virThreadPoolSetParameters: a negative value leaves that limit as it is.</summary>
    public void SetParameters(long minWorkers, long maxWorkers, long prioWorkers)
    {
        lock (_gate)
        {
            long max = maxWorkers >= 0 ? maxWorkers : _max;
            long min = minWorkers >= 0 ? minWorkers : _min;
            if (min > max)
                throw new LibvirtError(VirErrorCode.InvalidArg, VirErrorDomain.None, "minWorkers cannot be larger than maxWorkers");
            if ((maxWorkers == 0 && _max > 0) || (maxWorkers > 0 && _max == 0))
                throw new LibvirtError(VirErrorCode.InvalidArg, VirErrorDomain.None, "maxWorkers must not be switched from zero to non-zero and vice versa");
            if (minWorkers >= 0)
            {
                while (_threads < minWorkers) StartThread(priorityOnly: false);
                _min = (int)Math.Min(minWorkers, int.MaxValue);
            }
            if (maxWorkers >= 0) _max = (int)Math.Min(maxWorkers, int.MaxValue);
            if (prioWorkers >= 0)
            {
                while (_prioThreads < prioWorkers) StartThread(priorityOnly: true);
                _maxPrio = (int)Math.Min(prioWorkers, int.MaxValue);
            }
            Monitor.PulseAll(_gate);
        }
    }

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
        var t = new Thread(() => Run(priorityOnly)) { IsBackground = true, Name = priorityOnly ? "prio-" + _name : _name };
        t.Start();
    }

    /// <summary>A thread above its kind's limit leaves (under the gate).</summary>
    private bool ShouldQuit(bool priorityOnly)
    {
        if (priorityOnly ? _prioThreads <= _maxPrio : _threads <= _max) return false;
        if (priorityOnly) _prioThreads--;
        else _threads--;
        Monitor.PulseAll(_gate);
        return true;
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
                    if (ShouldQuit(priorityOnly)) return;
                    if (_priority.Count > 0) { work = _priority.Dequeue(); break; }
                    if (!priorityOnly && _normal.Count > 0) { work = _normal.Dequeue(); break; }
                    if (_stopping)
                    {
                        if (priorityOnly) _prioThreads--; else _threads--;
                        return;
                    }
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
