namespace VirtNetworkd.Server.Rpc;

/// <summary>
/// Work held back until the reply of the call running on this thread is queued: events that a
/// call causes reach its client after that call's reply, as libvirt queues events and dispatches
/// them once the API has returned (a client waiting for NETWORK_CREATE's reply must not see the
/// "started" event first). Outside a call (autostart, a backend fault) work runs at once.
/// </summary>
public static class AfterReply
{
    [ThreadStatic] private static List<Action>? t_pending;
    [ThreadStatic] private static int t_depth;

    /// <summary>Holds <paramref name="work"/> until the current call's reply is queued; false
    /// when no call runs on this thread (the caller runs it now).</summary>
    public static bool TryDefer(Action work)
    {
        if (t_depth == 0) return false;
        (t_pending ??= new List<Action>()).Add(work);
        return true;
    }

    internal static void Enter() => t_depth++;

    /// <summary>The call's reply is queued: runs what it held back.</summary>
    internal static void Exit(Action<Exception> onError)
    {
        if (--t_depth > 0 || t_pending is not { Count: > 0 } pending) return;
        var work = pending.ToArray();
        pending.Clear();
        foreach (var w in work)
        {
            try
            {
                w();
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                onError(e);
            }
        }
    }
}
