using VirtNetworkd.NetworkDriver.Driver;
using VirtNetworkd.Protocol.Remote;
using VirtNetworkd.Server.Rpc;

namespace VirtNetworkd.Server.Remote;

/// <summary>
/// Network event callbacks registered by clients (connect_network_event_register_any): the
/// driver's lifecycle and metadata-change events go, as MESSAGE packets with each callback's id,
/// to the clients that asked for that event id and, when they named one, that network only.
/// </summary>
public sealed class NetworkEventHub
{
    public const int LifecycleEventId = 0, MetadataChangeEventId = 1, EventIdLast = 2;

    private readonly Lock _lock = new();
    private readonly List<Registration> _registrations = new();
    private int _nextId = 1;

    private sealed record Registration(int CallbackId, ClientConnection Client, int EventId, Guid? Network);

    public NetworkEventHub(NetworkDriver.Driver.NetworkDriver driver)
    {
        driver.Lifecycle += (_, e) => Deliver(LifecycleEventId, e.Network, id => new NetworkEventLifecycleMsg
        {
            CallbackID = id,
            Net = RemoteDispatcher.Wire(e.Network),
            Event = (int)e.Event,
            Detail = e.Detail,
        }, (int)Procedure.NetworkEventLifecycle);
        driver.MetadataChange += (_, e) => Deliver(MetadataChangeEventId, e.Network, id => new NetworkEventCallbackMetadataChangeMsg
        {
            CallbackID = id,
            Net = RemoteDispatcher.Wire(e.Network),
            Type = e.Type,
            Nsuri = e.NsUri,
        }, (int)Procedure.NetworkEventCallbackMetadataChange);
    }

    public int Register(ClientConnection client, int eventId, Guid? network)
    {
        lock (_lock)
        {
            int id = _nextId++;
            _registrations.Add(new Registration(id, client, eventId, network));
            return id;
        }
    }

    public bool Deregister(ClientConnection client, int callbackId)
    {
        lock (_lock) return _registrations.RemoveAll(r => r.CallbackId == callbackId && r.Client == client) > 0;
    }

    public void RemoveClient(ClientConnection client)
    {
        lock (_lock) _registrations.RemoveAll(r => r.Client == client);
    }

    private void Deliver<T>(int eventId, NetworkRef network, Func<int, T> message, int procedure)
        where T : VirtNetworkd.Protocol.Xdr.IXdrType<T>
    {
        Registration[] targets;
        lock (_lock) targets = _registrations.Where(r => r.EventId == eventId && (r.Network is null || r.Network == network.Uuid)).ToArray();
        foreach (var r in targets) r.Client.SendMessage(RemoteProgram.Number, RemoteProgram.Version, procedure, message(r.CallbackId));
    }
}
