using VirtNetworkd.NetworkDriver.Driver;
using VirtNetworkd.NetworkDriver.Backend;
using VirtNetworkd.Server.Host.Logging;
using VirtNetworkd.Server.Remote;
using VirtNetworkd.Server.Rpc;
using VirtNetworkd.Tests.Shared;

namespace VirtNetworkd.Server.Tests.Remote;

/// <summary>The daemon's RPC stack on a Unix socket in a temporary folder, as DaemonHost wires it.</summary>
internal sealed class InProcessServer : IAsyncDisposable
{
    private readonly string _root;
    private readonly RpcServer _server;

    public InProcessServer(int keepaliveInterval = 5, int keepaliveCount = 5, ServerLimits? limits = null, INetworkBackend? backend = null)
    {
        _root = Directory.CreateTempSubdirectory("vnd-rpc-test-").FullName;
        Driver = new NetworkDriver.Driver.NetworkDriver(Path.Combine(_root, "networks"), Path.Combine(_root, "networks", "autostart"),
            Path.Combine(_root, "state"), privileged: true, backend ?? new InProcessBackend());
        Driver.Load();
        Events = new NetworkEventHub(Driver);
        var remote = new RemoteDispatcher(new RemoteContext(true, keepaliveInterval, keepaliveCount, Driver, Events));
        _server = new RpcServer(limits ?? new ServerLimits(), new ServerLimits(), _ => remote, Log.For("rpc"));
        SocketPath = Path.Combine(_root, "sock");
        _server.AddListener(UnixListener.Bind(SocketPath, ListenerRole.ReadWrite, UnixFileMode.UserRead | UnixFileMode.UserWrite, 16));
    }

    public NetworkDriver.Driver.NetworkDriver Driver { get; }

    /// <summary>A second driver over the same folders, as a restarted daemon would load them.</summary>
    public NetworkDriver.Driver.NetworkDriver NewDriverOverTheSameFolders() =>
        new(Path.Combine(_root, "networks"), Path.Combine(_root, "networks", "autostart"), Path.Combine(_root, "state"), privileged: true, new InProcessBackend());
    public NetworkEventHub Events { get; }
    public RpcServer Server => _server;
    public string SocketPath { get; }

    /// <summary>A client that has done auth_list and connect_open.</summary>
    public RawLibvirtClient OpenClient()
    {
        var c = new RawLibvirtClient(SocketPath);
        c.Open();
        return c;
    }

    public async ValueTask DisposeAsync()
    {
        await _server.StopAsync(TimeSpan.FromSeconds(5));
        Directory.Delete(_root, recursive: true);
    }
}
