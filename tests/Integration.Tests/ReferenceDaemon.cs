namespace VirtNetworkd.Integration.Tests;

/// <summary>
/// Debian's libvirtd with only its network driver, in its own network namespace
/// (../shared/reference/reference-daemon.sh): the oracle for differential tests. Started once
/// for the whole run, stopped at the end.
/// </summary>
/// <remarks>
/// Benchmarks start the same reference daemon, and two of them would share libvirt's real state
/// folders (/etc/libvirt/qemu/networks, /run/libvirt/network). Whoever runs it holds an exclusive
/// flock on <see cref="LockPath"/>: taken here before the start, held until the daemon has stopped.
/// </remarks>
[SetUpFixture]
public sealed class ReferenceDaemon
{
    public const string LockPath = "/tmp/vnd-reference.lock";
    private static readonly TimeSpan LockWait = TimeSpan.FromMinutes(15);
    private static readonly string Dir = Path.Combine(Path.GetTempPath(), "vnd-reference");
    private static string? s_uri;
    private static string? s_failure;
    private static FileStream? s_lock;

    public static string Uri
    {
        get
        {
            if (s_uri is null && s_failure is null) Start();
            if (s_failure is not null) Assert.Fail(s_failure);
            return s_uri!;
        }
    }

    /// <summary>The reference's read-write socket, for raw protocol clients.</summary>
    public static string SocketPath
    {
        get
        {
            _ = Uri;
            return Path.Combine(Dir, "libvirt-sock");
        }
    }

    /// <summary>The reference's admin socket (libvirtd's admin program, the same as ours).</summary>
    public static string AdminSocketPath
    {
        get
        {
            _ = Uri;
            return Path.Combine(Dir, "libvirt-admin-sock");
        }
    }

    private static void Start()
    {
        string script = Path.Combine(VirtNetworkd.Tests.Shared.RepoPaths.Shared, "reference", "reference-daemon.sh");
        if (!File.Exists(script))
        {
            s_failure = $"the reference daemon script {script} is missing: run the tests from a checkout with ../shared beside it";
            return;
        }
        Tools.Require("libvirtd", "libvirt-daemon");
        s_lock = TakeLock(out s_failure);
        if (s_lock is null) return;
        var r = Tools.Run("bash", [script, "start", Dir], timeoutMs: 120_000);
        if (r.ExitCode != 0)
        {
            s_failure = $"the reference daemon did not start (needs root, ip netns, libvirt-daemon):\n{r}";
            ReleaseLock();
            return;
        }
        s_uri = r.Stdout.Trim().Split('\n').Last();
    }

    /// <summary>
    /// On Linux a FileStream opened with FileShare.None holds flock(LOCK_EX|LOCK_NB) on the file,
    /// the lock `flock /tmp/vnd-reference.lock …` takes; while another holder has it, opening throws.
    /// </summary>
    private static FileStream? TakeLock(out string? failure)
    {
        var deadline = DateTime.UtcNow + LockWait;
        bool waited = false;
        while (true)
        {
            try
            {
                failure = null;
                return new FileStream(LockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException e)
            {
                if (DateTime.UtcNow >= deadline)
                {
                    failure = $"the reference daemon is in use: {LockPath} stayed locked by another process (a benchmark?) " +
                              $"for {LockWait.TotalMinutes} minutes ({e.Message}); find the holder with `fuser -v {LockPath}`";
                    return null;
                }
                if (!waited) TestContext.Progress.WriteLine($"waiting up to {LockWait.TotalMinutes} minutes for {LockPath} (the reference daemon is in use)");
                waited = true;
                Thread.Sleep(2_000);
            }
        }
    }

    private static void ReleaseLock()
    {
        s_lock?.Dispose();
        s_lock = null;
    }

    [OneTimeTearDown]
    public void StopReference()
    {
        if (s_uri is null)
        {
            ReleaseLock();
            return;
        }
        string script = Path.Combine(VirtNetworkd.Tests.Shared.RepoPaths.Shared, "reference", "reference-daemon.sh");
        string pidFile = Path.Combine(Dir, "pid");
        int pid = File.Exists(pidFile) && int.TryParse(File.ReadAllText(pidFile).Trim(), out int p) ? p : 0;
        Tools.Run("bash", [script, "stop", Dir], timeoutMs: 60_000);
        // the script only signals libvirtd: hold the lock until it is gone
        for (int i = 0; pid > 0 && i < 300 && Directory.Exists($"/proc/{pid}"); i++) Thread.Sleep(100);
        s_uri = null;
        ReleaseLock();
    }
}
