using System.Net.Sockets;
using VirtNetworkd.Server.Host;

namespace VirtNetworkd.Server.Tests.Host;

/// <summary>
/// Real listening sockets are moved to a block of free fd numbers, as systemd would place them
/// at 3, 4, 5…; the environment names them.
/// </summary>
[NonParallelizable]
public class SocketActivationTests
{
    private const int FirstFd = 900;
    private const int Pid = 4242;
    private string _dir = "";
    private readonly List<Socket> _originals = [];

    [SetUp]
    public void SetUp() => _dir = TestEnv.TempDir();

    [TearDown]
    public void TearDown()
    {
        foreach (var s in _originals)
            s.Dispose();
        _originals.Clear();
        for (int fd = FirstFd; fd < FirstFd + 8; fd++)
            NativeTestHelpers.Close(fd);
        Directory.Delete(_dir, true);
    }

    /// <summary>Binds listening sockets and dup2s them to FirstFd, FirstFd+1, …; returns their paths.</summary>
    private string[] PassSockets(params string[] names)
    {
        var paths = new string[names.Length];
        for (int i = 0; i < names.Length; i++)
        {
            paths[i] = Path.Combine(_dir, $"s{i}");
            var s = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            s.Bind(new UnixDomainSocketEndPoint(paths[i]));
            s.Listen(5);
            _originals.Add(s);
            Assert.That(NativeTestHelpers.Dup2((int)s.SafeHandle.DangerousGetHandle(), FirstFd + i), Is.EqualTo(FirstFd + i));
        }
        return paths;
    }

    private static DaemonEnvironment Env(int count, string? names, int pid = Pid)
    {
        var vars = new Dictionary<string, string> { ["LISTEN_PID"] = pid.ToString(), ["LISTEN_FDS"] = count.ToString() };
        if (names is not null)
            vars["LISTEN_FDNAMES"] = names;
        return DaemonEnvironment.Create(vars, effectiveUid: 0, processId: Pid);
    }

    private static string PathOf(Socket? s) => ((UnixDomainSocketEndPoint)s!.LocalEndPoint!).ToString();

    [Test]
    public void NamedSocketsGetTheirRoles()
    {
        var paths = PassSockets("admin", "rw", "ro");
        var env = Env(3, "virtnetworkd-admin.socket:virtnetworkd.socket:virtnetworkd-ro.socket");
        using var act = SocketActivation.Take(env, FirstFd);

        Assert.That(act, Is.Not.Null);
        Assert.Multiple(() =>
        {
            Assert.That(PathOf(act!.Admin), Is.EqualTo(paths[0]));
            Assert.That(PathOf(act.ReadWrite), Is.EqualTo(paths[1]));
            Assert.That(PathOf(act.ReadOnly), Is.EqualTo(paths[2]));
            Assert.That(act[SocketRole.ReadWrite], Has.Count.EqualTo(1));
            Assert.That(act.ReadWrite!.SocketType, Is.EqualTo(SocketType.Stream));
            Assert.That(env.Get("LISTEN_PID"), Is.Null, "unset as libvirt does");
            Assert.That(env.Get("LISTEN_FDS"), Is.Null, "unset as libvirt does");
            Assert.That(NativeTestHelpers.IsCloseOnExec(FirstFd), Is.True);
            Assert.That(NativeTestHelpers.IsCloseOnExec(FirstFd + 2), Is.True);
        });

        // the adopted socket really listens
        using var client = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        client.Connect(new UnixDomainSocketEndPoint(paths[1]));
        using var accepted = act!.ReadWrite!.Accept();
        Assert.That(accepted.Connected, Is.True);
    }

    [Test]
    public void MissingRolesAreNull()
    {
        PassSockets("rw");
        using var act = SocketActivation.Take(Env(1, "virtnetworkd.socket"), FirstFd);
        Assert.That(act!.ReadWrite, Is.Not.Null);
        Assert.That(act.ReadOnly, Is.Null);
        Assert.That(act.Admin, Is.Null);
        Assert.That(act[SocketRole.Admin], Is.Empty);
    }

