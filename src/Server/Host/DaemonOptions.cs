using System.Text;
using VirtNetworkd.NetworkDriver;
using VirtNetworkd.Server.Host.Logging;

namespace VirtNetworkd.Server.Host;

/// <summary>
/// virtnetworkd's command line, parsed the way libvirt's daemon parses it: GNU
/// <c>getopt_long</c> with the short options <c>df:p:t:vVh</c> and the long options
/// <c>--verbose --daemon --config --timeout --pid-file --version --help</c>. Long options may
/// be abbreviated to any unambiguous prefix and take their value as <c>--opt=V</c> or as the
/// next argument; short options cluster (<c>-vd</c>) and take <c>-fFILE</c> or <c>-f FILE</c>.
/// Arguments that are not options are an error, as in libvirt.
/// </summary>
public sealed record DaemonOptions
{
    /// <summary>-d / --daemon: detach and write the PID file.</summary>
    public bool Daemon { get; init; }

    /// <summary>-v / --verbose.</summary>
    public bool Verbose { get; init; }

    /// <summary>-f / --config FILE, or null for the default config file.</summary>
    public string? ConfigFile { get; init; }

    /// <summary>-p / --pid-file FILE, or null for the default PID file.</summary>
    public string? PidFile { get; init; }

    /// <summary>-t / --timeout SECONDS; 0 means no idle timeout.</summary>
    public int Timeout { get; init; }

    private enum Opt { Verbose, Daemon, Config, Timeout, PidFile, Version, Help }

    // Same order as libvirt's option table: getopt lists ambiguous candidates in this order.
    private static readonly (string Name, bool HasArg, Opt Id)[] LongOptions =
    [
        ("verbose", false, Opt.Verbose),
        ("daemon", false, Opt.Daemon),
        ("config", true, Opt.Config),
        ("timeout", true, Opt.Timeout),
        ("pid-file", true, Opt.PidFile),
        ("version", false, Opt.Version),
        ("help", false, Opt.Help),
    ];

    /// <summary>Parses the real process's arguments (privileged-ness from the real euid).</summary>
    public static DaemonOptionsResult Parse(string[] args) =>
        Parse(args, DaemonPaths.DaemonName, DaemonEnvironment.Current);

    /// <summary>
    /// Parses <paramref name="args"/> (without argv[0]). <paramref name="programName"/> is what
    /// libvirt prints as argv[0] in messages, the usage text and the version line.
    /// <paramref name="env"/> decides which default paths the usage text shows.
    /// </summary>
    public static DaemonOptionsResult Parse(string[] args, string programName, DaemonEnvironment env)
    {
        ArgumentNullException.ThrowIfNull(args);
        var o = new DaemonOptions();
        var nonOptions = new List<string>();
        int i = 0;

        DaemonOptionsResult Fail(string getoptMessage) =>
            DaemonOptionsResult.Exit(1, "", getoptMessage + Usage(programName, env));

        while (i < args.Length)
        {
            string a = args[i++];
            if (a == "--")
            {
                for (; i < args.Length; i++)
                    nonOptions.Add(args[i]);
                break;
            }
            if (a.Length < 2 || a[0] != '-')
            {
                nonOptions.Add(a); // getopt permutes these to the end
                continue;
            }

            Opt id;
            string? value = null;
            if (a.StartsWith("--", StringComparison.Ordinal))
            {
                string body = a[2..];
                int eq = body.IndexOf('=');
                string name = eq >= 0 ? body[..eq] : body;
                var match = FindLong(name, out var candidates);
                if (match is null)
                {
                    return candidates.Count > 1
                        ? Fail($"{programName}: option '--{body}' is ambiguous; possibilities:"
                               + string.Concat(candidates.Select(c => $" '--{c}'")) + "\n")
                        : Fail($"{programName}: unrecognized option '--{body}'\n");
                }
                var (fullName, hasArg, optId) = match.Value;
                id = optId;
                if (eq >= 0)
                {
                    if (!hasArg)
                        return Fail($"{programName}: option '--{fullName}' doesn't allow an argument\n");
                    value = body[(eq + 1)..];
                }
                else if (hasArg)
                {
                    if (i >= args.Length)
                        return Fail($"{programName}: option '--{fullName}' requires an argument\n");
                    value = args[i++];
                }
                var r = Apply(ref o, id, value, programName, env);
                if (r is not null)
                    return r;
                continue;
            }

            // A cluster of short options: -vd, -fFILE, -vf FILE.
            for (int k = 1; k < a.Length; k++)
            {
                char c = a[k];
                Opt? sid = c switch
                {
                    'd' => Opt.Daemon,
                    'f' => Opt.Config,
                    'p' => Opt.PidFile,
                    't' => Opt.Timeout,
                    'v' => Opt.Verbose,
                    'V' => Opt.Version,
                    'h' => Opt.Help,
                    _ => null,
                };
                if (sid is null)
                    return Fail($"{programName}: invalid option -- '{c}'\n");
                value = null;
                if (sid is Opt.Config or Opt.PidFile or Opt.Timeout)
                {
                    if (k + 1 < a.Length)
                        value = a[(k + 1)..];
                    else if (i < args.Length)
                        value = args[i++];
                    else
                        return Fail($"{programName}: option requires an argument -- '{c}'\n");
                    k = a.Length; // the rest of the cluster was the value
                }
                var r = Apply(ref o, sid.Value, value, programName, env);
                if (r is not null)
                    return r;
            }
        }

        if (nonOptions.Count > 0)
            return DaemonOptionsResult.Exit(1, "", $"{programName}: unexpected, non-option, command line arguments\n");

        return DaemonOptionsResult.Run(o);
    }

