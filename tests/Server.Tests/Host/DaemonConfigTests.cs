using VirtNetworkd.Server.Host;
using VirtNetworkd.Server.Host.Config;

namespace VirtNetworkd.Server.Tests.Host;

public class DaemonConfigTests
{
    private const string File = "/etc/libvirt/virtnetworkd.conf";

    [TestCase(false)]
    [TestCase(true)]
    public void DefaultsOfEveryKey(bool privileged)
    {
        var c = DaemonConfig.Defaults(privileged);
        Assert.Multiple(() =>
        {
            Assert.That(c.UnixSockGroup, Is.Null);
            Assert.That(c.UnixSockRoPerms, Is.EqualTo("0777"));
            Assert.That(c.UnixSockRwPerms, Is.EqualTo(privileged ? "0777" : "0700"));
            Assert.That(c.UnixSockAdminPerms, Is.EqualTo("0700"));
            Assert.That(c.UnixSockDir, Is.Null);
            Assert.That(c.AuthUnixRo, Is.EqualTo(privileged ? AuthMethod.Polkit : AuthMethod.None));
            Assert.That(c.AuthUnixRw, Is.EqualTo(privileged ? AuthMethod.Polkit : AuthMethod.None));
            Assert.That(c.AccessDrivers, Is.Null);
            Assert.That(c.SaslAllowedUsernameList, Is.Null);
            Assert.That(c.MaxClients, Is.EqualTo(5000));
            Assert.That(c.MaxQueuedClients, Is.EqualTo(1000));
            Assert.That(c.MaxAnonymousClients, Is.EqualTo(20));
            Assert.That(c.MinWorkers, Is.EqualTo(5));
            Assert.That(c.MaxWorkers, Is.EqualTo(20));
            Assert.That(c.PrioWorkers, Is.EqualTo(5));
            Assert.That(c.MaxClientRequests, Is.EqualTo(5));
            Assert.That(c.AdminMinWorkers, Is.EqualTo(5));
            Assert.That(c.AdminMaxWorkers, Is.EqualTo(20));
            Assert.That(c.AdminMaxClients, Is.EqualTo(5000));
            Assert.That(c.AdminMaxQueuedClients, Is.EqualTo(20));
            Assert.That(c.AdminMaxClientRequests, Is.EqualTo(5));
            Assert.That(c.LogLevel, Is.Zero);
            Assert.That(c.LogFilters, Is.Null);
            Assert.That(c.LogOutputs, Is.Null);
            Assert.That(c.AuditLevel, Is.EqualTo(1));
            Assert.That(c.AuditLogging, Is.False);
            Assert.That(c.HostUuid, Is.Null);
            Assert.That(c.HostUuidSource, Is.Null);
            Assert.That(c.KeepaliveInterval, Is.EqualTo(5));
            Assert.That(c.KeepaliveCount, Is.EqualTo(5));
            Assert.That(c.AdminKeepaliveInterval, Is.EqualTo(5));
            Assert.That(c.AdminKeepaliveCount, Is.EqualTo(5));
            Assert.That(c.OvsTimeout, Is.EqualTo(5));
        });
    }

    [TestCase(false)]
    [TestCase(true)]
    public void EmptyFileGivesDefaults(bool privileged) =>
        Assert.That(DaemonConfig.Parse("# nothing set\n", File, privileged), Is.EqualTo(DaemonConfig.Defaults(privileged)));

    private const string EveryKey = """
        unix_sock_group = "libvirt"
        unix_sock_ro_perms = "0770"
        unix_sock_rw_perms = "0660"
        unix_sock_admin_perms = "0600"
        unix_sock_dir = "/srv/sockets"
        auth_unix_ro = "none"
        auth_unix_rw = "sasl"
        access_drivers = [ "polkit", "nop" ]
        sasl_allowed_username_list = [ "joe@EXAMPLE.COM", "*@EXAMPLE.ORG" ]
        max_clients = 10
        max_queued_clients = 11
        max_anonymous_clients = 12
        min_workers = 2
        max_workers = 13
        prio_workers = 3
        max_client_requests = 14
        admin_min_workers = 1
        admin_max_workers = 4
        admin_max_clients = 6
        admin_max_queued_clients = 7
        admin_max_client_requests = 8
        log_level = 2
        log_filters = "1:network 3:rpc"
        log_outputs = "1:file:/var/log/libvirt/virtnetworkd.log"
        audit_level = 2
        audit_logging = 1
        host_uuid = "7c9a1a3e-5a2b-4f1e-9b7d-3c1f2e4a5b6c"
        host_uuid_source = "machine-id"
        keepalive_interval = -1
        keepalive_count = 0
        keepalive_required = 1
        admin_keepalive_interval = 9
        admin_keepalive_count = 10
        admin_keepalive_required = 1
        ovs_timeout = 30
        listen_tls = 1
        some_future_key = [ 1, "two" ]
        """;

