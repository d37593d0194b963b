using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace VirtNetworkd.Server.Host;

/// <summary>
/// What failed when a daemonized child could not start; libvirt sends the same codes to its
/// waiting parent (virDaemonErr).
/// </summary>
public enum DaemonStartError : byte
{
    None = 0,
    PidFile,
    RunDir,
    Init,
    Signal,
    Privileges,
    Network,
    Config,
    Hooks,
    Reexec,
    Audit,
    Driver,
}

/// <summary>
/// <c>-d</c>/<c>--daemon</c>. .NET cannot fork, so the parent starts the same program again,
/// without <c>-d</c>, with <see cref="StatusFdVariable"/> naming the write end of a pipe, and
/// waits on the pipe. The child detaches (<see cref="Detach"/>: new session, stdio on
/// /dev/null), starts up, and reports: <see cref="NotifyParentReady"/> once its sockets listen
/// and the PID file is written, or <see cref="NotifyParentFailed"/>. The parent exits 0, or
/// prints the error and exits 1, as libvirt's parent does.
/// <para>The pipe carries one status byte (0 = ready, else a <see cref="DaemonStartError"/>),
/// then, on failure, the error text in UTF-8.</para>
/// </summary>
public static class Daemonizer
{
    public const string StatusFdVariable = "VIRTNETWORKD_DAEMON_STATUS_FD";

    private static int s_statusFd = -1;

    /// <summary>
    /// Whether this process is the daemonized child (the marker variable is set). Its logging
    /// should be set up as for a daemon even though -d is no longer on its command line.
    /// </summary>
    public static bool IsDetachedChild(DaemonEnvironment env) => env.GetNonEmpty(StatusFdVariable) is not null;

    /// <summary>
    /// The child's command line: the options minus -d, in long form, with -f/-p made absolute
    /// (the child runs in <c>/</c>, as libvirt's daemon changes to <c>/</c> before forking).
    /// </summary>
    public static IReadOnlyList<string> ChildArguments(DaemonOptions options, string currentDirectory)
    {
        ArgumentNullException.ThrowIfNull(options);
        var args = new List<string>();
        if (options.Verbose)
            args.Add("--verbose");
        if (options.ConfigFile is not null)
        {
            args.Add("--config");
            args.Add(Absolute(options.ConfigFile, currentDirectory));
        }
        if (options.PidFile is not null)
        {
            args.Add("--pid-file");
            args.Add(Absolute(options.PidFile, currentDirectory));
        }
        if (options.Timeout > 0)
        {
            args.Add("--timeout");
            args.Add(options.Timeout.ToString(CultureInfo.InvariantCulture));
        }
        return args;
    }

    private static string Absolute(string path, string cwd) =>
        path.Length == 0 || Path.IsPathRooted(path) ? path : Path.GetFullPath(Path.Combine(cwd, path));

    /// <summary>
    /// The program to start and its arguments: <paramref name="processPath"/> itself, or, when it
    /// is the <c>dotnet</c> host, <c>dotnet</c> with <paramref name="entryAssemblyPath"/> first.
    /// </summary>
    public static (string FileName, IReadOnlyList<string> Arguments) ChildCommand(
        string processPath, string? entryAssemblyPath, DaemonOptions options, string currentDirectory)
    {
        var args = new List<string>();
        string host = Path.GetFileName(processPath);
        if ((host == "dotnet" || host == "dotnet.exe") && !string.IsNullOrEmpty(entryAssemblyPath))
            args.Add(entryAssemblyPath);
        args.AddRange(ChildArguments(options, currentDirectory));
        return (processPath, args);
    }

    /// <summary>
    /// The parent's side of -d for the real process: re-parses <paramref name="args"/> and
    /// starts the child (see <see cref="StartDetachedAndWait(DaemonOptions, string, TextWriter)"/>);
    /// errors go to stderr.
    /// </summary>
    public static int StartDetachedAndWait(string[] args, DaemonEnvironment env)
    {
        var parsed = DaemonOptions.Parse(args, DaemonPaths.DaemonName, env);
        if (parsed.Options is not { } options)
        {
            Console.Error.Write(parsed.StandardError);
            return parsed.ExitCode;
        }
        // Console.Error is only touched after the child started: opening it dup()s fd 2, and a
        // child that inherits such a copy holds our caller's stderr pipe open after we exit
        return StartDetachedAndWait(options, DaemonPaths.DaemonName, new LazyStderr());
    }

