using VirtNetworkd.Protocol.Framing;

namespace VirtNetworkd.Server.Rpc;

/// <summary>One RPC program (remote, admin) as the server serves it.</summary>
public interface IProgramDispatcher
{
    uint Program { get; }
    uint Version { get; }

    /// <summary>Whether the program has this procedure at all (otherwise: "unknown procedure").</summary>
    bool IsKnownProcedure(int procedure);

    /// <summary>Whether an unauthenticated client is refused this procedure (all but the AUTH_* ones).</summary>
    bool NeedsAuth(int procedure);

    /// <summary>
    /// Handles one call. The header has been checked (program, version, type CALL, status OK,
    /// known procedure). The body span is only valid during this call: decode first. Replies go
    /// through <see cref="IRpcClient.Reply{T}"/> or <see cref="IRpcClient.ReplyError"/>;
    /// errors may also be thrown as <c>LibvirtError</c>.
    /// </summary>
    void Dispatch(IRpcClient client, in PacketHeader header, ReadOnlySpan<byte> body);

    /// <summary>Called once when the client goes away (release its callbacks, identity, …).</summary>
    void OnClientClosed(IRpcClient client);
}