    private static DaemonOptionsResult? Apply(ref DaemonOptions o, Opt id, string? value, string programName,
                                              DaemonEnvironment env)
    {
        switch (id)
        {
            case Opt.Verbose:
                o = o with { Verbose = true };
                break;
            case Opt.Daemon:
                o = o with { Daemon = true };
                break;
            case Opt.Config:
                o = o with { ConfigFile = value };
                break;
            case Opt.PidFile:
                o = o with { PidFile = value };
                break;
            case Opt.Timeout:
                if (!TryParseTimeout(value!, out int t))
                {
                    // libvirt reports this through its logger, before logging is configured:
                    // the version and hostname lines, then the error, on stderr.
                    return DaemonOptionsResult.Exit(1, "",
                        LogFormat.FormatEarlyMessage(LogPriority.Error, "main", 0, "Invalid value for timeout"));
                }
                o = o with { Timeout = t };
                break;
            case Opt.Version:
                return DaemonOptionsResult.Exit(0, $"{programName} (libvirt) {DriverInfo.LibVersionString}\n", "");
            case Opt.Help:
                return DaemonOptionsResult.Exit(0, "", Usage(programName, env));
        }
        return null;
    }

    private static (string Name, bool HasArg, Opt Id)? FindLong(string name, out List<string> candidates)
    {
        candidates = [];
        (string, bool, Opt)? found = null;
        foreach (var opt in LongOptions)
        {
            if (opt.Name == name)
            {
                candidates.Clear();
                return opt;
            }
            if (opt.Name.StartsWith(name, StringComparison.Ordinal))
            {
                candidates.Add(opt.Name);
                found ??= opt;
            }
        }
        return candidates.Count == 1 ? found : null;
    }

    /// <summary>
    /// libvirt's timeout rule: strtol base 10 (leading blanks and a sign allowed, trailing text
    /// ignored), at least one digit, 0 ≤ value ≤ INT_MAX/1000.
    /// </summary>
    internal static bool TryParseTimeout(string s, out int value)
    {
        value = 0;
        int p = 0;
        while (p < s.Length && (s[p] == ' ' || (s[p] >= '\t' && s[p] <= '\r')))
            p++;
        bool neg = false;
        if (p < s.Length && (s[p] == '+' || s[p] == '-'))
            neg = s[p++] == '-';
        int start = p;
        long v = 0;
        while (p < s.Length && char.IsAsciiDigit(s[p]))
        {
            v = v * 10 + (s[p] - '0');
            if (v > int.MaxValue)
                return false; // out of int range: libvirt's virStrToLong_i fails too
            p++;
        }
        if (p == start)
            return false;
        if (neg)
            v = -v;
        if (v < 0 || v > int.MaxValue / 1000)
            return false;
        value = (int)v;
        return true;
    }

