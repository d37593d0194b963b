using System.Diagnostics;
using System.Text;
using VirtNetworkd.NetworkDriver.Backend.Dnsmasq;
using VirtNetworkd.Server.Host;
using VirtNetworkd.Tests.Shared;

namespace VirtNetworkd.Integration.Tests;

/// <summary>
/// The built leases helper (virtnetworkd_leaseshelper, next to the daemon) as dnsmasq runs it:
/// against libvirt 11.3's own libvirt_leaseshelper (the same calls, the same status file bytes,
/// stdout and exit codes), under its lock, written atomically, and read back by the daemon through
/// virsh net-dhcp-leases.
/// </summary>
public sealed class LeasesHelperTests
{
    private string _root = "";

    [SetUp]
    public void NewRoot() => _root = DaemonProcess.NewRoot();

    [TearDown]
    public void RemoveRoot()
    {
        try { Directory.Delete(_root, recursive: true); } catch (IOException) { }
    }

    private static string Helper
    {
        get
        {
            string path = DnsmasqSettings.DefaultLeasesHelper;
            Assert.That(File.Exists(path), Is.True, $"{path} is built with src/Server (it references src/LeasesHelper)");
            return path;
        }
    }

    private string StateDir => Path.Combine(_root, "var/lib/libvirt/dnsmasq");

    private string StatusFile => Path.Combine(StateDir, LeasesHelperStep.Bridge + ".status");

    public sealed record Run(int ExitCode, string Stdout, string Stderr);

