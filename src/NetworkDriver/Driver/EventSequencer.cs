namespace VirtNetworkd.NetworkDriver.Driver;

/// <summary>
/// Keeps events in the order of the changes they report while raising them outside every driver
/// lock, on the thread that made the change: a ticket is taken while the change is made (under
/// the network's lock), and a thread raises its events only after all earlier tickets are done.
/// Handlers must not block; one that calls back into the driver raises its own events at once
/// (they follow from the event being handled, so they come after it anyway).
/// </summary>
internal sealed class EventSequencer
{
    private readonly object _lock = new();
    private readonly SortedSet<long> _doneEarly = [];
    private long _nextTicket, _nextToRaise;

    [ThreadStatic] private static int t_raising;

    /// <summary>Takes the next place in line; the caller must then call <see cref="Raise"/> with it, whatever happens.</summary>
    public long Take()
    {
        lock (_lock) return _nextTicket++;
    }

    public void Raise(long ticket, Action raise)
    {
        if (t_raising == 0)
        {
            lock (_lock)
                while (_nextToRaise != ticket) Monitor.Wait(_lock);
        }
        t_raising++;
        try
        {
            raise();
        }
        finally
        {
            t_raising--;
            lock (_lock)
            {
                _doneEarly.Add(ticket);
                while (_doneEarly.Remove(_nextToRaise)) _nextToRaise++;
                Monitor.PulseAll(_lock);
            }
        }
    }
}
