namespace VirtNetworkd.Server.Rpc;

/// <summary>What carries a <see cref="RpcSession"/>'s bytes: the epoll socket adapter
/// (<see cref="ClientConnection"/>) in the daemon, memory in tests and the fuzzing harness.</summary>
internal interface ISessionTransport
{
    /// <summary>Replies were committed to the output (the session's output lock is held): send
    /// what can be sent now.</summary>
    void SendLocked();

    /// <summary>Whether the session wants input changed (output lock held).</summary>
    void InterestChangedLocked();

    /// <summary>From any thread: calls finished while reading was paused; the transport calls
    /// <see cref="RpcSession.Resume"/> on its own thread.</summary>
    void PostResume();

    /// <summary>From any thread: close; with <paramref name="drain"/>, the transport first calls
    /// <see cref="RpcSession.BeginClose"/> on its thread, so what is queued is sent.</summary>
    void PostClose(bool drain);

    /// <summary>On the transport's thread, from <see cref="RpcSession.BeginClose"/>: close once
    /// the output is sent (at once when it is).</summary>
    void CloseWhenSent();
}

/// <summary>Where a session's calls that may block run (the server's <see cref="WorkerPool"/>;
/// inline in the fuzzing harness).</summary>
public interface IWorkQueue
{
    void Queue(bool highPriority, Action work);
}