    private sealed class LazyStderr : TextWriter
    {
        public override Encoding Encoding => Encoding.UTF8;
        public override void Write(char value) => Console.Error.Write(value);
        public override void Write(string? value) => Console.Error.Write(value);
    }

    /// <summary>
    /// The parent's side of -d: starts the child, waits for its status and returns the exit code
    /// for the parent (0 when the daemon is up). Errors go to <paramref name="stderr"/>.
    /// </summary>
    public static int StartDetachedAndWait(DaemonOptions options, string programName, TextWriter stderr)
    {
        string processPath = Environment.ProcessPath
            ?? throw new InvalidOperationException("cannot locate the running executable");
        string[] cmdline = Environment.GetCommandLineArgs();
        var (file, args) = ChildCommand(processPath, cmdline.Length > 0 ? cmdline[0] : null, options,
                                        Environment.CurrentDirectory);
        return RunChildAndWait(file, args, programName, stderr);
    }

    /// <summary>Starts <paramref name="file"/> as the daemon child and waits for its report.</summary>
    internal static int RunChildAndWait(string file, IReadOnlyList<string> args, string programName, TextWriter stderr)
    {
        ArgumentNullException.ThrowIfNull(stderr);
        int readFd, writeFd;
        unsafe
        {
            int* fds = stackalloc int[2];
            if (LibC.Pipe2(fds, LibC.O_CLOEXEC) < 0)
            {
                stderr.Write($"{programName}: error: Failed to fork as daemon: {LibC.StrError(Marshal.GetLastPInvokeError())}\n");
                return 1;
            }
            readFd = fds[0];
            writeFd = fds[1];
        }

        using var reader = new FileStream(new SafeFileHandle(readFd, ownsHandle: true), FileAccess.Read, 1);
        Process child;
        try
        {
            LibC.SetCloseOnExec(writeFd, false); // only the child may inherit it
            var psi = new ProcessStartInfo(file) { UseShellExecute = false, WorkingDirectory = "/" };
            foreach (var a in args)
                psi.ArgumentList.Add(a);
            psi.Environment[StatusFdVariable] = writeFd.ToString(CultureInfo.InvariantCulture);
            child = Process.Start(psi) ?? throw new InvalidOperationException("no process started");
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            stderr.Write($"{programName}: error: Failed to fork as daemon: {e.Message}\n");
            return 1;
        }
        finally
        {
            LibC.Close(writeFd);
        }

        using (child)
        {
            int status = reader.ReadByte(); // blocks until the child reports, or dies
            if (status < 0)
            {
                string why = child.WaitForExit(2000)
                    ? $"daemon process exited with status {child.ExitCode}"
                    : "daemon process closed its status pipe";
                stderr.Write($"{programName}: error: unable to determine if daemon is running: {why}\n");
                return 1;
            }
            if (status == 0)
                return 0;
            var rest = new MemoryStream();
            reader.CopyTo(rest); // the error text, up to the child's exit
            string detail = Encoding.UTF8.GetString(rest.ToArray()).TrimEnd('\n');
            if (detail.Length > 0)
                stderr.Write($"{programName}: error: {detail}\n");
            stderr.Write($"{programName}: error: {Describe((DaemonStartError)status)}. " +
                         "Check /var/log/messages or run without --daemon for more info.\n");
            return 1;
        }
    }