    [TestCase(false)]
    [TestCase(true)]
    public void FileSettingEveryKey(bool privileged)
    {
        var c = DaemonConfig.Parse(EveryKey, File, privileged);
        Assert.Multiple(() =>
        {
            Assert.That(c.UnixSockGroup, Is.EqualTo("libvirt"));
            Assert.That(c.UnixSockRoPerms, Is.EqualTo("0770"));
            Assert.That(c.UnixSockRwPerms, Is.EqualTo("0660"));
            Assert.That(c.UnixSockAdminPerms, Is.EqualTo("0600"));
            Assert.That(c.UnixSockDir, Is.EqualTo("/srv/sockets"));
            Assert.That(c.AuthUnixRo, Is.EqualTo(AuthMethod.None));
            Assert.That(c.AuthUnixRw, Is.EqualTo(AuthMethod.Sasl));
            Assert.That(c.AccessDrivers, Is.EqualTo(new[] { "polkit", "nop" }));
            Assert.That(c.SaslAllowedUsernameList, Is.EqualTo(new[] { "joe@EXAMPLE.COM", "*@EXAMPLE.ORG" }));
            Assert.That(c.MaxClients, Is.EqualTo(10));
            Assert.That(c.MaxQueuedClients, Is.EqualTo(11));
            Assert.That(c.MaxAnonymousClients, Is.EqualTo(12));
            Assert.That(c.MinWorkers, Is.EqualTo(2));
            Assert.That(c.MaxWorkers, Is.EqualTo(13));
            Assert.That(c.PrioWorkers, Is.EqualTo(3));
            Assert.That(c.MaxClientRequests, Is.EqualTo(14));
            Assert.That(c.AdminMinWorkers, Is.EqualTo(1));
            Assert.That(c.AdminMaxWorkers, Is.EqualTo(4));
            Assert.That(c.AdminMaxClients, Is.EqualTo(6));
            Assert.That(c.AdminMaxQueuedClients, Is.EqualTo(7));
            Assert.That(c.AdminMaxClientRequests, Is.EqualTo(8));
            Assert.That(c.LogLevel, Is.EqualTo(2));
            Assert.That(c.LogFilters, Is.EqualTo("1:network 3:rpc"));
            Assert.That(c.LogOutputs, Is.EqualTo("1:file:/var/log/libvirt/virtnetworkd.log"));
            Assert.That(c.AuditLevel, Is.EqualTo(2));
            Assert.That(c.AuditLogging, Is.True);
            Assert.That(c.HostUuid, Is.EqualTo("7c9a1a3e-5a2b-4f1e-9b7d-3c1f2e4a5b6c"));
            Assert.That(c.HostUuidSource, Is.EqualTo("machine-id"));
            Assert.That(c.KeepaliveInterval, Is.EqualTo(-1));
            Assert.That(c.KeepaliveCount, Is.Zero);
            Assert.That(c.AdminKeepaliveInterval, Is.EqualTo(9));
            Assert.That(c.AdminKeepaliveCount, Is.EqualTo(10));
            Assert.That(c.OvsTimeout, Is.EqualTo(30));
        });
    }

