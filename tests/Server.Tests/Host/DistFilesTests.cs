using VirtNetworkd.Server.Host;

namespace VirtNetworkd.Server.Tests.Host;

/// <summary>The shipped systemd units agree with what the daemon expects.</summary>
public class DistFilesTests
{
    private static Dictionary<string, List<string>> Unit(string name)
    {
        string path = Path.Combine(TestContext.CurrentContext.TestDirectory, "systemd", name);
        Assert.That(File.Exists(path), Is.True, path);
        var keys = new Dictionary<string, List<string>>();
        foreach (var raw in File.ReadAllLines(path))
        {
            string line = raw.Trim();
            if (line.Length == 0 || line[0] is '#' or ';' or '[')
                continue;
            int eq = line.IndexOf('=');
            string key = line[..eq], value = line[(eq + 1)..];
            if (!keys.TryGetValue(key, out var list))
                keys[key] = list = [];
            list.Add(value);
        }
        return keys;
    }

    [TestCase("virtnetworkd.socket", "/run/libvirt/virtnetworkd-sock", "0666", SocketRole.ReadWrite)]
    [TestCase("virtnetworkd-ro.socket", "/run/libvirt/virtnetworkd-sock-ro", "0666", SocketRole.ReadOnly)]
    [TestCase("virtnetworkd-admin.socket", "/run/libvirt/virtnetworkd-admin-sock", "0600", SocketRole.Admin)]
    public void SocketUnits(string unit, string path, string mode, SocketRole role)
    {
        var u = Unit(unit);
        var paths = DaemonPaths.Create(TestEnv.Root());
        string expectedPath = role switch
        {
            SocketRole.ReadWrite => paths.ReadWriteSocket,
            SocketRole.ReadOnly => paths.ReadOnlySocket!,
            _ => paths.AdminSocket!,
        };
        Assert.Multiple(() =>
        {
            Assert.That(u["ListenStream"], Is.EqualTo(new[] { path }));
            Assert.That(path, Is.EqualTo(expectedPath));
            Assert.That(u["SocketMode"], Is.EqualTo(new[] { mode }));
            Assert.That(u["FileDescriptorName"], Is.EqualTo(new[] { SocketActivation.NameOf(role) }));
            Assert.That(u["Service"], Is.EqualTo(new[] { "virtnetworkd.service" }));
            Assert.That(u["WantedBy"], Is.EqualTo(new[] { "sockets.target" }));
        });
    }

    [Test]
    public void ServiceUnit()
    {
        var u = Unit("virtnetworkd.service");
        Assert.Multiple(() =>
        {
            Assert.That(u["Type"], Is.EqualTo(new[] { "notify" }), "not notify-reload: that is later than 10.8");
            Assert.That(u["Environment"], Is.EqualTo(new[] { "VIRTNETWORKD_ARGS=\"--timeout 120\"" }));
            Assert.That(u["ExecStart"], Is.EqualTo(new[] { "/usr/sbin/virtnetworkd $VIRTNETWORKD_ARGS" }));
            Assert.That(u["EnvironmentFile"], Does.Contain("-/etc/default/virtnetworkd"));
            Assert.That(u["ExecReload"], Is.EqualTo(new[] { "/bin/kill -HUP $MAINPID" }));
            Assert.That(u["KillMode"], Is.EqualTo(new[] { "process" }));
            Assert.That(u["BindsTo"], Is.EqualTo(new[] { "virtnetworkd.socket" }));
            Assert.That(u["Also"], Is.EquivalentTo(new[] { "virtnetworkd.socket", "virtnetworkd-ro.socket", "virtnetworkd-admin.socket" }));
        });
        // the arguments the unit passes parse
        var parsed = DaemonOptions.Parse(["--timeout", "120"], "virtnetworkd", TestEnv.Root());
        Assert.That(parsed.Options!.Timeout, Is.EqualTo(120));
    }
}