    /// <summary>libvirt's text for each start-up failure.</summary>
    public static string Describe(DaemonStartError error) => error switch
    {
        DaemonStartError.None => "Initialization successful",
        DaemonStartError.PidFile => "Unable to obtain pidfile",
        DaemonStartError.RunDir => "Unable to create rundir",
        DaemonStartError.Init => "Unable to initialize libvirt",
        DaemonStartError.Signal => "Unable to setup signal handlers",
        DaemonStartError.Privileges => "Unable to drop privileges",
        DaemonStartError.Network => "Unable to initialize network sockets",
        DaemonStartError.Config => "Unable to load configuration file",
        DaemonStartError.Hooks => "Unable to look for hook scripts",
        DaemonStartError.Reexec => "Unable to re-execute daemon",
        DaemonStartError.Audit => "Unable to initialize audit system",
        DaemonStartError.Driver => "Unable to initialize driver",
        _ => "Unknown error",
    };

    /// <summary>
    /// The child's first step: takes the status fd from the environment (and removes the
    /// variable, so processes we start do not see it), starts a new session and puts stdin,
    /// stdout and stderr on /dev/null. Does nothing in a process that is not a daemon child.
    /// </summary>
    public static void Detach(DaemonEnvironment env)
    {
        ArgumentNullException.ThrowIfNull(env);
        if (env.GetNonEmpty(StatusFdVariable) is not { } text || !int.TryParse(text, out int fd) || fd < 0)
            return;
        env.Unset(StatusFdVariable);
        s_statusFd = fd;
        LibC.SetCloseOnExec(fd, true);
        LibC.SetSid();
        CloseCopiesOfStdio(fd);
        int nullIn = LibC.Open("/dev/null", LibC.O_RDONLY, 0);
        int nullOut = LibC.Open("/dev/null", LibC.O_WRONLY, 0);
        if (nullIn >= 0)
        {
            LibC.Dup2(nullIn, 0);
            LibC.Close(nullIn);
        }
        if (nullOut >= 0)
        {
            LibC.Dup2(nullOut, 1);
            LibC.Dup2(nullOut, 2);
            LibC.Close(nullOut);
        }
    }

    /// <summary>
    /// The runtime keeps inheritable duplicates of the standard streams it was started with; a
    /// daemon that kept them would hold its starter's pipes open forever. Closes every other
    /// descriptor that refers to what fds 0–2 refer to now.
    /// </summary>
    private static void CloseCopiesOfStdio(int keep)
    {
        var targets = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i <= 2; i++)
        {
            if (new FileInfo($"/proc/self/fd/{i}").LinkTarget is { } t && !t.StartsWith("/dev/null", StringComparison.Ordinal))
                targets.Add(t);
        }
        if (targets.Count == 0) return;
        foreach (var entry in Directory.GetFiles("/proc/self/fd"))
        {
            if (!int.TryParse(Path.GetFileName(entry), out int fd) || fd <= 2 || fd == keep) continue;
            if (new FileInfo(entry).LinkTarget is { } t && targets.Contains(t)) LibC.Close(fd);
        }
    }

    /// <summary>
    /// Tells the waiting parent that start-up succeeded; it then exits 0. Does nothing in a
    /// process that is not a daemon child.
    /// </summary>
    public static void NotifyParentReady(DaemonEnvironment env) => Report(env, [0]);

    /// <summary>
    /// Tells the waiting parent that start-up failed; it prints <paramref name="message"/> and
    /// libvirt's line for <paramref name="error"/>, and exits 1. Does nothing in a process that
    /// is not a daemon child.
    /// </summary>
    public static void NotifyParentFailed(DaemonEnvironment env, string message, DaemonStartError error = DaemonStartError.Init)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (error == DaemonStartError.None)
            error = DaemonStartError.Init;
        byte[] text = Encoding.UTF8.GetBytes(message);
        var payload = new byte[1 + text.Length];
        payload[0] = (byte)error;
        text.CopyTo(payload, 1);
        Report(env, payload);
    }

    private static void Report(DaemonEnvironment env, byte[] payload)
    {
        ArgumentNullException.ThrowIfNull(env);
        int fd = Interlocked.Exchange(ref s_statusFd, -1);
        if (fd < 0 && (env.GetNonEmpty(StatusFdVariable) is not { } text || !int.TryParse(text, out fd)))
            return;
        LibC.WriteAll(fd, payload);
        LibC.Close(fd);
    }
}
