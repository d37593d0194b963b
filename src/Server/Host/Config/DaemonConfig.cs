namespace VirtNetworkd.Server.Host.Config;

/// <summary>How a UNIX socket authenticates clients (auth_unix_ro / auth_unix_rw).</summary>
public enum AuthMethod
{
    None,
    Sasl,
    Polkit,
}

/// <summary>
/// virtnetworkd.conf: every key libvirt's daemon config has for a daemon that listens on UNIX
/// sockets only (libvirt 9.0 remote_daemon_config.c; unchanged up to 10.8), with libvirt's
/// defaults. Unknown keys are ignored, as libvirt ignores them (so are the obsolete
/// keepalive_required and admin_keepalive_required). Immutable once loaded.
/// </summary>
public sealed record DaemonConfig
{
    // ---- UNIX sockets ----

    /// <summary>unix_sock_group: group owning the sockets; null = the daemon's group.</summary>
    public string? UnixSockGroup { get; init; }

    /// <summary>unix_sock_ro_perms, octal; default "0777".</summary>
    public string UnixSockRoPerms { get; init; } = "0777";

    /// <summary>
    /// unix_sock_rw_perms, octal. Default "0700", or "0777" when auth_unix_rw is polkit: the
    /// privileged default, or set to polkit in the file. As in libvirt, a privileged daemon
    /// keeps "0777" even when the file switches auth_unix_rw to none, unless the file sets
    /// unix_sock_rw_perms too.
    /// </summary>
    public string UnixSockRwPerms { get; init; } = "0700";

    /// <summary>unix_sock_admin_perms, octal; default "0700".</summary>
    public string UnixSockAdminPerms { get; init; } = "0700";

    /// <summary>unix_sock_dir: directory for the sockets; null = the default (see <see cref="DaemonPaths"/>).</summary>
    public string? UnixSockDir { get; init; }

    // ---- authentication and access control ----

    /// <summary>auth_unix_ro: "none", "sasl" or "polkit"; default polkit when privileged, else none.</summary>
    public AuthMethod AuthUnixRo { get; init; } = AuthMethod.None;

    /// <summary>auth_unix_rw: as <see cref="AuthUnixRo"/>.</summary>
    public AuthMethod AuthUnixRw { get; init; } = AuthMethod.None;

    /// <summary>access_drivers, e.g. [ "polkit" ]; null = none configured (no access checks).</summary>
    public IReadOnlyList<string>? AccessDrivers { get; init; }

    /// <summary>sasl_allowed_username_list; null = no check.</summary>
    public IReadOnlyList<string>? SaslAllowedUsernameList { get; init; }

    // ---- processing controls ----

    public uint MaxClients { get; init; } = 5000;
    public uint MaxQueuedClients { get; init; } = 1000;
    public uint MaxAnonymousClients { get; init; } = 20;
    public uint MinWorkers { get; init; } = 5;
    public uint MaxWorkers { get; init; } = 20;
    public uint PrioWorkers { get; init; } = 5;
    public uint MaxClientRequests { get; init; } = 5;

    public uint AdminMinWorkers { get; init; } = 5;
    public uint AdminMaxWorkers { get; init; } = 20;
    public uint AdminMaxClients { get; init; } = 5000;
    public uint AdminMaxQueuedClients { get; init; } = 20;
    public uint AdminMaxClientRequests { get; init; } = 5;

    // ---- logging ----

    /// <summary>log_level 1–4; 0 = not set (libvirt's default, warning, applies).</summary>
    public uint LogLevel { get; init; }

    /// <summary>log_filters, e.g. "1:network 3:rpc"; null = not set.</summary>
    public string? LogFilters { get; init; }

    /// <summary>log_outputs, e.g. "3:journald 1:file:/var/log/libvirt/virtnetworkd.log"; null = not set.</summary>
    public string? LogOutputs { get; init; }

    // ---- auditing ----

    /// <summary>audit_level: 0 off, 1 on if the host has auditing (default), 2 required.</summary>
    public uint AuditLevel { get; init; } = 1;

    /// <summary>audit_logging: also send audit messages to the log; default false.</summary>
    public bool AuditLogging { get; init; }

    // ---- host UUID ----

    /// <summary>host_uuid; null = take it from <see cref="HostUuidSource"/>.</summary>
    public string? HostUuid { get; init; }

