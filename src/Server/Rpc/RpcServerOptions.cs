namespace VirtNetworkd.Server.Rpc;

/// <summary>Which socket a client came in on: decides its programs and its rights.</summary>
public enum ListenerRole
{
    ReadWrite,
    ReadOnly,
    Admin,
}

/// <summary>How clients of a socket authenticate.</summary>
public enum ListenerAuth
{
    /// <summary>Every client is authenticated on connect.</summary>
    None,
    /// <summary>
    /// polkit: root is let in (as libvirt bypasses polkit for uid 0); others must pass
    /// AUTH_POLKIT. Until we speak to polkit over D-Bus, that succeeds only where libvirt's default
    /// policy allows anyone (org.libvirt.unix.monitor, the read-only socket).
    /// </summary>
    Polkit,
}

/// <summary>The limits and timings of one server (libvirt's daemon config keys in brackets).</summary>
public sealed record ServerLimits
{
    /// <summary>[max_clients] connected clients at most; beyond it, new ones wait in the backlog.</summary>
    public int MaxClients { get; init; } = 5000;
    /// <summary>[max_queued_clients] the listen backlog.</summary>
    public int MaxQueuedClients { get; init; } = 1000;
    /// <summary>[max_anonymous_clients] clients not yet authenticated.</summary>
    public int MaxAnonymousClients { get; init; } = 20;
    /// <summary>[max_client_requests] calls of one client in progress before we stop reading from it.</summary>
    public int MaxClientRequests { get; init; } = 5;
    /// <summary>[min_workers] workers kept for calls that may block.</summary>
    public int MinWorkers { get; init; } = 5;
    /// <summary>[max_workers] workers at most for calls that may block.</summary>
    public int MaxWorkers { get; init; } = 20;
    /// <summary>[prio_workers] extra workers only high-priority calls may use.</summary>
    public int PrioWorkers { get; init; } = 5;
    /// <summary>[keepalive_interval] seconds of silence before a ping; -1 disables.</summary>
    public int KeepaliveInterval { get; init; } = 5;
    /// <summary>[keepalive_count] unanswered pings before the client is dropped.</summary>
    public int KeepaliveCount { get; init; } = 5;
    /// <summary>Bytes of replies queued for a client before we stop reading its calls.</summary>
    public int MaxQueuedReplyBytes { get; init; } = 1 << 20;
    /// <summary>Bytes waiting unsent for a client beyond which an event drops that client (it
    /// does not read its events).</summary>
    public long MaxQueuedEventBytes { get; init; } = 8 << 20;
}
