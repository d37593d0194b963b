using System.Diagnostics;
using System.Globalization;
using System.Text;
using VirtNetworkd.Errors;
using VirtNetworkd.NetworkDriver.Driver;
using VirtNetworkd.NetworkDriver.Xml;

namespace VirtNetworkd.NetworkDriver.Backend.Dnsmasq;

/// <summary>
/// Where dnsmasq's files go and what it is started with: the state folders (libvirt's
/// dnsmasqStateDir and pidDir, re-rooted under VIRTNETWORKD_ROOT by the daemon), the
/// <c>--dhcp-script</c> (our leases helper), the binary (null: "dnsmasq" in PATH), and the
/// network namespace to start it in (tests; null: the daemon's own).
/// </summary>
public sealed record DnsmasqSettings(string StateDir, string PidDir, string LeasesHelper, string? Binary = null, string? NamespacePath = null)
{
    /// <summary>Variables dnsmasq passes on to the leases helper besides libvirt's VIR_BRIDGE_NAME:
    /// the daemon's VIRTNETWORKD_ROOT (and a session daemon's XDG_RUNTIME_DIR/HOME), so that the
    /// helper writes where the daemon reads. Empty for a system daemon at libvirt's paths.</summary>
    public IReadOnlyDictionary<string, string> HelperEnvironment { get; init; } = new Dictionary<string, string>();

    /// <summary>The leases helper's file name; it is installed next to the daemon.</summary>
    public const string LeasesHelperName = "virtnetworkd_leaseshelper";

    /// <summary>The environment variable that gives the daemon another --dhcp-script (tests, packagers).</summary>
    public const string LeasesHelperVariable = "VIRTNETWORKD_LEASES_HELPER";

    /// <summary>The leases helper next to the running daemon.</summary>
    public static string DefaultLeasesHelper => Path.Combine(AppContext.BaseDirectory, LeasesHelperName);

    public static DnsmasqSettings Default => new(DnsmasqPaths.DefaultStateDir, DnsmasqPaths.DefaultPidDir, DefaultLeasesHelper);
}

/// <summary>
/// The dnsmasq of a network as a process (libvirt's networkStartDhcpDaemon,
/// networkRefreshDhcpDaemon, networkRestartDhcpDaemon and the dnsmasq part of
/// networkShutdownNetworkVirtual and networkUpdateState): files written atomically, dnsmasq
/// started exactly as libvirt starts it (it daemonizes and writes its pid file), found again
/// after a daemon restart by its pid file and command line, stopped by waiting on a pidfd.
/// </summary>
public sealed class DnsmasqDaemon(DnsmasqSettings settings, DnsmasqCapsProbe probe, Action<string> log)
{
    private const UnixFileMode Mode0644 = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;

    /// <summary>How long a stopping dnsmasq gets after SIGTERM before SIGKILL.</summary>
    public static readonly TimeSpan StopGrace = TimeSpan.FromSeconds(5);

    public DnsmasqSettings Settings { get; } = settings;
    public DnsmasqPaths Paths { get; } = new(settings.StateDir, settings.PidDir);

    /// <summary>
    /// Writes the files and starts dnsmasq; returns its pid, or null when the network needs none
    /// (no &lt;ip&gt;, or no DHCP and DNS disabled). Errors are libvirt's.
    /// </summary>
    public int? Start(NetworkDef def)
    {
        ArgumentNullException.ThrowIfNull(def);
        if (!DnsmasqConfig.IsNeeded(def)) return null;
        MakeDir(Settings.PidDir);
        MakeDir(Settings.StateDir);
        DnsmasqCaps caps = probe.Get(Settings.Binary);
        string pidFile = Paths.PidFile(def.Name);
        DnsmasqFiles files = DnsmasqConfig.Generate(def, Paths, pidFile, caps, w => log($"network '{def.Name}': {w}"));
        string configFile = Paths.ConfigFile(def.Name);
        Write(configFile, files.Config, UnixFileMode.UserRead | UnixFileMode.UserWrite, "couldn't write dnsmasq config file '{0}'");
        WriteHosts(def.Name, files.Hosts);

        var args = CommandLine(caps, def);
        Run(args, def.Bridge!);
        return ReadPidFile(def.Name) ?? throw new LibvirtError(VirErrorCode.SystemError, VirErrorDomain.None,
            $"Failed to read pid file {pidFile}: No such file or directory");
    }

    /// <summary>networkBuildDhcpDaemonCommandLine: the binary and its three arguments.</summary>
    public IReadOnlyList<string> CommandLine(DnsmasqCaps caps, NetworkDef def)
    {
        ArgumentNullException.ThrowIfNull(caps);
        ArgumentNullException.ThrowIfNull(def);
        return [caps.BinaryPath, "--conf-file=" + Paths.ConfigFile(def.Name), "--leasefile-ro", "--dhcp-script=" + Settings.LeasesHelper];
    }

