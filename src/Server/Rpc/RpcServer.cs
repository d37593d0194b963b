using System.Collections.Concurrent;
using System.Net.Sockets;
using VirtNetworkd.Server.Host.Logging;

namespace VirtNetworkd.Server.Rpc;

/// <summary>
/// Accepts clients on the listeners and hands their sockets to one epoll loop (<see cref="IoLoop"/>),
/// <c>max_clients</c> enforced by not accepting while full (new clients wait in the backlog),
/// keepalive ticks once a second, a shared worker pool for calls that may block.
/// </summary>
public sealed class RpcServer : IAsyncDisposable
{
    private readonly ServerLimits _limits;
    private readonly ServerLimits _adminLimits;
    private readonly Func<ListenerRole, IProgramDispatcher?> _programs;
    private readonly List<UnixListener> _listeners = new();
    private readonly List<Task> _acceptLoops = new();
    private readonly ConcurrentDictionary<long, (ClientConnection Client, Task Run)> _clients = new();
    private readonly SemaphoreSlim _clientSlots;
    private readonly SemaphoreSlim _adminSlots;
    private readonly CancellationTokenSource _stop = new();
    private Task? _ticker;
    private ClientConnection[] _tickClients = [];
    private int _clientsChanged;
    private int _clientCount;
    private int _anonymous;

    /// <summary>Connected clients that have not authenticated yet (max_anonymous_clients).</summary>
    public int AnonymousCount => Volatile.Read(ref _anonymous);

    internal void OnClientAuthenticated() => Interlocked.Decrement(ref _anonymous);

    public RpcServer(ServerLimits limits, ServerLimits adminLimits, Func<ListenerRole, IProgramDispatcher?> programs, Logger log)
    {
        _limits = limits;
        _adminLimits = adminLimits;
        _programs = programs;
        Log = log;
        _clientSlots = new SemaphoreSlim(Math.Max(1, limits.MaxClients));
        _adminSlots = new SemaphoreSlim(Math.Max(1, adminLimits.MaxClients));
        Loop = new IoLoop(e => Log.Error($"I/O loop: {e}"));
        Workers = new WorkerPool(limits.MinWorkers, limits.MaxWorkers, limits.PrioWorkers, e => Log.Error($"worker: {e}"));
    }

    public Logger Log { get; }
    public WorkerPool Workers { get; }
    internal IoLoop Loop { get; }
    public ServerLimits Limits => _limits;
    public ServerLimits AdminLimits => _adminLimits;

    /// <summary>Connected clients on every socket.</summary>
    public int ClientCount => Volatile.Read(ref _clientCount);

    /// <summary>Raised (on a pool thread) whenever a client connects or goes away.</summary>
    public event Action<int>? ClientCountChanged;

    public IEnumerable<ClientConnection> Clients => _clients.Values.Select(c => c.Client);

    public void AddListener(UnixListener listener)
    {
        _listeners.Add(listener);
        _acceptLoops.Add(AcceptLoopAsync(listener));
        _ticker ??= TickAsync();
    }

    private async Task AcceptLoopAsync(UnixListener listener)
    {
        await Task.Yield();
        var slots = listener.Role == ListenerRole.Admin ? _adminSlots : _clientSlots;
        var limits = listener.Role == ListenerRole.Admin ? _adminLimits : _limits;
        var token = _stop.Token;
        while (!token.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                // Wait for room without holding a slot while idle in accept: the rw and ro
                // sockets share max_clients, and a slot held by an idle accept would keep the
                // other socket's clients in the backlog (max_clients = N admitting N-1).
                await slots.WaitAsync(token).ConfigureAwait(false);
                slots.Release();
                // like libvirt, stop accepting while too many clients have not authenticated
                while (listener.Auth != ListenerAuth.None && AnonymousCount >= limits.MaxAnonymousClients)
                    await Task.Delay(100, token).ConfigureAwait(false);
                socket = await listener.Socket.AcceptAsync(token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                if (token.IsCancellationRequested) return;
                Log.Warn($"accept on {listener.OwnedPath ?? listener.Role.ToString()} failed: {e.Message}");
                continue;
            }
            try
            {
                // the other socket's loop may have taken the last slot meanwhile: this client then
                // waits unserved, as it would have in the backlog
                await slots.WaitAsync(token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                socket.Dispose();
                return;
            }
            var client = new ClientConnection(socket, listener.Role, listener.Auth, this, limits, _programs(listener.Role));
            if (!client.IsAuthenticated) Interlocked.Increment(ref _anonymous);
            Log.Debug($"client {client.Id} connected on {listener.Role} socket: pid {client.Peer.Pid} uid {client.Peer.Uid}");
            int count = Interlocked.Increment(ref _clientCount);
            // registered before it runs, so a client that leaves at once is not left behind
            var placeholder = (client, Task.CompletedTask);
            _clients[client.Id] = placeholder;
            _clients.TryUpdate(client.Id, (client, RunClientAsync(client, slots)), placeholder);
            Volatile.Write(ref _clientsChanged, 1);
            ClientCountChanged?.Invoke(count);
        }
    }

    private async Task RunClientAsync(ClientConnection client, SemaphoreSlim slots)
    {
        await Task.Yield();
        try
        {
            await client.RunAsync().ConfigureAwait(false);
        }
        catch (Exception e)
        {
            Log.Error($"client {client.Id}: {e}");
        }
        finally
        {
            _clients.TryRemove(client.Id, out _);
            Volatile.Write(ref _clientsChanged, 1);
            if (!client.IsAuthenticated) Interlocked.Decrement(ref _anonymous);
            slots.Release();
            int count = Interlocked.Decrement(ref _clientCount);
            Log.Debug($"client {client.Id} went away");
            ClientCountChanged?.Invoke(count);
        }
    }

    private async Task TickAsync()
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token).ConfigureAwait(false))
            {
                long now = Environment.TickCount64;
                // a copy made only when clients came or went: enumerating the dictionary allocates
                if (Interlocked.Exchange(ref _clientsChanged, 0) != 0) _tickClients = [.. Clients];
                foreach (var client in _tickClients) client.KeepaliveTick(now);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>Stops accepting and removes our socket files.</summary>
    public async Task StopAcceptingAsync()
    {
        if (_stop.IsCancellationRequested) return;
        _stop.Cancel();
        foreach (var l in _listeners) l.Dispose();
        try
        {
            await Task.WhenAll(_acceptLoops).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
        if (_ticker is not null) await _ticker.ConfigureAwait(false);
    }

    /// <summary>
    /// Clean shutdown: stop accepting, let calls in progress finish (up to <paramref name="grace"/>),
    /// then close every client.
    /// </summary>
    public async Task StopAsync(TimeSpan grace)
    {
        await StopAcceptingAsync().ConfigureAwait(false);
        await Task.Run(() => Workers.WaitIdle(grace)).ConfigureAwait(false);
        foreach (var (_, entry) in _clients) entry.Client.Abort();
        try
        {
            await Task.WhenAll(_clients.Values.Select(c => c.Run)).WaitAsync(grace).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // a stuck client must not turn a clean stop into a crash
            Log.Warn($"{_clients.Count} clients did not finish within {grace.TotalSeconds} seconds");
        }
        Workers.Dispose();
        Loop.Dispose();
    }

    public async ValueTask DisposeAsync() => await StopAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
}