    /// <summary>
    /// The help text, laid out as libvirt's daemon usage (it goes to stderr, as libvirt's does),
    /// with the default paths of a privileged or an unprivileged daemon.
    /// </summary>
    public static string Usage(string programName, DaemonEnvironment env)
    {
        bool priv = env.Privileged;
        var paths = DaemonPaths.Create(env);
        string R(string p) => paths.Reroot(p);
        (string Opts, string Help)[] help =
        [
            ("-h | --help", "Show this help and exit"),
            ("-v | --verbose", "Log informational messages too"),
            ("-d | --daemon", "Detach into the background and write the PID file"),
            ("-t | --timeout <secs>", "Exit after this many idle seconds"),
            ("-f | --config <file>", "Use this configuration file"),
            ("-V | --version", "Show the version and exit"),
            ("-p | --pid-file <file>", "Use this PID file"),
        ];

        var sb = new StringBuilder();
        sb.Append('\n');
        sb.Append("Usage:\n");
        sb.Append($"  {programName} [options]\n");
        sb.Append('\n');
        sb.Append("Options:\n");
        foreach (var (opts, text) in help)
            sb.Append($"  {opts,-22} {text}\n");
        sb.Append('\n');
        sb.Append("libvirt virtual network management daemon:\n");
        sb.Append('\n');
        sb.Append("  Default paths:\n");
        sb.Append('\n');
        sb.Append("    Configuration file (unless overridden by -f):\n");
        sb.Append($"      {(priv ? R("/etc") : "$XDG_CONFIG_HOME")}/libvirt/{DaemonPaths.DaemonName}.conf\n");
        sb.Append('\n');
        sb.Append("    Sockets:\n");
        string runDir = priv ? R("/run") : "$XDG_RUNTIME_DIR";
        sb.Append($"      {runDir}/libvirt/{DaemonPaths.DaemonName}-sock\n");
        if (priv)
            sb.Append($"      {runDir}/libvirt/{DaemonPaths.DaemonName}-sock-ro\n");
        sb.Append($"      {runDir}/libvirt/{DaemonPaths.DaemonName}-admin-sock\n");
        sb.Append('\n');
        sb.Append("    PID file (unless overridden by -p):\n");
        sb.Append($"      {(priv ? R("/run") : "$XDG_RUNTIME_DIR/libvirt")}/{DaemonPaths.DaemonName}.pid\n");
        sb.Append('\n');
        return sb.ToString();
    }
}

/// <summary>
/// The outcome of <see cref="DaemonOptions.Parse(string[])"/>: either options to run with, or
/// text to print and an exit status (help, version, or an error).
/// </summary>
public sealed record DaemonOptionsResult
{
    /// <summary>The parsed options when the daemon should run; null when it should exit.</summary>
    public DaemonOptions? Options { get; init; }

    /// <summary>True when the process should print the texts and exit with <see cref="ExitCode"/>.</summary>
    public bool ShouldExit => Options is null;

    /// <summary>0 for --help/--version, 1 for errors.</summary>
    public int ExitCode { get; init; }

    /// <summary>Text for stdout (the version line).</summary>
    public string StandardOutput { get; init; } = "";

    /// <summary>Text for stderr (usage, getopt's and libvirt's error messages).</summary>
    public string StandardError { get; init; } = "";

    internal static DaemonOptionsResult Run(DaemonOptions o) => new() { Options = o };

    internal static DaemonOptionsResult Exit(int code, string stdout, string stderr) =>
        new() { ExitCode = code, StandardOutput = stdout, StandardError = stderr };
}
