using System.Runtime.InteropServices;
using VirtNetworkd.NetworkDriver.Driver;
using VirtNetworkd.Server.Host.Logging;
using VirtNetworkd.Server.Remote;
using VirtNetworkd.Server.Rpc;

namespace VirtNetworkd.Benchmarks;

/// <summary>
/// The server under test, in this process (so that GC.GetTotalAllocatedBytes counts it), with
/// all its state in a fresh temporary folder, no networks yet. Two ways to start it:
/// <list type="bullet">
/// <item><c>server</c> (default): RpcServer + RemoteDispatcher + NetworkDriver with the in-process
/// backend, wired here as DaemonHost wires them, default limits, no logging set up.</item>
/// <item><c>daemon</c>: the daemon itself, <c>virtnetworkd</c>'s Program.Main with
/// VIRTNETWORKD_ROOT set to the folder and the in-process backend: its config defaults, logging, PID file, signal handlers.
/// Stopped with SIGTERM to this process, which the daemon handles.</item>
/// </list>
/// </summary>
public sealed partial class InProcessDaemon : IAsyncDisposable
{
    private readonly string _root;
    private readonly RpcServer? _server;
    private readonly Task<int>? _daemon;

    private InProcessDaemon(string root, string socketPath, RpcServer? server, Task<int>? daemon)
    {
        _root = root;
        SocketPath = socketPath;
        _server = server;
        _daemon = daemon;
    }

    public string SocketPath { get; }

    /// <summary>The URI to open: root runs the system daemon, anyone else the session one.</summary>
    public static string Uri => Environment.IsPrivilegedProcess ? "network:///system" : "network:///session";

    public static InProcessDaemon Start(string? how) => how switch
    {
        null or "" or "server" => StartServer(),
        "daemon" => StartDaemon(),
        _ => throw new ArgumentException($"unknown server '{how}' (server, daemon)"),
    };

    private static InProcessDaemon StartServer()
    {
        // what Program.Main sets before any socket exists (read once, when sockets start)
        if (Environment.GetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS") is null)
            Environment.SetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS", "1");
        string root = Directory.CreateTempSubdirectory("vnd-server-bench-").FullName;
        var driver = new NetworkDriver.Driver.NetworkDriver(
            Path.Combine(root, "networks"), Path.Combine(root, "networks", "autostart"), Path.Combine(root, "state"),
            Environment.IsPrivilegedProcess, new InProcessBackend());
        driver.Load();
        var remote = new RemoteDispatcher(new RemoteContext(Environment.IsPrivilegedProcess, KeepaliveInterval: 5, KeepaliveCount: 5, driver, new NetworkEventHub(driver)));
        var server = new RpcServer(new ServerLimits(), new ServerLimits(), _ => remote, Log.For("rpc"));
        string socket = Path.Combine(root, "virtnetworkd-sock");
        server.AddListener(UnixListener.Bind(socket, ListenerRole.ReadWrite, UnixFileMode.UserRead | UnixFileMode.UserWrite, 16));
        return new InProcessDaemon(root, socket, server, null);
    }

    private static InProcessDaemon StartDaemon()
    {
        string root = Directory.CreateTempSubdirectory("vnd-daemon-bench-").FullName;
        Environment.SetEnvironmentVariable("VIRTNETWORKD_ROOT", root);
        // the RPC stack is measured, not the kernel: the daemon's default (linux) would change the host
        Environment.SetEnvironmentVariable("VIRTNETWORKD_BACKEND", "inprocess");
        var run = Task.Run(() => Server.Program.Main([]));
        // the socket folder: unix_sock_dir under the root (run/libvirt for root, else the runtime dir)
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (DateTime.UtcNow < deadline)
        {
            if (run.IsCompleted) throw new InvalidOperationException($"the daemon exited with {run.Result} before creating its socket");
            var socket = Directory.EnumerateFiles(root, "virtnetworkd-sock", SearchOption.AllDirectories).FirstOrDefault();
            if (socket is not null) return new InProcessDaemon(root, socket, null, run);
            Thread.Sleep(20);
        }
        throw new TimeoutException("the daemon did not create its socket within 30 s");
    }

    public async ValueTask DisposeAsync()
    {
        if (_server is not null) await _server.StopAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        if (_daemon is not null)
        {
            _ = Kill(Environment.ProcessId, 15); // SIGTERM: the daemon's own clean stop
            await _daemon.WaitAsync(TimeSpan.FromSeconds(30)).ConfigureAwait(false);
        }
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    [LibraryImport("libc", EntryPoint = "kill")]
    private static partial int Kill(int pid, int signal);
}
