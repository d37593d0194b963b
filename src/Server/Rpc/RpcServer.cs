using System.Collections.Concurrent;
using System.Net.Sockets;
using VirtNetworkd.Server.Host.Logging;

namespace VirtNetworkd.Server.Rpc;

/// <summary>
/// The daemon's RPC side (libvirt's virNetDaemon): two named servers, "virtnetworkd" for the
/// read-write and read-only sockets and "admin" for the admin socket, each with its own clients,
/// limits and worker pool; one epoll loop (<see cref="IoLoop"/>) for every client socket; a
/// keepalive tick once a second.
/// </summary>
public sealed class RpcServer : IAsyncDisposable
{
    public const string MainServerName = "virtnetworkd", AdminServerName = "admin";

    private readonly Func<ListenerRole, IProgramDispatcher?> _programs;
    private readonly List<UnixListener> _listeners = new();
    private readonly List<Task> _acceptLoops = new();
    private readonly ConcurrentDictionary<long, (ClientConnection Connection, Task Run)> _connections = new();
    private readonly CancellationTokenSource _stop = new();
    private Task? _ticker;
    private RpcSession[] _tickClients = [];
    private int _clientsChanged;
    private int _clientCount;

    public RpcServer(ServerLimits limits, ServerLimits adminLimits, Func<ListenerRole, IProgramDispatcher?> programs, Logger log)
    {
        _programs = programs;
        Log = log;
        Main = new NetServer(MainServerName, limits, log);
        Admin = new NetServer(AdminServerName, adminLimits, log);
        Loop = new IoLoop(e => Log.Error($"I/O loop: {e}"));
    }

    public Logger Log { get; }
    internal IoLoop Loop { get; }

    /// <summary>The "virtnetworkd" server (read-write and read-only sockets).</summary>
    public NetServer Main { get; }

    /// <summary>The "admin" server (admin socket).</summary>
    public NetServer Admin { get; }

    public IReadOnlyList<NetServer> Servers => [Main, Admin];

    public NetServer? FindServer(string name) => name == MainServerName ? Main : name == AdminServerName ? Admin : null;

    /// <summary>The main server's worker pool.</summary>
    public WorkerPool Workers => Main.Workers;
    public ServerLimits Limits => Main.Limits;
    public ServerLimits AdminLimits => Admin.Limits;

    /// <summary>Connected clients that have not authenticated yet (max_anonymous_clients).</summary>
    public int AnonymousCount => Main.AnonymousCount + Admin.AnonymousCount;

    /// <summary>Connected clients on every socket.</summary>
    public int ClientCount => Volatile.Read(ref _clientCount);

    /// <summary>Raised (on a pool thread) whenever a client connects or goes away.</summary>
    public event Action<int>? ClientCountChanged;

    /// <summary>Every connected client, both servers.</summary>
    public IEnumerable<RpcSession> Clients => _connections.Values.Select(c => c.Connection.Session);

    public void AddListener(UnixListener listener)
    {
        _listeners.Add(listener);
        _acceptLoops.Add(AcceptLoopAsync(listener));
        _ticker ??= TickAsync();
    }

    private NetServer ServerFor(ListenerRole role) => role == ListenerRole.Admin ? Admin : Main;

    private async Task AcceptLoopAsync(UnixListener listener)
    {
        await Task.Yield();
        var server = ServerFor(listener.Role);
        var token = _stop.Token;
        while (!token.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                // like libvirt, stop accepting while the server is full or too many clients have
                // not authenticated; an idle accept holds no slot
                await server.WaitForRoomAsync(listener.Auth != ListenerAuth.None, token).ConfigureAwait(false);
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
                await server.TakeSlotAsync(token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                socket.Dispose();
                return;
            }
            var session = new RpcSession(listener.Role, listener.Auth, PeerCredentials.Of(socket), server.Limits,
                _programs(listener.Role), server.Workers, Log, server.OnAuthenticated);
            var connection = new ClientConnection(socket, session, Loop);
            server.Add(session);
            Log.Debug($"client {session.Id} connected on {listener.Role} socket: pid {session.Peer.Pid} uid {session.Peer.Uid}");
            int count = Interlocked.Increment(ref _clientCount);
            // registered before it runs, so a client that leaves at once is not left behind
            var placeholder = (connection, Task.CompletedTask);
            _connections[session.Id] = placeholder;
            _connections.TryUpdate(session.Id, (connection, RunClientAsync(connection, server)), placeholder);
            Volatile.Write(ref _clientsChanged, 1);
            ClientCountChanged?.Invoke(count);
        }
    }

    private async Task RunClientAsync(ClientConnection connection, NetServer server)
    {
        await Task.Yield();
        var session = connection.Session;
        try
        {
            await connection.RunAsync().ConfigureAwait(false);
        }
        catch (Exception e)
        {
            Log.Error($"client {session.Id}: {e}");
        }
        finally
        {
            _connections.TryRemove(session.Id, out _);
            Volatile.Write(ref _clientsChanged, 1);
            server.Remove(session, wasAnonymous: !session.IsAuthenticated);
            int count = Interlocked.Decrement(ref _clientCount);
            Log.Debug($"client {session.Id} went away");
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
        await Task.Run(() => Main.Workers.WaitIdle(grace) && Admin.Workers.WaitIdle(grace)).ConfigureAwait(false);
        foreach (var (_, entry) in _connections) entry.Connection.Session.Abort();
        try
        {
            await Task.WhenAll(_connections.Values.Select(c => c.Run)).WaitAsync(grace).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // a stuck client must not turn a clean stop into a crash
            Log.Warn($"{_connections.Count} clients did not finish within {grace.TotalSeconds} seconds");
        }
        Main.Dispose();
        Admin.Dispose();
        Loop.Dispose();
    }

    public async ValueTask DisposeAsync() => await StopAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
}