    [Test]
    public void ShippedConfigFileIsTheDefaults()
    {
        // dist/virtnetworkd.conf lists every key commented out; uncommenting each example line
        // must still parse and give the documented defaults where the example is the default
        string dist = Path.Combine(TestContext.CurrentContext.TestDirectory, "virtnetworkd.conf");
        Assert.That(System.IO.File.Exists(dist), Is.True, dist);
        Assert.That(DaemonConfig.Load(dist, privileged: true, explicitPath: true), Is.EqualTo(DaemonConfig.Defaults(true)));

        var lines = System.IO.File.ReadAllLines(dist);
        var settings = lines.Where(l => System.Text.RegularExpressions.Regex.IsMatch(l, "^#[a-z_]+ *=")).Select(l => l[1..]).ToList();
        var keys = settings.Select(l => l.Split('=')[0].Trim()).ToList();
        Assert.That(keys, Is.SupersetOf(new[]
        {
            "unix_sock_group", "unix_sock_ro_perms", "unix_sock_rw_perms", "unix_sock_admin_perms", "unix_sock_dir",
            "auth_unix_ro", "auth_unix_rw", "access_drivers", "sasl_allowed_username_list",
            "max_clients", "max_queued_clients", "max_anonymous_clients", "min_workers", "max_workers",
            "prio_workers", "max_client_requests", "admin_min_workers", "admin_max_workers", "admin_max_clients",
            "admin_max_queued_clients", "admin_max_client_requests", "log_level", "log_filters", "log_outputs",
            "audit_level", "audit_logging", "host_uuid", "host_uuid_source", "keepalive_interval",
            "keepalive_count", "admin_keepalive_interval", "admin_keepalive_count", "ovs_timeout",
        }));
        // every commented value is the built-in one, except where the file shows an example
        var uncommented = DaemonConfig.Parse(string.Join("\n", settings), dist, privileged: true);
        var defaults = DaemonConfig.Defaults(true);
        Assert.That(uncommented with
        {
            UnixSockGroup = null, UnixSockDir = null, AccessDrivers = null, SaslAllowedUsernameList = null,
            LogLevel = 0, LogFilters = null, LogOutputs = null, HostUuid = null, HostUuidSource = null,
        }, Is.EqualTo(defaults));
        Assert.That(uncommented.LogLevel, Is.EqualTo(3), "log_level shows the priority that applies when it is unset");
        Assert.That(uncommented.HostUuidSource, Is.EqualTo("smbios"));
        Assert.That(uncommented.UnixSockDir, Is.EqualTo("/run/libvirt"));
    }

    [Test]
    public void PolkitOnTheRwSocketOpensItsPermissions()
    {
        var c = DaemonConfig.Parse("auth_unix_rw = \"polkit\"", File, privileged: false);
        Assert.That(c.AuthUnixRw, Is.EqualTo(AuthMethod.Polkit));
        Assert.That(c.UnixSockRwPerms, Is.EqualTo("0777"));
    }

    [Test]
    public void ExplicitPermissionsWinOverThePolkitDefault()
    {
        var c = DaemonConfig.Parse("unix_sock_rw_perms = \"0770\"\nauth_unix_rw = \"polkit\"", File, privileged: false);
        Assert.That(c.UnixSockRwPerms, Is.EqualTo("0770"));
    }

    [Test]
    public void PrivilegedDaemonKeepsOpenPermissionsWhenAuthIsSwitchedOff()
    {
        // libvirt derives the rw default from the default auth before reading the file
        var c = DaemonConfig.Parse("auth_unix_rw = \"none\"", File, privileged: true);
        Assert.That(c.AuthUnixRw, Is.EqualTo(AuthMethod.None));
        Assert.That(c.UnixSockRwPerms, Is.EqualTo("0777"));
    }

    [Test]
    public void UnknownKeysAreIgnored() =>
        Assert.That(DaemonConfig.Parse("tls_port = \"16514\"\nwhatever = [ 1 ]\nkeepalive_required = \"yes\"", File, false),
                    Is.EqualTo(DaemonConfig.Defaults(false)));

    [TestCase("max_clients = \"many\"", "internal error: " + File + ":1: expected an unsigned integer for 'max_clients' parameter")]
    [TestCase("\nmin_workers = -1", "internal error: " + File + ":2: expected an unsigned integer for 'min_workers' parameter")]
    [TestCase("unix_sock_group = 100", "internal error: " + File + ":1: expected a string for 'unix_sock_group' parameter")]
    [TestCase("log_filters = [ \"1:x\" ]", "internal error: " + File + ":1: expected a string for 'log_filters' parameter")]
    [TestCase("audit_logging = 2", "internal error: " + File + ":1: value for 'audit_logging' parameter must be 0 or 1")]
    [TestCase("audit_logging = \"yes\"", "internal error: " + File + ":1: expected a bool for 'audit_logging' parameter")]
    [TestCase("keepalive_interval = \"5\"", "internal error: " + File + ":1: expected a signed integer for 'keepalive_interval' parameter")]
    [TestCase("keepalive_interval = 3000000000", "internal error: " + File + ":1: value for 'keepalive_interval' parameter must be in range -2147483648:2147483647")]
    [TestCase("ovs_timeout = 5000000000", "internal error: " + File + ":1: value for 'ovs_timeout' parameter must be in range 0:4294967295")]
    [TestCase("access_drivers = \"polkit\"", "internal error: " + File + ":1: expected a string list for 'access_drivers' parameter")]
    [TestCase("access_drivers = [ 1 ]", "configuration file syntax error: " + File + ":1: expected a string list for 'access_drivers' parameter")]
    [TestCase("auth_unix_rw = \"kerberos\"", "unsupported configuration: " + File + ":1: auth_unix_rw: unsupported auth kerberos")]
    [TestCase("\n\nauth_unix_ro = \"\"", "unsupported configuration: " + File + ":3: auth_unix_ro: unsupported auth ")]
    [TestCase("max_workers = 0", "internal error: 'max_workers' must be greater than 0")]
    [TestCase("log_level = ", "configuration file syntax error: " + File + ":1: expecting a value")]
    public void BadValues(string text, string message)
    {
        var e = Assert.Throws<ConfException>(() => DaemonConfig.Parse(text, File, privileged: true))!;
        Assert.That(e.Message, Is.EqualTo(message));
    }

