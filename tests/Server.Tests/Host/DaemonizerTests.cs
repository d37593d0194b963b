using System.Runtime.InteropServices;
using System.Text;
using VirtNetworkd.Server.Host;

namespace VirtNetworkd.Server.Tests.Host;

[NonParallelizable]
public class DaemonizerTests
{
    [Test]
    public void ChildArgumentsDropDaemonAndKeepTheRest()
    {
        var o = new DaemonOptions { Daemon = true, Verbose = true, ConfigFile = "/etc/x.conf", PidFile = "/run/x.pid", Timeout = 120 };
        Assert.That(Daemonizer.ChildArguments(o, "/home/u"),
                    Is.EqualTo(new[] { "--verbose", "--config", "/etc/x.conf", "--pid-file", "/run/x.pid", "--timeout", "120" }));
    }

    [Test]
    public void ChildArgumentsOfAPlainDaemonAreEmpty() =>
        Assert.That(Daemonizer.ChildArguments(new DaemonOptions { Daemon = true }, "/"), Is.Empty);

    [Test]
    public void RelativePathsBecomeAbsoluteBecauseTheChildRunsInRoot()
    {
        var o = new DaemonOptions { Daemon = true, ConfigFile = "conf/v.conf", PidFile = "../v.pid" };
        Assert.That(Daemonizer.ChildArguments(o, "/home/u/work"),
                    Is.EqualTo(new[] { "--config", "/home/u/work/conf/v.conf", "--pid-file", "/home/u/v.pid" }));
    }

    [Test]
    public void ChildArgumentsRoundTripThroughTheParser()
    {
        var parsed = DaemonOptions.Parse(["-vdf/etc/a.conf", "-t", "30", "--pid-file=/run/p.pid"], "virtnetworkd", TestEnv.Root()).Options!;
        var child = DaemonOptions.Parse([.. Daemonizer.ChildArguments(parsed, "/")], "virtnetworkd", TestEnv.Root()).Options!;
        Assert.That(child, Is.EqualTo(parsed with { Daemon = false }));
    }

    [Test]
    public void ChildCommandForAnApphostOrNativeExecutable()
    {
        var (file, args) = Daemonizer.ChildCommand("/usr/sbin/virtnetworkd", "/usr/sbin/virtnetworkd",
                                                   new DaemonOptions { Daemon = true, Verbose = true }, "/");
        Assert.That(file, Is.EqualTo("/usr/sbin/virtnetworkd"));
        Assert.That(args, Is.EqualTo(new[] { "--verbose" }));
    }

    [Test]
    public void ChildCommandUnderTheDotnetHostPassesTheAssembly()
    {
        var (file, args) = Daemonizer.ChildCommand("/usr/share/dotnet/dotnet", "/opt/vn/virtnetworkd.dll",
                                                   new DaemonOptions { Daemon = true, Timeout = 5 }, "/");
        Assert.That(file, Is.EqualTo("/usr/share/dotnet/dotnet"));
        Assert.That(args, Is.EqualTo(new[] { "/opt/vn/virtnetworkd.dll", "--timeout", "5" }));
    }

    [Test]
    public void DescribeUsesLibvirtsTexts()
    {
        Assert.That(Daemonizer.Describe(DaemonStartError.PidFile), Is.EqualTo("Unable to obtain pidfile"));
        Assert.That(Daemonizer.Describe(DaemonStartError.Network), Is.EqualTo("Unable to initialize network sockets"));
        Assert.That(Daemonizer.Describe(DaemonStartError.Config), Is.EqualTo("Unable to load configuration file"));
        Assert.That(Daemonizer.Describe(DaemonStartError.Driver), Is.EqualTo("Unable to initialize driver"));
    }

    [Test]
    public void DetectsTheChildByItsMarker()
    {
        Assert.That(Daemonizer.IsDetachedChild(TestEnv.Root()), Is.False);
        Assert.That(Daemonizer.IsDetachedChild(TestEnv.Root((Daemonizer.StatusFdVariable, "7"))), Is.True);
    }

    private static unsafe (int Read, int Write) Pipe()
    {
        int* fds = stackalloc int[2];
        Assert.That(NativeTestHelpers.Pipe(fds), Is.Zero);
        return (fds[0], fds[1]);
    }

