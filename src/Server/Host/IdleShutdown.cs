using VirtNetworkd.Server.Host.Logging;

namespace VirtNetworkd.Server.Host;

/// <summary>
/// Exits the daemon after a number of seconds with no client connected and no call in progress
/// (libvirt's virNetDaemonAutoShutdown): set by <c>-t N</c> at start-up and replaced while running
/// by virt-admin daemon-timeout. 0 turns it off. The countdown starts whenever the last client (on
/// any socket, the admin one included) leaves, and stops when one connects.
/// </summary>
public sealed class IdleShutdown : IDisposable
{
    private readonly Lock _gate = new();
    private readonly Func<int> _clients;
    private readonly Func<bool> _idle;
    private readonly Action _shutdown;
    private readonly Logger _log;
    private readonly Timer _timer;
    private uint _seconds;
    private bool _disposed;

    /// <param name="clients">Connected clients now.</param>
    /// <param name="idle">Whether no call is in progress.</param>
    /// <param name="shutdown">Asks the daemon to stop.</param>
    public IdleShutdown(Func<int> clients, Func<bool> idle, Action shutdown, Logger log)
    {
        _clients = clients;
        _idle = idle;
        _shutdown = shutdown;
        _log = log;
        _timer = new Timer(_ => Fire());
    }

    /// <summary>The timeout in seconds, 0 when off.</summary>
    public uint Seconds { get { lock (_gate) return _seconds; } }

    /// <summary>Sets (or, with 0, turns off) the timeout; the countdown restarts if no client is connected.</summary>
    public void SetTimeout(uint seconds)
    {
        lock (_gate)
        {
            _seconds = seconds;
            _log.Debug($"shutdown timeout set to {seconds} seconds");
            Arm(_clients() == 0);
        }
    }

    /// <summary>To be called whenever a client connects or leaves.</summary>
    public void OnClientCountChanged(int count)
    {
        lock (_gate) Arm(count == 0);
    }

    private void Arm(bool start)
    {
        if (_disposed) return;
        if (start && _seconds > 0) _timer.Change(TimeSpan.FromSeconds(_seconds), Timeout.InfiniteTimeSpan);
        else _timer.Change(Timeout.Infinite, Timeout.Infinite);
    }

    private void Fire()
    {
        lock (_gate)
        {
            if (_disposed || _seconds == 0 || _clients() != 0) return;
            if (!_idle())
            {
                // work still in progress finishes first
                _timer.Change(TimeSpan.FromSeconds(1), Timeout.InfiniteTimeSpan);
                return;
            }
            _log.Info($"no clients for {_seconds} seconds: exiting");
        }
        _shutdown();
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _disposed = true;
            _timer.Dispose();
        }
    }
}