    /// <summary>
    /// networkRefreshDhcpDaemon: with a dnsmasq running, rewrite the hosts files and SIGHUP it;
    /// with none, start one. Returns the pid running afterwards.
    /// </summary>
    public int? Refresh(NetworkDef def, int? pid)
    {
        ArgumentNullException.ThrowIfNull(def);
        if (def.Ips.Count == 0) return pid;
        if (pid is not { } p || !ProcessExit.Alive(p)) return Start(def);
        log($"Refreshing dnsmasq for network {def.Bridge}");
        WriteHosts(def.Name, DnsmasqHosts.ForRefresh(def));
        if (!ProcessExit.Signal(p, ProcessExit.SigHup))
            throw new LibvirtError(VirErrorCode.SystemError, VirErrorDomain.Network,
                $"Failed to make dnsmasq (PID: {p}) reload config files.: No such process");
        return p;
    }

    /// <summary>networkRestartDhcpDaemon: stop the running one, then start as at network start.</summary>
    public int? Restart(NetworkDef def, int? pid)
    {
        ArgumentNullException.ThrowIfNull(def);
        if (pid is { } p) Stop(def, p);
        return Start(def);
    }

    /// <summary>
    /// The dnsmasq serving <paramref name="def"/> when one runs: the pid of the record, else of
    /// the pid file, provided that process is dnsmasq started with this network's config file
    /// (libvirt's virPidFileReadIfAlive checks the binary; a recycled pid must not be adopted).
    /// </summary>
    public int? Find(NetworkDef def, int? recordedPid)
    {
        ArgumentNullException.ThrowIfNull(def);
        string conf = Paths.ConfigFile(def.Name);
        if (recordedPid is { } r && IsDnsmasqFor(r, conf)) return r;
        if (ReadPidFile(def.Name) is { } f && IsDnsmasqFor(f, conf)) return f;
        return null;
    }

    /// <summary>
    /// Stops dnsmasq: SIGTERM, wait for the exit on a pidfd (at most <see cref="StopGrace"/>),
    /// then SIGKILL and wait again. A pid that is not this network's dnsmasq is left alone.
    /// </summary>
    public void Stop(NetworkDef def, int pid)
    {
        using var stopping = BeginStop(def, pid);
        stopping.Wait();
    }

    /// <summary>
    /// The first half of <see cref="Stop"/>: SIGTERM (the pidfd opened before it, so a recycled
    /// pid is never waited for); the caller does other work while dnsmasq exits, then calls
    /// <see cref="Stopping.Wait"/>.
    /// </summary>
    public Stopping BeginStop(NetworkDef def, int pid)
    {
        ArgumentNullException.ThrowIfNull(def);
        int pidFd = -1;
        if (IsDnsmasqFor(pid, Paths.ConfigFile(def.Name)))
        {
            pidFd = ProcessExit.Open(pid);
            if (pidFd >= 0) ProcessExit.Signal(pid, ProcessExit.SigTerm);
        }
        return new Stopping(this, def.Name, pid, pidFd);
    }

    /// <summary>A dnsmasq sent SIGTERM: <see cref="Wait"/> for its exit (SIGKILL after
    /// <see cref="StopGrace"/>) and the removal of its pid file.</summary>
    public sealed class Stopping(DnsmasqDaemon owner, string network, int pid, int pidFd) : IDisposable
    {
        private int _pidFd = pidFd;

        public void Wait()
        {
            if (_pidFd >= 0)
            {
                if (PosixIo.WaitFd(_pidFd, -1, (int)StopGrace.TotalMilliseconds) != _pidFd)
                {
                    owner.Log($"network '{network}': dnsmasq (pid {pid}) did not exit on SIGTERM; killing it");
                    ProcessExit.Signal(pid, ProcessExit.SigKill);
                    PosixIo.WaitFd(_pidFd, -1, (int)StopGrace.TotalMilliseconds);
                }
                Dispose();
            }
            try { File.Delete(owner.Paths.PidFile(network)); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }

        public void Dispose()
        {
            int fd = Interlocked.Exchange(ref _pidFd, -1);
            if (fd >= 0) _ = PosixIo.Close(fd);
        }
    }

    private void Log(string message) => log(message);

