namespace VirtNetworkd.NetworkDriver.Driver;

/// <summary>virNetworkEventLifecycleType.</summary>
public enum NetworkLifecycleEvent
{
    Defined = 0,
    Undefined = 1,
    Started = 2,
    Stopped = 3,
}

/// <summary>Identifies a network the way a virNetworkPtr does: name and UUID.</summary>
public readonly record struct NetworkRef(string Name, Guid Uuid);

/// <summary>VIR_NETWORK_EVENT_ID_LIFECYCLE (0): the event and its detail (always 0).</summary>
public sealed record NetworkLifecycleEventArgs(NetworkRef Network, NetworkLifecycleEvent Event, int Detail);

/// <summary>VIR_NETWORK_EVENT_ID_METADATA_CHANGE (1): metadata type and namespace URI (null unless type is element).</summary>
public sealed record NetworkMetadataChangeEventArgs(NetworkRef Network, int Type, string? NsUri);

/// <summary>Identifies a network port the way a virNetworkPortPtr does: its network and its UUID.</summary>
public readonly record struct NetworkPortRef(NetworkRef Network, Guid Uuid);

/// <summary>One typed parameter of virNetworkPortGetParameters / SetParameters (all are unsigned ints).</summary>
public readonly record struct PortParameter(string Field, uint Value);
