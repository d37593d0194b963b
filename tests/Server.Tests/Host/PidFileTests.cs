using System.Diagnostics;
using VirtNetworkd.Server.Host;

namespace VirtNetworkd.Server.Tests.Host;

public class PidFileTests
{
    private string _dir = "";

    [SetUp]
    public void SetUp() => _dir = TestEnv.TempDir();

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, true);

    [Test]
    public void WritesThePidAndRemovesTheFileOnDispose()
    {
        string path = Path.Combine(_dir, "virtnetworkd.pid");
        using (var pid = PidFile.Acquire(path))
        {
            Assert.That(pid.Path, Is.EqualTo(path));
            Assert.That(File.ReadAllText(path), Is.EqualTo(Environment.ProcessId.ToString()));
            Assert.That(File.GetUnixFileMode(path) & ~(UnixFileMode)0x12 /* umask bits */,
                        Is.EqualTo((UnixFileMode)0x1A4 & ~(UnixFileMode)0x12)); // 0644
        }
        Assert.That(File.Exists(path), Is.False);
    }

    [Test]
    public void ReplacesStaleContent()
    {
        string path = Path.Combine(_dir, "x.pid");
        File.WriteAllText(path, "99999999 stale content that is longer");
        using var pid = PidFile.Acquire(path, pid: 1234);
        Assert.That(File.ReadAllText(path), Is.EqualTo("1234"));
    }

    [Test]
    public void CreatesMissingDirectories()
    {
        string path = Path.Combine(_dir, "run/user/libvirt/virtnetworkd.pid");
        using var pid = PidFile.Acquire(path, directoryMode: UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        Assert.That(File.Exists(path), Is.True);
        Assert.That(File.GetUnixFileMode(Path.GetDirectoryName(path)!) & (UnixFileMode)0x3F, Is.EqualTo((UnixFileMode)0));
    }

    [Test]
    public void SecondAcquireFailsWhileTheFirstHoldsItAndSucceedsAfterDispose()
    {
        string path = Path.Combine(_dir, "virtnetworkd.pid");
        var first = PidFile.Acquire(path, pid: 111);
        var e = Assert.Throws<PidFileException>(() => PidFile.Acquire(path, pid: 222))!;
        Assert.That(e.Message, Is.EqualTo($"Failed to acquire pid file '{path}': Resource temporarily unavailable"));
        Assert.That(File.ReadAllText(path), Is.EqualTo("111"), "the loser must not touch the file");

        first.Dispose();
        Assert.That(File.Exists(path), Is.False);
        using var second = PidFile.Acquire(path, pid: 222);
        Assert.That(File.ReadAllText(path), Is.EqualTo("222"));
    }

    [Test]
    public void WaitingAcquireBlocksUntilTheHolderLetsGo()
    {
        string path = Path.Combine(_dir, "leaseshelper.pid");
        var first = PidFile.Acquire(path, pid: 111);
        var waiter = Task.Run(() => PidFile.Acquire(path, pid: 222, wait: true));
        Assert.That(waiter.Wait(300), Is.False, "the second waits while the first holds the lock");
        first.Dispose();
        Assert.That(waiter.Wait(5000), Is.True, "and takes it once it is free");
        using var second = waiter.Result;
        Assert.That(File.ReadAllText(path), Is.EqualTo("222"));
    }

    [Test]
    public void DisposeTwiceIsHarmless()
    {
        string path = Path.Combine(_dir, "a.pid");
        var pid = PidFile.Acquire(path);
        pid.Dispose();
        File.WriteAllText(path, "other daemon");
        pid.Dispose();
        Assert.That(File.ReadAllText(path), Is.EqualTo("other daemon"));
    }

    [Test]
    public void UnopenablePathFailsWithLibvirtsMessage()
    {
        string path = Path.Combine(_dir, "dir-not-file");
        Directory.CreateDirectory(path);
        var e = Assert.Throws<PidFileException>(() => PidFile.Acquire(path))!;
        Assert.That(e.Message, Is.EqualTo($"Failed to open pid file '{path}': Is a directory"));
    }

    private static Process Python(string script)
    {
        var psi = new ProcessStartInfo("python3") { RedirectStandardOutput = true, RedirectStandardInput = true };
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add(script);
        return Process.Start(psi)!;
    }

    [Test]
    public void ConflictsWithAnFcntlLockHeldByAnotherProcessAsLibvirtTakesIt()
    {
        string path = Path.Combine(_dir, "virtnetworkd.pid");
        // libvirt's virPidFileAcquirePath: fcntl(F_SETLK) write lock on byte 0, length 1
        using var holder = Python($"""
            import fcntl, os, sys
            fd = os.open({Quote(path)}, os.O_WRONLY | os.O_CREAT, 0o644)
            fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, 0)
            print("locked", flush=True)
            sys.stdin.readline()
            """);
        Assert.That(holder.StandardOutput.ReadLine(), Is.EqualTo("locked"));
        try
        {
            var e = Assert.Throws<PidFileException>(() => PidFile.Acquire(path))!;
            Assert.That(e.Message, Does.StartWith($"Failed to acquire pid file '{path}': "));
        }
        finally
        {
            holder.StandardInput.WriteLine();
            holder.WaitForExit();
        }
        using var ours = PidFile.Acquire(path);
        Assert.That(File.Exists(path), Is.True);
    }

    [Test]
    public void AnotherProcessCannotTakeTheFcntlLockWhileWeHoldIt()
    {
        string path = Path.Combine(_dir, "virtnetworkd.pid");
        using var ours = PidFile.Acquire(path);
        using var other = Python($"""
            import fcntl, os
            fd = os.open({Quote(path)}, os.O_WRONLY)
            try:
                fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, 0)
                print("got it")
            except OSError as e:
                print("busy", e.errno)
            """);
        string? line = other.StandardOutput.ReadLine();
        other.WaitForExit();
        Assert.That(line, Does.StartWith("busy"));
    }

    private static string Quote(string s) => "'" + s.Replace("\\", "\\\\").Replace("'", "\\'") + "'";
}
