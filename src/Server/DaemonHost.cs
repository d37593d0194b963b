using System.Runtime.InteropServices;
using VirtNetworkd.Errors;
using VirtNetworkd.Server.Admin;
using VirtNetworkd.Server.Host;
using VirtNetworkd.Server.Host.Config;
using VirtNetworkd.Server.Host.Logging;
using VirtNetworkd.Server.Remote;
using VirtNetworkd.Server.Rpc;

namespace VirtNetworkd.Server;

/// <summary>
/// The daemon's life: config, logging, PID file, sockets (own or socket-activated), the RPC
/// server, signals (SIGHUP reload, SIGTERM/SIGINT clean stop), the idle timeout, and systemd
/// notification. A shutdown never touches running networks.
/// </summary>
public sealed class DaemonHost
{
    private readonly DaemonOptions _options;
    private readonly DaemonEnvironment _env;
    private readonly TaskCompletionSource _shutdown = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Logger _log = Log.For("daemon");
    private DaemonPaths _paths = null!;
    private DaemonConfig _config = null!;
    private RpcServer? _server;
    private IdleShutdown? _idle;

    public DaemonHost(DaemonOptions options, DaemonEnvironment env)
    {
        _options = options;
        _env = env;
    }

    /// <summary>The drivers' reload hooks, run on SIGHUP.</summary>
    public event Action? Reload;

