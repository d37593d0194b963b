namespace VirtNetworkd.Server.Host;

/// <summary>
/// Every file-system location the daemon uses, for the privileged (euid 0) and the
/// unprivileged (session) daemon, as virtnetworkd(8) and libvirt compute them.
/// <para>
/// Unprivileged directories follow glib: config is <c>$XDG_CONFIG_HOME</c> (else
/// <c>$HOME/.config</c>), runtime is <c>$XDG_RUNTIME_DIR</c> (else the cache directory,
/// <c>$XDG_CACHE_HOME</c>, else <c>$HOME/.cache</c>); libvirt appends <c>/libvirt</c> to each.
/// </para>
/// <para>
/// <c>VIRTNETWORKD_ROOT=DIR</c> re-roots every default path, and <c>unix_sock_dir</c>, under
/// DIR as if DIR were <c>/</c>. Paths given with <c>-f</c>/<c>-p</c> are used as given.
/// </para>
/// </summary>
public sealed class DaemonPaths
{
    public const string DaemonName = "virtnetworkd";
    public const string RootVariable = "VIRTNETWORKD_ROOT";

    private const string SysConfDir = "/etc";
    private const string RunStateDir = "/run";
    private const string LocalStateDir = "/var";

    private DaemonPaths(bool privileged, string? root)
    {
        Privileged = privileged;
        Root = root;
    }

    public bool Privileged { get; }

    /// <summary>The VIRTNETWORKD_ROOT directory, or null when paths are not re-rooted.</summary>
    public string? Root { get; }

    /// <summary>The config file: <c>-f</c> if given, else the default one.</summary>
    public string ConfigFile { get; private init; } = "";

    /// <summary>True when <see cref="ConfigFile"/> came from <c>-f</c> (a missing file is then an error).</summary>
    public bool ConfigFileExplicit { get; private init; }

    /// <summary>The PID file: <c>-p</c> if given, else <c>/run/virtnetworkd.pid</c> or <c>$XDG_RUNTIME_DIR/libvirt/virtnetworkd.pid</c>.</summary>
    public string PidFile { get; private init; } = "";

    /// <summary>Directory holding the sockets (<c>unix_sock_dir</c> when set).</summary>
    public string SocketDir { get; private init; } = "";

    /// <summary>The read-write socket, <c>virtnetworkd-sock</c>.</summary>
    public string ReadWriteSocket { get; private init; } = "";

    /// <summary>The read-only socket, <c>virtnetworkd-sock-ro</c>; privileged daemons only, else null.</summary>
    public string? ReadOnlySocket { get; private init; }

    /// <summary>
    /// The admin socket, <c>virtnetworkd-admin-sock</c>. Null for an unprivileged daemon whose
    /// config sets <c>unix_sock_dir</c>: libvirt's virDaemonUnixSocketPaths gives that case
    /// only the read-write socket.
    /// </summary>
    public string? AdminSocket { get; private init; }

    /// <summary>The run directory the daemon makes sure exists: <c>/run/libvirt</c> or <c>$XDG_RUNTIME_DIR/libvirt</c>.</summary>
    public string RunDir { get; private init; } = "";

    /// <summary>Log file used by default when daemonized without journald:
    /// <c>/var/log/libvirt/virtnetworkd.log</c> or <c>$XDG_CACHE_HOME/libvirt/virtnetworkd.log</c>.</summary>
    public string DefaultLogFile { get; private init; } = "";

    /// <summary><c>/etc/libvirt/qemu/networks</c> or <c>$XDG_CONFIG_HOME/libvirt/qemu/networks</c>.</summary>
    public string NetworkConfigDir { get; private init; } = "";

    /// <summary><see cref="NetworkConfigDir"/>/autostart.</summary>
    public string NetworkAutostartDir { get; private init; } = "";

    /// <summary>The hook scripts: <c>/etc/libvirt/hooks</c> (<c>network</c>, <c>network.d/</c>).</summary>
    public string HooksDir { get; private init; } = "";

    /// <summary>Status XML of active networks: <c>/run/libvirt/network</c> or <c>$XDG_RUNTIME_DIR/libvirt/network/lib</c>.</summary>
    public string NetworkStateDir { get; private init; } = "";

    /// <summary>PID files of dnsmasq and friends: <c>/run/libvirt/network</c> or <c>$XDG_RUNTIME_DIR/libvirt/network/run</c>.</summary>
    public string NetworkPidDir { get; private init; } = "";

    /// <summary>dnsmasq config, hosts and leases: <c>/var/lib/libvirt/dnsmasq</c> or <c>$XDG_RUNTIME_DIR/libvirt/dnsmasq/lib</c>.</summary>
    public string DnsmasqStateDir { get; private init; } = "";

    /// <summary>
    /// The lock of the leases helper (dnsmasq's <c>--dhcp-script</c>): <c>/run/leaseshelper.pid</c>
    /// as libvirt's, or <c>$XDG_RUNTIME_DIR/libvirt/leaseshelper.pid</c> (libvirt's helper uses
    /// <c>/run</c> even then, where a session cannot write).
    /// </summary>
    public string LeasesHelperPidFile { get; private init; } = "";

