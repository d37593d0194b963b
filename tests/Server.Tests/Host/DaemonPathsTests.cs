using VirtNetworkd.Server.Host;

namespace VirtNetworkd.Server.Tests.Host;

public class DaemonPathsTests
{
    [Test]
    public void PrivilegedDefaults()
    {
        var p = DaemonPaths.Create(TestEnv.Root());
        Assert.Multiple(() =>
        {
            Assert.That(p.Privileged, Is.True);
            Assert.That(p.Root, Is.Null);
            Assert.That(p.ConfigFile, Is.EqualTo("/etc/libvirt/virtnetworkd.conf"));
            Assert.That(p.ConfigFileExplicit, Is.False);
            Assert.That(p.SocketDir, Is.EqualTo("/run/libvirt"));
            Assert.That(p.ReadWriteSocket, Is.EqualTo("/run/libvirt/virtnetworkd-sock"));
            Assert.That(p.ReadOnlySocket, Is.EqualTo("/run/libvirt/virtnetworkd-sock-ro"));
            Assert.That(p.AdminSocket, Is.EqualTo("/run/libvirt/virtnetworkd-admin-sock"));
            Assert.That(p.PidFile, Is.EqualTo("/run/virtnetworkd.pid"));
            Assert.That(p.RunDir, Is.EqualTo("/run/libvirt"));
            Assert.That(p.DefaultLogFile, Is.EqualTo("/var/log/libvirt/virtnetworkd.log"));
            Assert.That(p.NetworkConfigDir, Is.EqualTo("/etc/libvirt/qemu/networks"));
            Assert.That(p.NetworkAutostartDir, Is.EqualTo("/etc/libvirt/qemu/networks/autostart"));
            Assert.That(p.NetworkStateDir, Is.EqualTo("/run/libvirt/network"));
            Assert.That(p.NetworkPidDir, Is.EqualTo("/run/libvirt/network"));
            Assert.That(p.DnsmasqStateDir, Is.EqualTo("/var/lib/libvirt/dnsmasq"));
            Assert.That(p.LeasesHelperPidFile, Is.EqualTo("/run/leaseshelper.pid"));
            Assert.That(p.NetworkDriverConfigFile, Is.EqualTo("/etc/libvirt/network.conf"));
        });
        Assert.That(DaemonPaths.DefaultConfigFile(TestEnv.Root()), Is.EqualTo("/etc/libvirt/virtnetworkd.conf"));
    }

    [Test]
    public void PrivilegedIgnoresXdgVariables()
    {
        var p = DaemonPaths.Create(TestEnv.Root(("XDG_RUNTIME_DIR", "/run/user/0"), ("XDG_CONFIG_HOME", "/root/.cfg")));
        Assert.That(p.ConfigFile, Is.EqualTo("/etc/libvirt/virtnetworkd.conf"));
        Assert.That(p.ReadWriteSocket, Is.EqualTo("/run/libvirt/virtnetworkd-sock"));
    }

    [Test]
    public void UnprivilegedWithXdgVariables()
    {
        var env = TestEnv.User(("XDG_RUNTIME_DIR", "/run/user/1000"), ("XDG_CONFIG_HOME", "/home/alice/cfg"),
                               ("XDG_CACHE_HOME", "/home/alice/cache"));
        var p = DaemonPaths.Create(env);
        Assert.Multiple(() =>
        {
            Assert.That(p.Privileged, Is.False);
            Assert.That(p.ConfigFile, Is.EqualTo("/home/alice/cfg/libvirt/virtnetworkd.conf"));
            Assert.That(p.SocketDir, Is.EqualTo("/run/user/1000/libvirt"));
            Assert.That(p.ReadWriteSocket, Is.EqualTo("/run/user/1000/libvirt/virtnetworkd-sock"));
            Assert.That(p.ReadOnlySocket, Is.Null);
            Assert.That(p.AdminSocket, Is.EqualTo("/run/user/1000/libvirt/virtnetworkd-admin-sock"));
            Assert.That(p.PidFile, Is.EqualTo("/run/user/1000/libvirt/virtnetworkd.pid"));
            Assert.That(p.RunDir, Is.EqualTo("/run/user/1000/libvirt"));
            Assert.That(p.DefaultLogFile, Is.EqualTo("/home/alice/cache/libvirt/virtnetworkd.log"));
            Assert.That(p.NetworkConfigDir, Is.EqualTo("/home/alice/cfg/libvirt/qemu/networks"));
            Assert.That(p.NetworkAutostartDir, Is.EqualTo("/home/alice/cfg/libvirt/qemu/networks/autostart"));
            Assert.That(p.NetworkStateDir, Is.EqualTo("/run/user/1000/libvirt/network/lib"));
            Assert.That(p.NetworkPidDir, Is.EqualTo("/run/user/1000/libvirt/network/run"));
            Assert.That(p.DnsmasqStateDir, Is.EqualTo("/run/user/1000/libvirt/dnsmasq/lib"));
            Assert.That(p.LeasesHelperPidFile, Is.EqualTo("/run/user/1000/libvirt/leaseshelper.pid"));
            Assert.That(p.NetworkDriverConfigFile, Is.EqualTo("/home/alice/cfg/libvirt/network.conf"));
        });
    }