    public async Task<int> RunAsync()
    {
        var pre = DaemonPaths.Create(_env, _options.ConfigFile, _options.PidFile);
        try
        {
            _config = DaemonConfig.Load(pre.ConfigFile, _env.Privileged, pre.ConfigFileExplicit);
        }
        catch (ConfException e)
        {
            return Fail(DaemonConfig.FormatLoadError(e, pre.ConfigFile));
        }
        _paths = DaemonPaths.Create(_env, _options.ConfigFile, _options.PidFile, _config.UnixSockDir);
        try
        {
            Log.Configure(LogSettings.ForDaemon(_config, _options.Verbose, Daemonizer.IsDetachedChild(_env), _paths, _env));
        }
        catch (LogConfigException e)
        {
            return Fail(e.Message);
        }

        PidFile pid;
        try
        {
            pid = PidFile.Acquire(_paths.PidFile);
        }
        catch (PidFileException e)
        {
            return Fail(e.Message);
        }

        // before the sockets exist: a client or systemd may signal as soon as it sees them
        using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnStopSignal);
        using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnStopSignal);
        using var hangup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, OnReloadSignal);
        using (pid)
        {
            List<UnixListener> listeners;
            try
            {
                listeners = OpenListeners();
            }
            catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or UnauthorizedAccessException or SocketActivationException)
            {
                return Fail($"Failed to create listening sockets: {e.Message}");
            }

            var limits = ServerLimitsFrom(_config, admin: false);
            var adminLimits = ServerLimitsFrom(_config, admin: true);
            NetworkDriver.Driver.NetworkDriver networks;
            try
            {
                networks = StartNetworkDriver();
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException or LibvirtError
                or ConfException or NetworkDriver.Backend.Netlink.NetlinkErrorException)
            {
                foreach (var l in listeners) l.Dispose();
                return Fail($"Failed to initialize the network driver: {e.Message}");
            }
            Reload += networks.Reload;
            var remote = new RemoteDispatcher(new RemoteContext(_env.Privileged, _config.KeepaliveInterval, (int)_config.KeepaliveCount, networks, new NetworkEventHub(networks)));
            var admin = new AdminDispatcher();
            _server = new RpcServer(limits, adminLimits, role => role == ListenerRole.Admin ? admin : remote, Log.For("rpc"));
            _idle = IdleShutdownFor(_server);
            admin.Attach(new AdminContext(_server, _idle));
            foreach (var l in listeners) _server.AddListener(l.WithAuth(AuthFor(l.Role)));
            // -t N: counted from now, as before any client
            if (_options.Timeout > 0) _idle.SetTimeout((uint)_options.Timeout);

            _log.Info($"virtnetworkd {NetworkDriver.DriverInfo.LibVersionString} ready: {_paths.ReadWriteSocket}");
            SystemdNotify.Ready();
            Daemonizer.NotifyParentReady(_env);

            await _shutdown.Task.ConfigureAwait(false);

            SystemdNotify.Stopping();
            _idle.Dispose();
            await _server.StopAsync(TimeSpan.FromSeconds(30)).ConfigureAwait(false);
            _log.Info($"virtnetworkd stopped");
        }
        return 0;
    }

    private int Fail(string message)
    {
        Console.Error.WriteLine(message);
        Daemonizer.NotifyParentFailed(_env, message);
        return 1;
    }

    private List<UnixListener> OpenListeners()
    {
        var activated = SocketActivation.Take(_env);
        if (activated is not null)
        {
            // systemd made and owns these sockets: the socket options of the config do not apply
            var list = new List<UnixListener>();
            if (activated.ReadWrite is not null) list.Add(UnixListener.Adopt(activated.ReadWrite, ListenerRole.ReadWrite));
            if (activated.ReadOnly is not null) list.Add(UnixListener.Adopt(activated.ReadOnly, ListenerRole.ReadOnly));
            if (activated.Admin is not null) list.Add(UnixListener.Adopt(activated.Admin, ListenerRole.Admin));
            return list;
        }
        uint? gid = string.IsNullOrEmpty(_config.UnixSockGroup) ? null : GroupId(_config.UnixSockGroup);
        int backlog = (int)Math.Min(_config.MaxQueuedClients, int.MaxValue);
        var result = new List<UnixListener>();
        try
        {
            result.Add(UnixListener.Bind(_paths.ReadWriteSocket, ListenerRole.ReadWrite, DaemonConfig.ParseMode(_config.UnixSockRwPerms), backlog, gid));
            if (_paths.ReadOnlySocket is { } ro)
                result.Add(UnixListener.Bind(ro, ListenerRole.ReadOnly, DaemonConfig.ParseMode(_config.UnixSockRoPerms), backlog, gid));
            if (_paths.AdminSocket is { } admin)
                result.Add(UnixListener.Bind(admin, ListenerRole.Admin, DaemonConfig.ParseMode(_config.UnixSockAdminPerms), (int)Math.Min(_config.AdminMaxQueuedClients, int.MaxValue)));
        }
        catch
        {
            foreach (var l in result) l.Dispose();
            throw;
        }
        return result;
    }

    /// <summary>
    /// The network driver over the daemon's state folders. VIRTNETWORKD_BACKEND selects the host
    /// backend: "linux" (the default: bridges, addresses, firewall rules in the daemon's network
    /// namespace) or "inprocess" (bookkeeping only, the kernel untouched: for tests and tools that
    /// must not change the host).
    /// </summary>
    private NetworkDriver.Driver.NetworkDriver StartNetworkDriver()
    {
        string backendName = _env.GetNonEmpty("VIRTNETWORKD_BACKEND") ?? "linux";
        NetworkDriver.Driver.INetworkBackend backend = backendName switch
        {
            "inprocess" => new NetworkDriver.Driver.InProcessBackend(),
            "linux" => StartLinuxBackend(),
            _ => throw new InvalidOperationException($"unknown network backend '{backendName}' in VIRTNETWORKD_BACKEND (known: inprocess, linux)"),
        };
        _log.Info($"network backend: {backendName}");
        var driver = new NetworkDriver.Driver.NetworkDriver(_paths.NetworkConfigDir, _paths.NetworkAutostartDir, _paths.NetworkStateDir, _env.Privileged, backend)
        {
            Hooks = new NetworkDriver.Driver.NetworkHooks(_paths.HooksDir, m => _log.Warn(m)),
            Warn = m => _log.Warn(m),
        };
        Reload += driver.Hooks.Refresh;
        driver.Load();
        foreach (var (file, error) in driver.LoadErrors) _log.Error($"{file}: {error}");
        driver.BackendFault += (_, f) => _log.Error($"network '{f.Network}': {f.Message}");
        if (driver.StaleTempsRemoved > 0) _log.Info($"removed {driver.StaleTempsRemoved} temporary files left by interrupted writes");
        return driver;
    }

    /// <summary>The Linux backend, its firewall backend chosen from network.conf (beside
    /// virtnetworkd.conf) as libvirt chooses it.</summary>
    private NetworkDriver.Backend.Linux.LinuxBackend StartLinuxBackend()
    {
        string file = Path.Combine(Path.GetDirectoryName(_paths.ConfigFile) ?? ".", NetworkDriver.Driver.NetworkDriverConfig.FileName);
        string? firewallBackend = null;
        if (File.Exists(file) && LibvirtConfParser.ReadFile(file).TryGetString("firewall_backend", out var value)) firewallBackend = value;
        var config = NetworkDriver.Driver.NetworkDriverConfig.Load(file, firewallBackend, log: m => _log.Info(m));
        // dnsmasq's --dhcp-script: the leases helper next to the daemon, unless VIRTNETWORKD_LEASES_HELPER names another
        var dnsmasq = new NetworkDriver.Backend.Dnsmasq.DnsmasqSettings(_paths.DnsmasqStateDir, _paths.NetworkPidDir,
            _env.GetNonEmpty(NetworkDriver.Backend.Dnsmasq.DnsmasqSettings.LeasesHelperVariable) ?? NetworkDriver.Backend.Dnsmasq.DnsmasqSettings.DefaultLeasesHelper)
        {
            // the leases helper that dnsmasq runs finds the daemon's folders as the daemon does
            HelperEnvironment = HelperEnvironment(),
        };
        // <domain register='yes'>: systemd-resolved on the system bus, where sd-bus looks for it
        var resolved = new NetworkDriver.Backend.Resolved.ResolvedClient(
            NetworkDriver.Backend.Resolved.ResolvedClient.SystemBusAddress(_env.GetNonEmpty(NetworkDriver.Backend.Resolved.ResolvedClient.SystemBusAddressVariable)),
            NetworkDriver.Backend.Resolved.ResolvedClient.DefaultTimeout);
        return new NetworkDriver.Backend.Linux.LinuxBackend(config.FirewallBackend, m => _log.Warn(m), dnsmasq: dnsmasq, resolved: resolved);
    }

    /// <summary>What the leases helper needs of the daemon's environment to compute the same folders (DaemonPaths).</summary>
    private Dictionary<string, string> HelperEnvironment()
    {
        var env = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string name in new[] { DaemonPaths.RootVariable, "XDG_RUNTIME_DIR", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "HOME" })
            if (_env.GetNonEmpty(name) is { } value && (name == DaemonPaths.RootVariable || !_env.Privileged)) env[name] = value;
        return env;
    }

    private ListenerAuth AuthFor(ListenerRole role) => role switch
    {
        ListenerRole.ReadWrite => _config.AuthUnixRw == AuthMethod.Polkit ? ListenerAuth.Polkit : ListenerAuth.None,
        ListenerRole.ReadOnly => _config.AuthUnixRo == AuthMethod.Polkit ? ListenerAuth.Polkit : ListenerAuth.None,
        // the admin socket is protected by its file mode only (0700), as in libvirt
        _ => ListenerAuth.None,
    };

    private static uint GroupId(string group)
    {
        if (uint.TryParse(group, out uint id)) return id;
        foreach (var line in File.ReadLines("/etc/group"))
        {
            var parts = line.Split(':');
            if (parts.Length >= 3 && parts[0] == group && uint.TryParse(parts[2], out id)) return id;
        }
        throw new IOException($"Failed to look up group '{group}'");
    }

    private static ServerLimits ServerLimitsFrom(DaemonConfig c, bool admin) => admin
        ? new ServerLimits
        {
            MaxClients = Clamp(c.AdminMaxClients),
            MaxQueuedClients = Clamp(c.AdminMaxQueuedClients),
            // libvirt's admin server takes no unauthenticated clients (its socket needs no auth)
            MaxAnonymousClients = 0,
            MaxClientRequests = Clamp(c.AdminMaxClientRequests),
            MinWorkers = Clamp(c.AdminMinWorkers),
            MaxWorkers = Clamp(c.AdminMaxWorkers),
            PrioWorkers = 0,
            KeepaliveInterval = c.AdminKeepaliveInterval,
            KeepaliveCount = Clamp(c.AdminKeepaliveCount),
        }
        : new ServerLimits
        {
            MaxClients = Clamp(c.MaxClients),
            MaxQueuedClients = Clamp(c.MaxQueuedClients),
            MaxAnonymousClients = Clamp(c.MaxAnonymousClients),
            MaxClientRequests = Clamp(c.MaxClientRequests),
            MinWorkers = Clamp(c.MinWorkers),
            MaxWorkers = Clamp(c.MaxWorkers),
            PrioWorkers = Clamp(c.PrioWorkers),
            KeepaliveInterval = c.KeepaliveInterval,
            KeepaliveCount = Clamp(c.KeepaliveCount),
        };

    private static int Clamp(uint v) => (int)Math.Min(v, int.MaxValue);

    private void OnStopSignal(PosixSignalContext context)
    {
        context.Cancel = true;
        _log.Info($"shutting down on {context.Signal}");
        _shutdown.TrySetResult();
    }

    private void OnReloadSignal(PosixSignalContext context)
    {
        context.Cancel = true;
        _log.Info($"reloading on SIGHUP");
        try
        {
            // libvirt's SIGHUP does not re-read virtnetworkd.conf: it asks the drivers to reload
            // their state (network definitions from disk, autostart)
            Reload?.Invoke();
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            _log.Error($"reload failed, keeping the previous settings: {e.Message}");
        }
    }

    /// <summary>The idle timeout (-t N, and virt-admin daemon-timeout while running): exit after
    /// N seconds with no client connected and no call in progress. Off until set.</summary>
    private IdleShutdown IdleShutdownFor(RpcServer server)
    {
        var idle = new IdleShutdown(() => server.ClientCount,
            () => server.Workers.WaitIdle(TimeSpan.Zero) && server.Admin.Workers.WaitIdle(TimeSpan.Zero),
            () => _shutdown.TrySetResult(), _log);
        server.ClientCountChanged += idle.OnClientCountChanged;
        return idle;
    }
}
