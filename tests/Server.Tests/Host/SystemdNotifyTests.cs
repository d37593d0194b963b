using System.Net.Sockets;
using System.Text;
using VirtNetworkd.Server.Host;

namespace VirtNetworkd.Server.Tests.Host;

public class SystemdNotifyTests
{
    private string _dir = "";

    [SetUp]
    public void SetUp() => _dir = TestEnv.TempDir();

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, true);

    private static string Receive(Socket s)
    {
        var buf = new byte[4096];
        return Encoding.UTF8.GetString(buf, 0, s.Receive(buf));
    }

    private static Socket Listen(string address)
    {
        var s = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        s.Bind(new UnixDomainSocketEndPoint(address));
        s.ReceiveTimeout = 5000;
        return s;
    }

    [Test]
    public void SendsReadyStoppingAndStatusToAPathSocket()
    {
        string path = Path.Combine(_dir, "notify");
        using var systemd = Listen(path);
        var env = TestEnv.Root(("NOTIFY_SOCKET", path));

        Assert.That(SystemdNotify.IsEnabled(env), Is.True);
        Assert.That(SystemdNotify.Status("Starting networks", env), Is.True);
        Assert.That(SystemdNotify.Ready(env), Is.True);
        Assert.That(SystemdNotify.Stopping(env), Is.True);
        Assert.That(SystemdNotify.Send("RELOADING=1\nMONOTONIC_USEC=1", env), Is.True);

        Assert.That(Receive(systemd), Is.EqualTo("STATUS=Starting networks"));
        Assert.That(Receive(systemd), Is.EqualTo("READY=1"));
        Assert.That(Receive(systemd), Is.EqualTo("STOPPING=1"));
        Assert.That(Receive(systemd), Is.EqualTo("RELOADING=1\nMONOTONIC_USEC=1"));
    }

    [Test]
    public void SendsToAnAbstractSocket()
    {
        string name = "virtnetworkd-test-" + Guid.NewGuid().ToString("N");
        using var systemd = Listen("\0" + name);
        var env = TestEnv.Root(("NOTIFY_SOCKET", "@" + name));
        Assert.That(SystemdNotify.Ready(env), Is.True);
        Assert.That(Receive(systemd), Is.EqualTo("READY=1"));
    }

    [Test]
    public void DoesNothingWithoutNotifySocket()
    {
        var env = TestEnv.Root();
        Assert.That(SystemdNotify.IsEnabled(env), Is.False);
        Assert.That(SystemdNotify.Ready(env), Is.False);
        Assert.That(SystemdNotify.Stopping(env), Is.False);
        Assert.That(SystemdNotify.Status("x", env), Is.False);
    }

    [Test]
    public void MissingListenerOrOverlongPathIsReportedNotThrown()
    {
        Assert.That(SystemdNotify.Ready(TestEnv.Root(("NOTIFY_SOCKET", Path.Combine(_dir, "nobody-listens")))), Is.False);
        Assert.That(SystemdNotify.Ready(TestEnv.Root(("NOTIFY_SOCKET", "/" + new string('x', 120)))), Is.False);
    }
}
