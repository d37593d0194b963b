using VirtNetworkd.NetworkDriver.Driver;
using VirtNetworkd.Errors;
using VirtNetworkd.Protocol.Remote;
using VirtNetworkd.Server.Rpc;

namespace VirtNetworkd.Server.Remote;

/// <summary>
/// Network event callbacks registered by clients (connect_network_event_register_any): the
/// driver's lifecycle and metadata-change events go, as MESSAGE packets with each callback's id,
/// to the clients that asked for that event id and, when they named one, that network only.
/// As libvirt, a client may hold one callback per (event id, network filter): a second identical
/// registration is refused. Unlike libvirt, a client holds at most
/// <see cref="MaxCallbacksPerClient"/> callbacks (filters may name networks that do not exist,
/// so without a bound one connection could register without end).
/// </summary>
public sealed class NetworkEventHub
{
    public const int LifecycleEventId = 0, MetadataChangeEventId = 1, EventIdLast = 2;
    public const int MaxCallbacksPerClient = 1024;

    private readonly Lock _lock = new();
    private readonly Dictionary<IRpcClient, List<Registration>> _byClient = new(ReferenceEqualityComparer.Instance);
    private int _nextId = 1;

    private readonly record struct Registration(int CallbackId, int EventId, Guid? Network);

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

    /// <summary>Adds a callback and returns its id; throws libvirt's error for a duplicate.</summary>
    public int Register(IRpcClient client, int eventId, Guid? network)
    {
        lock (_lock)
        {
            if (!_byClient.TryGetValue(client, out var list)) _byClient[client] = list = new List<Registration>(2);
            foreach (var r in list)
            {
                // virObjectEventCallbackLookup: same connection, event id and key filter
                if (r.EventId == eventId && r.Network == network)
                    throw new LibvirtError(VirErrorCode.InvalidArg, VirErrorDomain.None, "event callback already tracked");
            }
            if (list.Count >= MaxCallbacksPerClient)
                throw new LibvirtError(VirErrorCode.InternalError, VirErrorDomain.Rpc,
                    $"too many network event callbacks on this connection (at most {MaxCallbacksPerClient})");
            int id = _nextId++;
            list.Add(new Registration(id, eventId, network));
            return id;
        }
    }

    public bool Deregister(IRpcClient client, int callbackId)
    {
        lock (_lock)
        {
            if (!_byClient.TryGetValue(client, out var list)) return false;
            int removed = list.RemoveAll(r => r.CallbackId == callbackId);
            if (list.Count == 0) _byClient.Remove(client);
            return removed > 0;
        }
    }

    public void RemoveClient(IRpcClient client)
    {
        lock (_lock) _byClient.Remove(client);
    }

    /// <summary>Callbacks a client holds (tests, admin).</summary>
    public int CountFor(IRpcClient client)
    {
        lock (_lock) return _byClient.TryGetValue(client, out var list) ? list.Count : 0;
    }

    /// <summary>Sends the event to its subscribers; during a call, after that call's reply.</summary>
    private void Deliver<T>(int eventId, NetworkRef network, Func<int, T> message, int procedure)
        where T : VirtNetworkd.Protocol.Xdr.IXdrType<T>
    {
        if (!AfterReply.TryDefer(() => DeliverNow(eventId, network, message, procedure)))
            DeliverNow(eventId, network, message, procedure);
    }

    private void DeliverNow<T>(int eventId, NetworkRef network, Func<int, T> message, int procedure)
        where T : VirtNetworkd.Protocol.Xdr.IXdrType<T>
    {
        List<(IRpcClient Client, int CallbackId)>? targets = null;
        lock (_lock)
        {
            foreach (var (client, list) in _byClient)
                foreach (var r in list)
                    if (r.EventId == eventId && (r.Network is null || r.Network == network.Uuid))
                        (targets ??= new()).Add((client, r.CallbackId));
        }
        if (targets is null) return;
        foreach (var (client, id) in targets) client.SendMessage(RemoteProgram.Number, RemoteProgram.Version, procedure, message(id));
    }
}