    [Test]
    public void MissingDefaultFileGivesDefaults()
    {
        Assert.That(DaemonConfig.Load("/nonexistent/virtnetworkd.conf", privileged: true), Is.EqualTo(DaemonConfig.Defaults(true)));
        Assert.That(DaemonConfig.Load("/nonexistent/virtnetworkd.conf", privileged: false, explicitPath: false),
                    Is.EqualTo(DaemonConfig.Defaults(false)));
    }

    [Test]
    public void MissingExplicitFileIsAnError()
    {
        var e = Assert.Throws<ConfException>(() => DaemonConfig.Load("/nonexistent/x.conf", privileged: true, explicitPath: true))!;
        Assert.That(e.Message, Is.EqualTo("Failed to open file '/nonexistent/x.conf': No such file or directory"));
        Assert.That(DaemonConfig.FormatLoadError(e, "/nonexistent/x.conf"),
                    Is.EqualTo("Can't load config file: Failed to open file '/nonexistent/x.conf': No such file or directory: /nonexistent/x.conf"));
    }

    [Test]
    public void LoadThroughPathsUsesTheExplicitFlag()
    {
        string dir = TestEnv.TempDir();
        try
        {
            var env = TestEnv.Root(("VIRTNETWORKD_ROOT", dir));
            // default file missing: defaults
            Assert.That(DaemonConfig.Load(DaemonPaths.Create(env)), Is.EqualTo(DaemonConfig.Defaults(true)));
            // default file present: read
            Directory.CreateDirectory(Path.Combine(dir, "etc/libvirt"));
            System.IO.File.WriteAllText(Path.Combine(dir, "etc/libvirt/virtnetworkd.conf"), "max_clients = 3\n");
            Assert.That(DaemonConfig.Load(DaemonPaths.Create(env)).MaxClients, Is.EqualTo(3));
            // -f naming a missing file: error
            Assert.Throws<ConfException>(() => DaemonConfig.Load(DaemonPaths.Create(env, configFile: Path.Combine(dir, "nope.conf"))));
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Test]
    public void ErrorsFromAFileNameIt()
    {
        string dir = TestEnv.TempDir();
        try
        {
            string f = Path.Combine(dir, "v.conf");
            System.IO.File.WriteAllText(f, "# c\nmax_clients = 'x'\n");
            var e = Assert.Throws<ConfException>(() => DaemonConfig.Load(f, privileged: false))!;
            Assert.That(e.Message, Is.EqualTo($"internal error: {f}:2: expected an unsigned integer for 'max_clients' parameter"));
            Assert.That(e.FileName, Is.EqualTo(f));
            Assert.That(e.Line, Is.EqualTo(2));
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [TestCase("0777", 0x1FF)]
    [TestCase("0700", 0x1C0)]
    [TestCase("660", 0x1B0)]
    [TestCase("0", 0)]
    public void ParseMode(string text, int mode) => Assert.That((int)DaemonConfig.ParseMode(text), Is.EqualTo(mode));

    [TestCase("0789")]
    [TestCase("rw")]
    [TestCase("")]
    [TestCase("0777 ")]
    public void ParseModeRejectsWhatLibvirtRejects(string text)
    {
        var e = Assert.Throws<ConfException>(() => DaemonConfig.ParseMode(text))!;
        Assert.That(e.Message, Is.EqualTo($"Failed to parse mode '{text}'"));
    }

    [Test]
    public void FormatMode() => Assert.That(DaemonConfig.FormatMode((UnixFileMode)0x1C0), Is.EqualTo("0700"));
}
