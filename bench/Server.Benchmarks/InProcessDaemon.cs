using VirtNetworkd.NetworkDriver.Driver;
using VirtNetworkd.Server.Host.Logging;
using VirtNetworkd.Server.Remote;
using VirtNetworkd.Server.Rpc;

namespace VirtNetworkd.Benchmarks;

/// <summary>
/// The daemon's RPC stack in this process, wired as DaemonHost does: RpcServer on a Unix
/// socket, RemoteDispatcher, NetworkDriver with the in-process backend, all state in a fresh
/// temporary folder. Two networks: "default" (active, persistent, autostart) and "isolated"
/// (defined, inactive).
/// </summary>
public sealed class InProcessDaemon : IAsyncDisposable
{
    public const string DefaultName = "default";
    public static readonly Guid DefaultUuid = Guid.Parse("c0ffee00-1234-4cde-8f00-0123456789ab");

    private const string DefaultXml = """
        <network>
          <name>default</name>
          <uuid>c0ffee00-1234-4cde-8f00-0123456789ab</uuid>
          <forward mode='nat'/>
          <bridge name='virbr0' stp='on' delay='0'/>
          <ip address='192.168.122.1' netmask='255.255.255.0'>
            <dhcp><range start='192.168.122.2' end='192.168.122.254'/></dhcp>
          </ip>
        </network>
        """;

    private const string IsolatedXml = """
        <network>
          <name>isolated</name>
          <bridge name='virbr1'/>
          <ip address='192.168.100.1' netmask='255.255.255.0'/>
        </network>
        """;

    private readonly string _root;
    private readonly RpcServer _server;

    private InProcessDaemon(string root, RpcServer server, string socketPath)
    {
        _root = root;
        _server = server;
        SocketPath = socketPath;
    }

    public string SocketPath { get; }

    public static InProcessDaemon Start()
    {
        // what Program.Main sets before any socket exists (read once, when sockets start)
        if (Environment.GetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS") is null)
            Environment.SetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS", "1");
        string root = Directory.CreateTempSubdirectory("vnd-server-bench-").FullName;
        var driver = new NetworkDriver.Driver.NetworkDriver(
            Path.Combine(root, "networks"), Path.Combine(root, "networks", "autostart"), Path.Combine(root, "state"),
            privileged: true, new InProcessBackend(Path.Combine(root, "state", "inprocess")));
        driver.Load();
        var net = driver.DefineXml(DefaultXml, 0);
        driver.Create(net);
        driver.SetAutostart(net, true);
        driver.DefineXml(IsolatedXml, 0);

        var remote = new RemoteDispatcher(new RemoteContext(Privileged: true, KeepaliveInterval: 5, KeepaliveCount: 5, driver, new NetworkEventHub(driver)));
        var server = new RpcServer(new ServerLimits(), new ServerLimits(), _ => remote, Log.For("rpc"));
        string socket = Path.Combine(root, "virtnetworkd-sock");
        server.AddListener(UnixListener.Bind(socket, ListenerRole.ReadWrite, UnixFileMode.UserRead | UnixFileMode.UserWrite, 16));
        return new InProcessDaemon(root, server, socket);
    }

    public async ValueTask DisposeAsync()
    {
        await _server.StopAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
