using VirtNetworkd.Errors;
using VirtNetworkd.Protocol.Framing;
using VirtNetworkd.Protocol.Xdr;
using VirtNetworkd.Server.Host.Logging;

namespace VirtNetworkd.Server.Rpc;

/// <summary>One client as a program's handlers see it: who it is, and how to answer it. The
/// socket (or, in tests and the fuzzing harness, memory) behind it is not their business.</summary>
public interface IRpcClient
{
    long Id { get; }
    ListenerRole Role { get; }
    ListenerAuth Auth { get; }
    PeerCredentials Peer { get; }
    bool IsReadOnlySocket { get; }

    /// <summary>When it connected (Unix seconds).</summary>
    long ConnectedAt { get; }

    /// <summary>Passed authentication: only AUTH_* procedures are allowed before.</summary>
    bool IsAuthenticated { get; }
    void MarkAuthenticated();

    /// <summary>Per-client state of the program (the remote program's session).</summary>
    object? ProgramState { get; set; }

    Logger Log { get; }

    /// <summary>Queues the successful reply to a call; a call answered on a worker passes flush.</summary>
    void Reply<T>(in PacketHeader call, in T body, bool flush = false) where T : IXdrType<T>;

    void ReplyError(in PacketHeader call, LibvirtError error, bool flush = false);

    /// <summary>Sends an unsolicited MESSAGE packet (an event).</summary>
    void SendMessage<T>(uint program, uint version, int procedure, in T body) where T : IXdrType<T>;

    /// <summary>Runs a call that may block on the server's worker pool and replies when done.</summary>
    void RunOnWorker(in PacketHeader header, bool highPriority, Action<IRpcClient, PacketHeader> work);

    /// <summary>Pings the client after that many seconds of silence (keepalive negotiated).</summary>
    void StartKeepalive(int intervalSeconds, int count);

    /// <summary>Answers what is queued, then closes (CONNECT_CLOSE).</summary>
    void CloseAfterReplies();

    /// <summary>Drops the client now.</summary>
    void Abort();
}