    /// <summary>host_uuid_source: "smbios" (the default when null) or "machine-id".</summary>
    public string? HostUuidSource { get; init; }

    // ---- keepalive ----

    /// <summary>keepalive_interval seconds; -1 disables keepalive requests. Default 5.</summary>
    public int KeepaliveInterval { get; init; } = 5;

    /// <summary>keepalive_count; default 5.</summary>
    public uint KeepaliveCount { get; init; } = 5;

    public int AdminKeepaliveInterval { get; init; } = 5;
    public uint AdminKeepaliveCount { get; init; } = 5;

    // ---- Open vSwitch ----

    /// <summary>ovs_timeout seconds for ovs-vsctl; default 5.</summary>
    public uint OvsTimeout { get; init; } = 5;

    /// <summary>The defaults before any file is read (privileged daemons default to polkit).</summary>
    public static DaemonConfig Defaults(bool privileged) => privileged
        ? new DaemonConfig { AuthUnixRo = AuthMethod.Polkit, AuthUnixRw = AuthMethod.Polkit, UnixSockRwPerms = "0777" }
        : new DaemonConfig();

    /// <summary>
    /// Reads the config file. When <paramref name="explicitPath"/> is false (the default file)
    /// and the file does not exist, the defaults are returned; a file named with -f must exist.
    /// </summary>
    /// <exception cref="ConfException">
    /// libvirt's message, e.g. <c>Failed to open file 'PATH': No such file or directory</c>.
    /// </exception>
    public static DaemonConfig Load(string path, bool privileged, bool explicitPath = false)
    {
        if (!explicitPath && !File.Exists(path) && !Directory.Exists(path))
            return Defaults(privileged);
        return FromConf(LibvirtConfParser.ReadFile(path), privileged);
    }

    /// <summary>Reads <see cref="DaemonPaths.ConfigFile"/> (explicit when it came from -f).</summary>
    public static DaemonConfig Load(DaemonPaths paths) =>
        Load(paths.ConfigFile, paths.Privileged, paths.ConfigFileExplicit);

    /// <summary>Parses config text; <paramref name="fileName"/> names it in errors.</summary>
    public static DaemonConfig Parse(string text, string fileName, bool privileged) =>
        FromConf(LibvirtConfParser.Parse(text, fileName), privileged);

    /// <summary>The text libvirt's daemon logs when the config cannot be loaded.</summary>
    public static string FormatLoadError(ConfException error, string path) =>
        $"Can't load config file: {error.Message}: {path}";