    private static Run Exec(ProcessStartInfo psi, int timeoutMs = 30_000)
    {
        psi.RedirectStandardOutput = true;
        psi.RedirectStandardError = true;
        psi.UseShellExecute = false;
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(timeoutMs))
        {
            p.Kill(entireProcessTree: true);
            Assert.Fail($"{psi.FileName} {string.Join(' ', psi.ArgumentList)} did not finish in {timeoutMs} ms");
        }
        return new Run(p.ExitCode, stdout.Result, stderr.Result);
    }

    private static ProcessStartInfo Start(string program, IEnumerable<(string Key, string Value)> env, IEnumerable<string> args)
    {
        var psi = new ProcessStartInfo(program);
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment.Clear();
        psi.Environment["PATH"] = "/usr/sbin:/usr/bin:/sbin:/bin";
        if (Environment.GetEnvironmentVariable("DOTNET_ROOT") is { } dotnetRoot) psi.Environment["DOTNET_ROOT"] = dotnetRoot;
        foreach (var (k, v) in env) psi.Environment[k] = v;
        return psi;
    }

    /// <summary>Our helper, as dnsmasq runs it, on the status files under <see cref="_root"/>.</summary>
    private Run Ours(LeasesHelperStep step) =>
        Exec(Start(Helper, step.FullEnv().Append(("VIRTNETWORKD_ROOT", _root)), step.Args));

    private const string TrixieRoot = "/var/cache/virtnetworkd/trixie-root";

    /// <summary>
    /// libvirt 11.3's libvirt_leaseshelper from the Debian 13 root of reference-daemon-11.sh, in a
    /// private mount namespace whose /run and /var/lib/libvirt are empty tmpfs (nothing of the host's
    /// is touched); <paramref name="file"/> is copied in before and out after.
    /// </summary>
    private static Run Libvirt(LeasesHelperStep step, string file)
    {
        string root = Environment.GetEnvironmentVariable("ROOT") ?? TrixieRoot;
        if (!File.Exists(Path.Combine(root, "usr/lib/libvirt/libvirt_leaseshelper")))
        {
            string script = Path.Combine(RepoPaths.Shared, "reference", "reference-daemon-11.sh");
            var build = Tools.Run("bash", [script, "run", "true"], timeoutMs: 900_000);
            Assert.That(build.ExitCode, Is.Zero, $"building libvirt 11.3's root with {script} failed (root, debootstrap and the Debian mirror are needed):\n{build}");
        }
        const string Script = """
            set -e
            R=$1; f=$2; b=$3; shift 3
            mount -t tmpfs none "$R/var/lib/libvirt"; mkdir "$R/var/lib/libvirt/dnsmasq"
            mount -t tmpfs none "$R/run"
            if [ -f "$f" ]; then cp "$f" "$R/var/lib/libvirt/dnsmasq/$b.status"; fi
            set +e
            chroot "$R" /usr/lib/libvirt/libvirt_leaseshelper "$@"; rc=$?
            if [ -f "$R/var/lib/libvirt/dnsmasq/$b.status" ]; then cp "$R/var/lib/libvirt/dnsmasq/$b.status" "$f"; fi
            exit $rc
            """;
        string bridge = step.FullEnv().FirstOrDefault(e => e.Key is "DNSMASQ_INTERFACE" or "VIR_BRIDGE_NAME").Value ?? "none";
        return Exec(Start(Tools.Require("unshare", "util-linux"), step.FullEnv(),
            new[] { "-m", "--propagation", "private", "sh", "-c", Script, "sh", root, file, bridge }.Concat(step.Args)));
    }

    [Test]
    public void SameFileStdoutAndExitCodeAsLibvirtsHelper()
    {
        string theirs = Path.Combine(_root, "libvirt.status");
        string? golden = Environment.GetEnvironmentVariable("VN_WRITE_LEASES_GOLDEN");
        Directory.CreateDirectory(StateDir);
        int i = 0;
        foreach (var step in LeasesHelperScenario.Steps)
        {
            string tag = $"{i++:00}-{step.Name}";
            if (step.FileBefore is { } before)
            {
                File.WriteAllBytes(theirs, before);
                File.WriteAllBytes(StatusFile, before);
            }
            var expected = Libvirt(step, theirs);
            var actual = Ours(step);
            Assert.That(actual.ExitCode, Is.EqualTo(expected.ExitCode), $"{tag}: exit code\nlibvirt: {expected.Stderr}\nours: {actual.Stderr}");
            Assert.That(actual.Stdout, Is.EqualTo(expected.Stdout), $"{tag}: stdout");
            byte[] want = File.Exists(theirs) ? File.ReadAllBytes(theirs) : [];
            byte[] got = File.Exists(StatusFile) ? File.ReadAllBytes(StatusFile) : [];
            Assert.That(Encoding.UTF8.GetString(got), Is.EqualTo(Encoding.UTF8.GetString(want)), $"{tag}: status file");
            Assert.That(got, Is.EqualTo(want), $"{tag}: status file bytes");
            if (golden is not null)
            {
                Directory.CreateDirectory(golden);
                File.WriteAllBytes(Path.Combine(golden, tag + ".status"), want);
                File.WriteAllText(Path.Combine(golden, tag + ".stdout"), expected.Stdout);
                File.WriteAllText(Path.Combine(golden, tag + ".rc"), expected.ExitCode + "\n");
            }
        }
        Assert.That(Directory.GetFiles(StateDir).Select(Path.GetFileName), Is.EqualTo(new[] { LeasesHelperStep.Bridge + ".status" }),
            "no temporary file is left beside the status file");
        Assert.That(File.GetUnixFileMode(StatusFile), Is.EqualTo(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead));
        Assert.That(File.Exists(Path.Combine(_root, "run/leaseshelper.pid")), Is.False, "the lock file is removed on exit");
    }

    private static LeasesHelperStep Add(int n, long expiry = 1700000000) =>
        new($"add{n}", ["add", $"52:54:00:00:01:{n:x2}", $"192.168.122.{n + 2}"], [("DNSMASQ_LEASE_EXPIRES", expiry.ToString(System.Globalization.CultureInfo.InvariantCulture))]);

    [Test]
    public void WaitsForTheLockAnotherProcessHolds()
    {
        string pidFile = Path.Combine(_root, "run/leaseshelper.pid");
        var held = PidFile.Acquire(pidFile, pid: 1);
        Process helper;
        try
        {
            helper = Process.Start(Start(Helper, Add(1).FullEnv().Append(("VIRTNETWORKD_ROOT", _root)), Add(1).Args))!;
            Assert.That(helper.WaitForExit(700), Is.False, "the helper waits while another process holds the lock");
            Assert.That(File.Exists(StatusFile), Is.False, "and has not touched the status file");
        }
        finally
        {
            held.Dispose();
        }
        Assert.That(helper.WaitForExit(10_000), Is.True, "it goes on once the lock is free");
        Assert.That(helper.ExitCode, Is.Zero);
        Assert.That(File.ReadAllText(StatusFile), Does.Contain("\"mac-address\": \"52:54:00:00:01:01\""));
        helper.Dispose();
    }

    [Test]
    public void ConcurrentHelpersLoseNoLeaseAndReadersNeverSeeAPartialFile()
    {
        const int N = 12;
        Directory.CreateDirectory(StateDir);
        File.WriteAllText(StatusFile, "[]\n");
        using var stop = new CancellationTokenSource();
        int reads = 0;
        string? partial = null;
        var reader = Task.Run(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                byte[] bytes = File.ReadAllBytes(StatusFile);
                try
                {
                    if (LeaseJsonText.Parse(bytes).Kind != NetworkDriver.Backend.Dnsmasq.LeaseJsonKind.Array) partial = Encoding.UTF8.GetString(bytes);
                }
                catch (LeaseJsonException)
                {
                    partial = Encoding.UTF8.GetString(bytes);
                }
                reads++;
            }
        });
        var runs = Enumerable.Range(1, N).Select(n => Task.Run(() => Ours(Add(n)))).ToArray();
        Task.WaitAll(runs);
        stop.Cancel();
        reader.Wait();
        Assert.That(runs.Select(r => r.Result.ExitCode), Is.All.Zero, string.Join("\n", runs.Select(r => r.Result.Stderr)));
        Assert.That(partial, Is.Null, "a reader saw a file that was not whole");
        Assert.That(reads, Is.GreaterThan(0));
        var leases = LeaseJsonText.Parse(File.ReadAllBytes(StatusFile));
        Assert.That(leases.Items.Select(l => l.GetString("mac-address")).Order(),
            Is.EqualTo(Enumerable.Range(1, N).Select(n => $"52:54:00:00:01:{n:x2}").Order()), "every helper's lease is there");
        Assert.That(Directory.GetFiles(StateDir).Length, Is.EqualTo(1), "no temporary file is left");
    }
}