    /// <summary>
    /// networkRemoveInactive's unlinks: NAME.leases, BRIDGE.status (the leases), NAME.conf,
    /// BRIDGE.macs, NAME.hostsfile and NAME.addnhosts; missing files are fine.
    /// </summary>
    public void RemoveFiles(NetworkDef def)
    {
        ArgumentNullException.ThrowIfNull(def);
        var files = new List<string> { Path.Combine(Settings.StateDir, def.Name + ".leases"), Paths.ConfigFile(def.Name), Paths.HostsFile(def.Name), Paths.AddnHostsFile(def.Name) };
        if (def.Bridge is { } bridge)
        {
            files.Add(LeaseStatusFile.PathFor(Settings.StateDir, bridge));
            files.Add(Paths.MacMapFile(bridge));
        }
        foreach (string file in files)
        {
            try { File.Delete(file); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { log($"network '{def.Name}': cannot remove {file}: {e.Message}"); }
        }
    }

    /// <summary>Whether <paramref name="pid"/> runs a dnsmasq whose arguments name <paramref name="configFile"/>.</summary>
    public static bool IsDnsmasqFor(int pid, string configFile)
    {
        ArgumentNullException.ThrowIfNull(configFile);
        if (pid <= 0) return false;
        string cmdline;
        try { cmdline = File.ReadAllText($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/cmdline"); }
        catch (IOException) { return false; }
        catch (UnauthorizedAccessException) { return false; }
        string[] argv = cmdline.Split('\0', StringSplitOptions.RemoveEmptyEntries);
        return argv.Length > 0 && Path.GetFileName(argv[0]) == DnsmasqCaps.Binary && argv.Contains("--conf-file=" + configFile, StringComparer.Ordinal);
    }

    /// <summary>virPidFileRead: the pid in NAME.pid, or null.</summary>
    public int? ReadPidFile(string networkName)
    {
        try
        {
            string text = File.ReadAllText(Paths.PidFile(networkName)).Trim();
            return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int pid) && pid > 0 ? pid : null;
        }
        catch (IOException) { return null; }
        catch (UnauthorizedAccessException) { return null; }
    }

    /// <summary>dnsmasqSave: NAME.hostsfile and NAME.addnhosts, mode 0644 (dnsmasq rereads them as "nobody" on SIGHUP).</summary>
    private void WriteHosts(string networkName, DnsmasqHosts hosts)
    {
        Write(Paths.HostsFile(networkName), hosts.HostsFileText(), Mode0644, "cannot write config file '{0}'");
        Write(Paths.AddnHostsFile(networkName), hosts.AddnHostsText(), Mode0644, "cannot write config file '{0}'");
    }

    private static void Write(string path, string content, UnixFileMode mode, string error)
    {
        try
        {
            AtomicFile.Replace(path, content, mode); // made again at every start, as libvirt's: no fsync
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new LibvirtError(VirErrorCode.SystemError, VirErrorDomain.Network, string.Format(CultureInfo.InvariantCulture, error, path) + ": " + e.Message);
        }
    }

    private static void MakeDir(string dir)
    {
        try
        {
            Directory.CreateDirectory(dir);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new LibvirtError(VirErrorCode.SystemError, VirErrorDomain.Network, $"cannot create directory {dir}: {e.Message}");
        }
    }

    /// <summary>
    /// virCommandRun of dnsmasq: its environment is VIR_BRIDGE_NAME alone (libvirt's command has
    /// that one variable); the parent exits once the daemon has written its pid file.
    /// </summary>
    private void Run(IReadOnlyList<string> args, string bridge)
    {
        var psi = new ProcessStartInfo { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true, RedirectStandardInput = true };
        if (Settings.NamespacePath is { } ns)
        {
            psi.FileName = "nsenter";
            psi.ArgumentList.Add("--net=" + ns);
            psi.ArgumentList.Add("--");
        }
        else
        {
            psi.FileName = args[0];
        }
        foreach (string a in Settings.NamespacePath is null ? args.Skip(1) : args) psi.ArgumentList.Add(a);
        psi.Environment.Clear();
        psi.Environment["VIR_BRIDGE_NAME"] = bridge;
        foreach (var (k, v) in Settings.HelperEnvironment) psi.Environment[k] = v;
        string shown = "VIR_BRIDGE_NAME=" + bridge + " " + string.Join(' ', args);
        using Process p = Process.Start(psi) ?? throw new LibvirtError(VirErrorCode.InternalError, VirErrorDomain.None, $"Cannot run {args[0]}");
        p.StandardInput.Close();
        // dnsmasq's daemon child keeps the pipes open; read until the parent is gone, not until EOF
        var stderr = new StringBuilder();
        var stderrClosed = new ManualResetEventSlim(); // not disposed: the end of the pipe may come after this returns
        p.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null) stderrClosed.Set();
            else lock (stderr) stderr.Append(e.Data).Append('\n');
        };
        p.BeginErrorReadLine();
        p.WaitForExit(30_000);
        if (!p.HasExited)
        {
            p.Kill();
            throw new LibvirtError(VirErrorCode.InternalError, VirErrorDomain.None, $"Child process ({shown}) did not exit");
        }
        if (p.ExitCode != 0)
        {
            // a dnsmasq that failed has no daemon child holding the pipe: its end comes, with the last lines
            stderrClosed.Wait(TimeSpan.FromSeconds(2));
            string err;
            lock (stderr) err = stderr.ToString();
            throw new LibvirtError(VirErrorCode.InternalError, VirErrorDomain.None,
                $"Child process ({shown}) unexpected exit status {p.ExitCode}: {err.TrimEnd('\n')}");
        }
    }
}