    /// <summary>Applies a parsed file over the defaults, in libvirt's order.</summary>
    public static DaemonConfig FromConf(ConfFile conf, bool privileged)
    {
        ArgumentNullException.ThrowIfNull(conf);
        var c = Defaults(privileged);

        if (TryAuth(conf, "auth_unix_rw", out var rw))
        {
            c = c with { AuthUnixRw = rw };
            if (rw == AuthMethod.Polkit)
                c = c with { UnixSockRwPerms = "0777" };
        }
        if (TryAuth(conf, "auth_unix_ro", out var ro))
            c = c with { AuthUnixRo = ro };

        if (conf.TryGetStringList("access_drivers", out var access))
            c = c with { AccessDrivers = access };

        if (conf.TryGetString("unix_sock_group", out var s))
            c = c with { UnixSockGroup = s };
        if (conf.TryGetString("unix_sock_admin_perms", out s))
            c = c with { UnixSockAdminPerms = s };
        if (conf.TryGetString("unix_sock_ro_perms", out s))
            c = c with { UnixSockRoPerms = s };
        if (conf.TryGetString("unix_sock_rw_perms", out s))
            c = c with { UnixSockRwPerms = s };
        if (conf.TryGetString("unix_sock_dir", out s))
            c = c with { UnixSockDir = s };

        if (conf.TryGetStringList("sasl_allowed_username_list", out var sasl))
            c = c with { SaslAllowedUsernameList = sasl };

        uint u;
        if (conf.TryGetUInt("min_workers", out u))
            c = c with { MinWorkers = u };
        if (conf.TryGetUInt("max_workers", out u))
            c = c with { MaxWorkers = u };
        if (c.MaxWorkers < 1)
            throw new ConfException("internal error: 'max_workers' must be greater than 0", conf.FileName, 0);
        if (conf.TryGetUInt("max_clients", out u))
            c = c with { MaxClients = u };
        if (conf.TryGetUInt("max_queued_clients", out u))
            c = c with { MaxQueuedClients = u };
        if (conf.TryGetUInt("max_anonymous_clients", out u))
            c = c with { MaxAnonymousClients = u };
        if (conf.TryGetUInt("prio_workers", out u))
            c = c with { PrioWorkers = u };
        if (conf.TryGetUInt("max_client_requests", out u))
            c = c with { MaxClientRequests = u };

        if (conf.TryGetUInt("admin_min_workers", out u))
            c = c with { AdminMinWorkers = u };
        if (conf.TryGetUInt("admin_max_workers", out u))
            c = c with { AdminMaxWorkers = u };
        if (conf.TryGetUInt("admin_max_clients", out u))
            c = c with { AdminMaxClients = u };
        if (conf.TryGetUInt("admin_max_queued_clients", out u))
            c = c with { AdminMaxQueuedClients = u };
        if (conf.TryGetUInt("admin_max_client_requests", out u))
            c = c with { AdminMaxClientRequests = u };

        if (conf.TryGetUInt("audit_level", out u))
            c = c with { AuditLevel = u };
        if (conf.TryGetBool("audit_logging", out bool b))
            c = c with { AuditLogging = b };

        if (conf.TryGetString("host_uuid", out s))
            c = c with { HostUuid = s };
        if (conf.TryGetString("host_uuid_source", out s))
            c = c with { HostUuidSource = s };

        if (conf.TryGetUInt("log_level", out u))
            c = c with { LogLevel = u };
        if (conf.TryGetString("log_filters", out s))
            c = c with { LogFilters = s };
        if (conf.TryGetString("log_outputs", out s))
            c = c with { LogOutputs = s };

        int i;
        if (conf.TryGetInt("keepalive_interval", out i))
            c = c with { KeepaliveInterval = i };
        if (conf.TryGetUInt("keepalive_count", out u))
            c = c with { KeepaliveCount = u };
        if (conf.TryGetInt("admin_keepalive_interval", out i))
            c = c with { AdminKeepaliveInterval = i };
        if (conf.TryGetUInt("admin_keepalive_count", out u))
            c = c with { AdminKeepaliveCount = u };

        if (conf.TryGetUInt("ovs_timeout", out u))
            c = c with { OvsTimeout = u };

        return c;
    }

    private static bool TryAuth(ConfFile conf, string key, out AuthMethod auth)
    {
        auth = AuthMethod.None;
        if (!conf.TryGetString(key, out var text))
            return false;
        auth = text switch
        {
            "none" => AuthMethod.None,
            "sasl" => AuthMethod.Sasl,
            "polkit" => AuthMethod.Polkit,
            _ => throw new ConfException(
                $"unsupported configuration: {conf.FileName}:{conf.Find(key)!.Line}: {key}: unsupported auth {text}",
                conf.FileName, conf.Find(key)!.Line),
        };
        return true;
    }

    /// <summary>
    /// A socket permission string as libvirt reads it (the whole string, octal).
    /// </summary>
    /// <exception cref="ConfException"><c>Failed to parse mode 'TEXT'</c>.</exception>
    public static UnixFileMode ParseMode(string perms)
    {
        ArgumentNullException.ThrowIfNull(perms);
        string t = perms.TrimStart(' ', '\t', '\n', '\v', '\f', '\r');
        bool neg = t.StartsWith('-');
        if (t.StartsWith('+') || neg)
            t = t[1..];
        if (t.Length == 0 || !t.All(ch => ch is >= '0' and <= '7'))
            throw new ConfException($"Failed to parse mode '{perms}'", null, 0);
        long v;
        try
        {
            v = Convert.ToInt64(t, 8);
        }
        catch (OverflowException)
        {
            throw new ConfException($"Failed to parse mode '{perms}'", null, 0);
        }
        if (neg)
            v = -v;
        if (v is < int.MinValue or > int.MaxValue)
            throw new ConfException($"Failed to parse mode '{perms}'", null, 0);
        return (UnixFileMode)((int)v & 0xFFF);
    }

    /// <summary>Octal rendering of a mode ("0770").</summary>
    public static string FormatMode(UnixFileMode mode) =>
        "0" + Convert.ToString((int)mode, 8).PadLeft(3, '0');
}