    /// <summary>The network driver's own config file, <c>network.conf</c> next to virtnetworkd.conf.</summary>
    public string NetworkDriverConfigFile { get; private init; } = "";

    /// <summary>
    /// The default config file path, before anything else is known (libvirt's daemonConfigFilePath).
    /// </summary>
    public static string DefaultConfigFile(DaemonEnvironment env)
    {
        var root = RootOf(env);
        return env.Privileged
            ? Reroot(root, $"{SysConfDir}/libvirt/{DaemonName}.conf")
            : Reroot(root, $"{UserConfigDir(env)}/{DaemonName}.conf");
    }

    /// <summary>
    /// Computes every path. <paramref name="configFile"/> and <paramref name="pidFile"/> are the
    /// <c>-f</c>/<c>-p</c> values (null for the defaults); <paramref name="unixSockDir"/> is the
    /// config's <c>unix_sock_dir</c> (null when unset).
    /// </summary>
    public static DaemonPaths Create(DaemonEnvironment env, string? configFile = null,
                                     string? pidFile = null, string? unixSockDir = null)
    {
        bool priv = env.Privileged;
        string? root = RootOf(env);
        string R(string p) => Reroot(root, p);

        string configDir = priv ? $"{SysConfDir}/libvirt" : UserConfigDir(env);
        string runDir = priv ? $"{RunStateDir}/libvirt" : UserRuntimeDir(env);
        string prefix = DaemonName;

        string sockDir = unixSockDir is not null ? R(unixSockDir) : R(runDir);
        string rw = $"{sockDir}/{prefix}-sock";
        string? ro = priv ? $"{sockDir}/{prefix}-sock-ro" : null;
        string? admin = priv || unixSockDir is null ? $"{sockDir}/{prefix}-admin-sock" : null;

        return new DaemonPaths(priv, root)
        {
            ConfigFile = configFile ?? R($"{configDir}/{DaemonName}.conf"),
            ConfigFileExplicit = configFile is not null,
            PidFile = pidFile ?? (priv ? R($"{RunStateDir}/{DaemonName}.pid") : R($"{runDir}/{DaemonName}.pid")),
            SocketDir = sockDir,
            ReadWriteSocket = rw,
            ReadOnlySocket = ro,
            AdminSocket = admin,
            RunDir = R(runDir),
            DefaultLogFile = priv
                ? R($"{LocalStateDir}/log/libvirt/{DaemonName}.log")
                : R($"{UserCacheDir(env)}/{DaemonName}.log"),
            NetworkConfigDir = R($"{configDir}/qemu/networks"),
            NetworkAutostartDir = R($"{configDir}/qemu/networks/autostart"),
            NetworkStateDir = priv ? R($"{RunStateDir}/libvirt/network") : R($"{runDir}/network/lib"),
            NetworkPidDir = priv ? R($"{RunStateDir}/libvirt/network") : R($"{runDir}/network/run"),
            DnsmasqStateDir = priv ? R($"{LocalStateDir}/lib/libvirt/dnsmasq") : R($"{runDir}/dnsmasq/lib"),
            LeasesHelperPidFile = priv ? R($"{RunStateDir}/leaseshelper.pid") : R($"{runDir}/leaseshelper.pid"),
            NetworkDriverConfigFile = R($"{configDir}/network.conf"),
            // LIBVIRT_HOOK_DIR is fixed at build time: the same for privileged and session daemons
            HooksDir = R($"{SysConfDir}/libvirt/hooks"),
        };
    }

    /// <summary>
    /// Places an absolute path under <see cref="Root"/> (unchanged when there is no root, or
    /// when the path is relative).
    /// </summary>
    public string Reroot(string absolutePath) => Reroot(Root, absolutePath);

    private static string Reroot(string? root, string path)
    {
        if (root is null || !path.StartsWith('/'))
            return path;
        return root + "/" + path.TrimStart('/');
    }

    private static string? RootOf(DaemonEnvironment env)
    {
        var root = env.GetNonEmpty(RootVariable);
        if (root is null)
            return null;
        root = root.TrimEnd('/');
        return root.Length == 0 ? null : root;
    }

    /// <summary>libvirt's virGetUserConfigDirectory: g_get_user_config_dir() + "/libvirt".</summary>
    private static string UserConfigDir(DaemonEnvironment env) =>
        (env.GetNonEmpty("XDG_CONFIG_HOME") ?? env.HomeDirectory + "/.config") + "/libvirt";

    /// <summary>libvirt's virGetUserCacheDirectory: g_get_user_cache_dir() + "/libvirt".</summary>
    private static string UserCacheDir(DaemonEnvironment env) => GlibCacheDir(env) + "/libvirt";

    /// <summary>libvirt's virGetUserRuntimeDirectory: g_get_user_runtime_dir() + "/libvirt";
    /// glib falls back to the cache directory when XDG_RUNTIME_DIR is unset.</summary>
    private static string UserRuntimeDir(DaemonEnvironment env) =>
        (env.GetNonEmpty("XDG_RUNTIME_DIR") ?? GlibCacheDir(env)) + "/libvirt";

    private static string GlibCacheDir(DaemonEnvironment env) =>
        env.GetNonEmpty("XDG_CACHE_HOME") ?? env.HomeDirectory + "/.cache";
}