    [Test]
    public void SeveralSocketsMayShareAName()
    {
        var paths = PassSockets("a", "b");
        using var act = SocketActivation.Take(Env(2, "virtnetworkd.socket:virtnetworkd.socket"), FirstFd);
        Assert.That(act![SocketRole.ReadWrite].Select(PathOf), Is.EqualTo(paths));
    }

    [Test]
    public void NotForUsWhenThePidDiffers()
    {
        PassSockets("rw");
        var env = Env(1, "virtnetworkd.socket", pid: Pid + 1);
        Assert.That(SocketActivation.Take(env, FirstFd), Is.Null);
        Assert.That(env.Get("LISTEN_PID"), Is.Not.Null, "variables meant for another process stay");
        Assert.That(NativeTestHelpers.IsOpen(FirstFd), Is.True);
    }

    [Test]
    public void NotActivatedWithoutVariables()
    {
        Assert.That(SocketActivation.Take(TestEnv.Root(), FirstFd), Is.Null);
        Assert.That(SocketActivation.Take(DaemonEnvironment.Create(new Dictionary<string, string> { ["LISTEN_PID"] = "x" }, 0, Pid), FirstFd), Is.Null);
        Assert.That(SocketActivation.Take(DaemonEnvironment.Create(new Dictionary<string, string> { ["LISTEN_PID"] = Pid.ToString() }, 0, Pid), FirstFd), Is.Null);
    }

    [Test]
    public void ZeroFdsMeansNotActivated()
    {
        var env = Env(0, "");
        Assert.That(SocketActivation.Take(env, FirstFd), Is.Null);
        Assert.That(env.Get("LISTEN_FDS"), Is.Null);
    }

    [Test]
    public void MissingNamesFallBackToOwnSocketsAndCloseThePassedOnes()
    {
        PassSockets("rw", "ro");
        Assert.That(SocketActivation.Take(Env(2, names: null), FirstFd), Is.Null);
        Assert.That(NativeTestHelpers.IsOpen(FirstFd), Is.False);
        Assert.That(NativeTestHelpers.IsOpen(FirstFd + 1), Is.False);
    }

    [Test]
    public void WrongNameCountFallsBackToOwnSockets()
    {
        PassSockets("rw", "ro");
        Assert.That(SocketActivation.Take(Env(2, "virtnetworkd.socket"), FirstFd), Is.Null);
        Assert.That(NativeTestHelpers.IsOpen(FirstFd), Is.False);
    }

    [TestCase("virtnetworkd.socket:virtnetworkd-tcp.socket")]
    [TestCase("virtnetworkd.socket:unknown")]
    [TestCase("virtnetworkd.socket:")]
    public void UnclaimedNamesAreFatal(string names)
    {
        PassSockets("rw", "other");
        var e = Assert.Throws<SocketActivationException>(() => SocketActivation.Take(Env(2, names), FirstFd))!;
        Assert.That(e.Message, Is.EqualTo("Some activation file descriptors are unclaimed"));
        Assert.That(NativeTestHelpers.IsOpen(FirstFd), Is.False);
        Assert.That(NativeTestHelpers.IsOpen(FirstFd + 1), Is.False);
    }

    [Test]
    public void DisposeClosesTheSockets()
    {
        PassSockets("rw");
        var act = SocketActivation.Take(Env(1, "virtnetworkd.socket"), FirstFd);
        act!.Dispose();
        Assert.That(NativeTestHelpers.IsOpen(FirstFd), Is.False);
    }

    [Test]
    public void NameConstants()
    {
        Assert.That(SocketActivation.NameOf(SocketRole.ReadWrite), Is.EqualTo("virtnetworkd.socket"));
        Assert.That(SocketActivation.NameOf(SocketRole.ReadOnly), Is.EqualTo("virtnetworkd-ro.socket"));
        Assert.That(SocketActivation.NameOf(SocketRole.Admin), Is.EqualTo("virtnetworkd-admin.socket"));
    }
}