    [Test]
    public void UnprivilegedWithoutXdgVariablesUsesHome()
    {
        var p = DaemonPaths.Create(TestEnv.User());
        Assert.Multiple(() =>
        {
            Assert.That(p.ConfigFile, Is.EqualTo("/home/alice/.config/libvirt/virtnetworkd.conf"));
            Assert.That(p.ReadWriteSocket, Is.EqualTo("/home/alice/.cache/libvirt/virtnetworkd-sock"));
            Assert.That(p.AdminSocket, Is.EqualTo("/home/alice/.cache/libvirt/virtnetworkd-admin-sock"));
            Assert.That(p.PidFile, Is.EqualTo("/home/alice/.cache/libvirt/virtnetworkd.pid"));
            Assert.That(p.DefaultLogFile, Is.EqualTo("/home/alice/.cache/libvirt/virtnetworkd.log"));
            Assert.That(p.NetworkStateDir, Is.EqualTo("/home/alice/.cache/libvirt/network/lib"));
        });
        Assert.That(DaemonPaths.DefaultConfigFile(TestEnv.User()), Is.EqualTo("/home/alice/.config/libvirt/virtnetworkd.conf"));
    }

    [Test]
    public void EmptyXdgVariablesCountAsUnset()
    {
        var p = DaemonPaths.Create(TestEnv.User(("XDG_RUNTIME_DIR", ""), ("XDG_CONFIG_HOME", "")));
        Assert.That(p.ConfigFile, Is.EqualTo("/home/alice/.config/libvirt/virtnetworkd.conf"));
        Assert.That(p.ReadWriteSocket, Is.EqualTo("/home/alice/.cache/libvirt/virtnetworkd-sock"));
    }

    [Test]
    public void RuntimeFallsBackToXdgCacheHomeAsGlibDoes()
    {
        var p = DaemonPaths.Create(TestEnv.User(("XDG_CACHE_HOME", "/var/tmp/alice-cache")));
        Assert.That(p.ReadWriteSocket, Is.EqualTo("/var/tmp/alice-cache/libvirt/virtnetworkd-sock"));
    }

    [Test]
    public void CommandLinePathsAreUsedAsGiven()
    {
        var env = TestEnv.Root(("VIRTNETWORKD_ROOT", "/srv/root"));
        var p = DaemonPaths.Create(env, configFile: "my.conf", pidFile: "/tmp/x.pid");
        Assert.Multiple(() =>
        {
            Assert.That(p.ConfigFile, Is.EqualTo("my.conf"));
            Assert.That(p.ConfigFileExplicit, Is.True);
            Assert.That(p.PidFile, Is.EqualTo("/tmp/x.pid"));
            Assert.That(p.ReadWriteSocket, Is.EqualTo("/srv/root/run/libvirt/virtnetworkd-sock"));
        });
    }

    [Test]
    public void UnixSockDirOverridesTheSocketDirectory()
    {
        var p = DaemonPaths.Create(TestEnv.Root(), unixSockDir: "/srv/sock");
        Assert.Multiple(() =>
        {
            Assert.That(p.SocketDir, Is.EqualTo("/srv/sock"));
            Assert.That(p.ReadWriteSocket, Is.EqualTo("/srv/sock/virtnetworkd-sock"));
            Assert.That(p.ReadOnlySocket, Is.EqualTo("/srv/sock/virtnetworkd-sock-ro"));
            Assert.That(p.AdminSocket, Is.EqualTo("/srv/sock/virtnetworkd-admin-sock"));
            Assert.That(p.PidFile, Is.EqualTo("/run/virtnetworkd.pid"));
            Assert.That(p.RunDir, Is.EqualTo("/run/libvirt"));
        });
    }

    [Test]
    public void UnprivilegedUnixSockDirHasOnlyTheReadWriteSocketAsInLibvirt()
    {
        var p = DaemonPaths.Create(TestEnv.User(("XDG_RUNTIME_DIR", "/run/user/1000")), unixSockDir: "/tmp/s");
        Assert.That(p.ReadWriteSocket, Is.EqualTo("/tmp/s/virtnetworkd-sock"));
        Assert.That(p.ReadOnlySocket, Is.Null);
        Assert.That(p.AdminSocket, Is.Null);
    }

