using VirtNetworkd.Protocol.Remote;

namespace VirtNetworkd.Server.Remote;

/// <summary>What the remote program remembers about one client.</summary>
public sealed class RemoteSession
{
    /// <summary>CONNECT_OPEN succeeded: the client holds a network:/// connection.</summary>
    public bool Opened { get; set; }

    /// <summary>Read-only: it came in on the read-only socket or opened with VIR_CONNECT_RO.</summary>
    public bool ReadOnly { get; set; }

    /// <summary>The URI it opened, as virConnectGetURI gives it back.</summary>
    public string? Uri { get; set; }

    /// <summary>virConnectRegisterCloseCallback was called.</summary>
    public bool CloseCallbackRegistered { get; set; }

    /// <summary>An identity set by CONNECT_SET_IDENTITY (virtqemud forwarding its client's).</summary>
    public TypedParam[]? Identity { get; set; }
}
