using System.Collections.Concurrent;
using VirtNetworkd.Errors;
using VirtNetworkd.Server.Host.Logging;

namespace VirtNetworkd.Server.Rpc;

/// <summary>What a server reports of its clients (virt-admin server-clients-info).</summary>
public readonly record struct ClientLimitStats(int MaxClients, int Clients, int MaxUnauthClients, int UnauthClients);

/// <summary>
/// One named server, as libvirt's virNetServer: its sockets' clients, their limits
/// (<c>max_clients</c>, <c>max_anonymous_clients</c>, changeable while running) and its own
/// worker pool. virtnetworkd has two: "virtnetworkd" (the rw and ro sockets) and "admin".
/// When a limit is reached it stops accepting: new clients wait in the listen backlog, as
/// libvirt's do; lowering a limit keeps the clients already in.
/// </summary>
public sealed class NetServer : IDisposable
{
    private readonly Lock _gate = new();
    private readonly ConcurrentDictionary<long, RpcSession> _clients = new();
    private TaskCompletionSource _room = NewRoom();
    private int _maxClients;
    private int _maxAnonymous;
    private int _count;
    private int _anonymous;

    public NetServer(string name, ServerLimits limits, Logger log)
    {
        Name = name;
        Limits = limits;
        Log = log;
        _maxClients = limits.MaxClients;
        _maxAnonymous = limits.MaxAnonymousClients;
        Workers = new WorkerPool(limits.MinWorkers, limits.MaxWorkers, limits.PrioWorkers, e => log.Error($"worker: {e}"), name == "admin" ? "admin-worker" : "worker");
    }

    public string Name { get; }

    /// <summary>The limits it started with (per-client ones: requests, queued bytes, keepalive).</summary>
    public ServerLimits Limits { get; }
    public Logger Log { get; }
    public WorkerPool Workers { get; }

    public IEnumerable<RpcSession> Clients => _clients.Values;

    public bool TryGetClient(long id, out RpcSession client) => _clients.TryGetValue(id, out client!);

    public ClientLimitStats ClientStats
    {
        get { lock (_gate) return new ClientLimitStats(_maxClients, _count, _maxAnonymous, _anonymous); }
    }

    /// <summary>virNetServerSetClientLimits: a negative value leaves that limit as it is.</summary>
    public void SetClientLimits(long maxClients, long maxAnonymous)
    {
        lock (_gate)
        {
            long max = maxClients >= 0 ? maxClients : _maxClients;
            long unauth = maxAnonymous >= 0 ? maxAnonymous : _maxAnonymous;
            if (unauth > max)
                throw new LibvirtError(VirErrorCode.InvalidArg, VirErrorDomain.None,
                    "The overall maximum number of clients must not be less than the number of clients waiting for authentication");
            _maxClients = (int)Math.Min(max, int.MaxValue);
            _maxAnonymous = (int)Math.Min(unauth, int.MaxValue);
        }
        SignalRoom();
    }

    private static TaskCompletionSource NewRoom() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private void SignalRoom()
    {
        TaskCompletionSource old;
        lock (_gate)
        {
            old = _room;
            _room = NewRoom();
        }
        old.TrySetResult();
    }

    /// <summary>Waits until one more client may come in (and, for a socket that needs
    /// authentication, one more unauthenticated one). Holds nothing: two sockets may both pass.</summary>
    internal async Task WaitForRoomAsync(bool needsAuth, CancellationToken token)
    {
        while (true)
        {
            Task wait;
            lock (_gate)
            {
                if (_count < _maxClients && (!needsAuth || _anonymous < _maxAnonymous)) return;
                wait = _room.Task;
            }
            await wait.WaitAsync(token).ConfigureAwait(false);
        }
    }

    /// <summary>Takes a client slot, waiting while the server is full (a client accepted by the
    /// other socket in the meantime took the last one: this one waits unserved, as in the backlog).</summary>
    internal async Task TakeSlotAsync(CancellationToken token)
    {
        while (true)
        {
            Task wait;
            lock (_gate)
            {
                if (_count < _maxClients)
                {
                    _count++;
                    return;
                }
                wait = _room.Task;
            }
            await wait.WaitAsync(token).ConfigureAwait(false);
        }
    }

    internal void Add(RpcSession client)
    {
        if (!client.IsAuthenticated)
            lock (_gate) _anonymous++;
        _clients[client.Id] = client;
    }

    internal void Remove(RpcSession client, bool wasAnonymous)
    {
        _clients.TryRemove(client.Id, out _);
        lock (_gate)
        {
            _count--;
            if (wasAnonymous) _anonymous--;
        }
        SignalRoom();
    }

    internal void OnAuthenticated()
    {
        lock (_gate) _anonymous--;
        SignalRoom();
    }

    /// <summary>Connected clients that have not authenticated yet.</summary>
    public int AnonymousCount { get { lock (_gate) return _anonymous; } }

    /// <summary>Connected clients.</summary>
    public int ClientCount { get { lock (_gate) return _count; } }

    public void Dispose() => Workers.Dispose();
}