    private static byte[] ReadAll(int fd)
    {
        using var fs = new FileStream(new Microsoft.Win32.SafeHandles.SafeFileHandle(fd, true), FileAccess.Read, 1);
        var ms = new MemoryStream();
        fs.CopyTo(ms);
        return ms.ToArray();
    }

    [Test]
    public void ChildReportsFailureThroughThePipe()
    {
        var (r, w) = Pipe();
        var env = TestEnv.Root((Daemonizer.StatusFdVariable, w.ToString()));
        Daemonizer.NotifyParentFailed(env, "Failed to acquire pid file '/run/virtnetworkd.pid': Resource temporarily unavailable",
                                      DaemonStartError.PidFile);
        Assert.That(NativeTestHelpers.IsOpen(w), Is.False, "the write end is closed after reporting");
        byte[] got = ReadAll(r);
        Assert.That(got[0], Is.EqualTo((byte)DaemonStartError.PidFile));
        Assert.That(Encoding.UTF8.GetString(got, 1, got.Length - 1),
                    Is.EqualTo("Failed to acquire pid file '/run/virtnetworkd.pid': Resource temporarily unavailable"));
    }

    [Test]
    public void ChildReportsReadyThroughThePipeOnlyOnce()
    {
        var (r, w) = Pipe();
        var env = TestEnv.Root((Daemonizer.StatusFdVariable, w.ToString()));
        Daemonizer.NotifyParentReady(env);
        Assert.That(ReadAll(r), Is.EqualTo(new byte[] { 0 }));
    }

    [Test]
    public void NotifyingOutsideADaemonChildDoesNothing()
    {
        Assert.DoesNotThrow(() => Daemonizer.NotifyParentReady(TestEnv.Root()));
        Assert.DoesNotThrow(() => Daemonizer.NotifyParentFailed(TestEnv.Root(), "x"));
    }

    private static (int Code, string Stderr) RunShellChild(string script)
    {
        var stderr = new StringWriter();
        int code = Daemonizer.RunChildAndWait("/bin/bash", ["-c", script], "virtnetworkd", stderr);
        return (code, stderr.ToString());
    }

    [Test]
    public void ParentExitsZeroWhenTheChildIsReady()
    {
        // the child inherits the write end, named by the variable, and runs in /
        var (code, err) = RunShellChild("""
            [ "$(pwd)" = / ] || exit 3
            printf '\000' >&"$VIRTNETWORKD_DAEMON_STATUS_FD"
            """);
        Assert.That(err, Is.Empty);
        Assert.That(code, Is.Zero);
    }

    [Test]
    public void ParentPrintsTheChildsErrorAndExitsOne()
    {
        var (code, err) = RunShellChild("""printf '\001pid file is locked' >&"$VIRTNETWORKD_DAEMON_STATUS_FD"; exit 1""");
        Assert.That(code, Is.EqualTo(1));
        Assert.That(err, Is.EqualTo(
            "virtnetworkd: error: pid file is locked\n" +
            "virtnetworkd: error: Unable to obtain pidfile. Check /var/log/messages or run without --daemon for more info.\n"));
    }

    [Test]
    public void ParentReportsAChildThatDiedSilently()
    {
        var (code, err) = RunShellChild("exit 4");
        Assert.That(code, Is.EqualTo(1));
        Assert.That(err, Is.EqualTo("virtnetworkd: error: unable to determine if daemon is running: daemon process exited with status 4\n"));
    }

    [Test]
    public void ParentReturnsWhileTheReadyChildKeepsRunning()
    {
        string marker = Path.Combine(Path.GetTempPath(), "vnd-daemon-" + Guid.NewGuid().ToString("N"));
        try
        {
            var started = DateTime.UtcNow;
            var (code, _) = RunShellChild($"""
                printf '\000' >&"$VIRTNETWORKD_DAEMON_STATUS_FD"
                sleep 3; touch '{marker}'
                """);
            Assert.That(code, Is.Zero);
            Assert.That(File.Exists(marker), Is.False, "the parent did not wait for the child to finish");
            Assert.That(DateTime.UtcNow - started, Is.LessThan(TimeSpan.FromSeconds(3)));
            SpinWait.SpinUntil(() => File.Exists(marker), TimeSpan.FromSeconds(10));
            Assert.That(File.Exists(marker), Is.True);
        }
        finally
        {
            File.Delete(marker);
        }
    }
}