    [Test]
    public void RootVariableReRootsEveryDefaultPath()
    {
        var p = DaemonPaths.Create(TestEnv.Root(("VIRTNETWORKD_ROOT", "/srv/vn/")));
        Assert.Multiple(() =>
        {
            Assert.That(p.Root, Is.EqualTo("/srv/vn"));
            Assert.That(p.ConfigFile, Is.EqualTo("/srv/vn/etc/libvirt/virtnetworkd.conf"));
            Assert.That(p.ReadWriteSocket, Is.EqualTo("/srv/vn/run/libvirt/virtnetworkd-sock"));
            Assert.That(p.ReadOnlySocket, Is.EqualTo("/srv/vn/run/libvirt/virtnetworkd-sock-ro"));
            Assert.That(p.AdminSocket, Is.EqualTo("/srv/vn/run/libvirt/virtnetworkd-admin-sock"));
            Assert.That(p.PidFile, Is.EqualTo("/srv/vn/run/virtnetworkd.pid"));
            Assert.That(p.RunDir, Is.EqualTo("/srv/vn/run/libvirt"));
            Assert.That(p.DefaultLogFile, Is.EqualTo("/srv/vn/var/log/libvirt/virtnetworkd.log"));
            Assert.That(p.NetworkConfigDir, Is.EqualTo("/srv/vn/etc/libvirt/qemu/networks"));
            Assert.That(p.NetworkAutostartDir, Is.EqualTo("/srv/vn/etc/libvirt/qemu/networks/autostart"));
            Assert.That(p.NetworkStateDir, Is.EqualTo("/srv/vn/run/libvirt/network"));
            Assert.That(p.DnsmasqStateDir, Is.EqualTo("/srv/vn/var/lib/libvirt/dnsmasq"));
            Assert.That(p.LeasesHelperPidFile, Is.EqualTo("/srv/vn/run/leaseshelper.pid"));
            Assert.That(p.NetworkDriverConfigFile, Is.EqualTo("/srv/vn/etc/libvirt/network.conf"));
        });
        Assert.That(DaemonPaths.DefaultConfigFile(TestEnv.Root(("VIRTNETWORKD_ROOT", "/srv/vn"))),
                    Is.EqualTo("/srv/vn/etc/libvirt/virtnetworkd.conf"));
    }

    [Test]
    public void RootVariableReRootsUnixSockDirAndSessionPaths()
    {
        var p = DaemonPaths.Create(TestEnv.Root(("VIRTNETWORKD_ROOT", "/srv/vn")), unixSockDir: "/var/run/sockets");
        Assert.That(p.ReadWriteSocket, Is.EqualTo("/srv/vn/var/run/sockets/virtnetworkd-sock"));

        var u = DaemonPaths.Create(TestEnv.User(("VIRTNETWORKD_ROOT", "/srv/vn"), ("XDG_RUNTIME_DIR", "/run/user/1000")));
        Assert.That(u.ReadWriteSocket, Is.EqualTo("/srv/vn/run/user/1000/libvirt/virtnetworkd-sock"));
        Assert.That(u.ConfigFile, Is.EqualTo("/srv/vn/home/alice/.config/libvirt/virtnetworkd.conf"));
    }

    [TestCase("")]
    [TestCase("/")]
    public void EmptyOrSlashRootMeansNoReRooting(string root)
    {
        var p = DaemonPaths.Create(TestEnv.Root(("VIRTNETWORKD_ROOT", root)));
        Assert.That(p.Root, Is.Null);
        Assert.That(p.ConfigFile, Is.EqualTo("/etc/libvirt/virtnetworkd.conf"));
    }

    [Test]
    public void RerootForLaterUsers()
    {
        var rooted = DaemonPaths.Create(TestEnv.Root(("VIRTNETWORKD_ROOT", "/srv/vn")));
        var plain = DaemonPaths.Create(TestEnv.Root());
        Assert.Multiple(() =>
        {
            Assert.That(rooted.Reroot("/var/lib/libvirt/dnsmasq/default.conf"), Is.EqualTo("/srv/vn/var/lib/libvirt/dnsmasq/default.conf"));
            Assert.That(rooted.Reroot("/"), Is.EqualTo("/srv/vn/"));
            Assert.That(rooted.Reroot("relative/path"), Is.EqualTo("relative/path"));
            Assert.That(plain.Reroot("/etc/x"), Is.EqualTo("/etc/x"));
        });
    }
}
