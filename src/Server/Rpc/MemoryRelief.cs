namespace VirtNetworkd.Server.Rpc;

/// <summary>
/// Hands memory back to the OS after large packets. Their buffers (input pipe segments, the
/// packet copy) are garbage once the call is answered, but the GC keeps the memory committed
/// long after a burst. One aggressive, compacting collection a little after the last large
/// packet returns it; it runs at most once per <see cref="Delay"/>, on a timer thread, never on
/// the event loop.
/// </summary>
internal static class MemoryRelief
{
    public static readonly TimeSpan Delay = TimeSpan.FromSeconds(2);

    private static readonly Timer s_timer = new(_ => Collect(), null, Timeout.Infinite, Timeout.Infinite);
    private static int s_scheduled;

    /// <summary>Called for each packet above the pooled size; schedules one collection.</summary>
    public static void AfterLargePacket()
    {
        if (Interlocked.Exchange(ref s_scheduled, 1) == 0) s_timer.Change(Delay, Timeout.InfiniteTimeSpan);
    }

    private static void Collect()
    {
        Volatile.Write(ref s_scheduled, 0);
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
    }
}
