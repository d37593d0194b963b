using System.Globalization;

namespace VirtNetworkd.Server.Host.Logging;

/// <summary>
/// A log filter, <c>level:match</c>: categories containing <see cref="Match"/> (a glob,
/// matched anywhere in the name, as libvirt does) log at <see cref="Priority"/> and above.
/// The first matching filter wins.
/// </summary>
public sealed record LogFilter(string Match, LogPriority Priority)
{
    private readonly string _pattern = "*" + Match + "*";

    public bool Matches(string category) => LogFormat.GlobMatch(_pattern, category);

    public override string ToString() => $"{(int)Priority}:{Match}";
}

/// <summary>Where a log output writes.</summary>
public enum LogDestination
{
    Stderr,
    Syslog,
    File,
    Journald,
}

/// <summary>
/// One log output, <c>level:stderr</c>, <c>level:journald</c>, <c>level:file:PATH</c> or
/// <c>level:syslog:IDENT</c>. <see cref="Name"/> is the path or the ident.
/// </summary>
public sealed record LogOutput(LogPriority Priority, LogDestination Destination, string? Name = null)
{
    /// <summary>Create the file's directory first (used for the default log file).</summary>
    public bool CreateDirectory { get; init; }

    public override string ToString() => Destination switch
    {
        LogDestination.File => $"{(int)Priority}:file:{Name}",
        LogDestination.Syslog => $"{(int)Priority}:syslog:{Name}",
        LogDestination.Journald => $"{(int)Priority}:journald",
        _ => $"{(int)Priority}:stderr",
    };
}

/// <summary>A bad log_level, log_filters or log_outputs (or LIBVIRT_* variable), or an output that cannot be opened.</summary>
public sealed class LogConfigException(string message) : Exception(message);

/// <summary>
/// The logging configuration: the default priority, the filters and the outputs.
/// <see cref="ForDaemon(uint, string?, string?, bool, bool, string, DaemonEnvironment, bool?, bool?)"/>
/// derives it the way libvirt's daemons do; <see cref="Log.Configure"/> applies it.
/// </summary>
public sealed record LogSettings
{
    public const string DebugVariable = "LIBVIRT_DEBUG";
    public const string FiltersVariable = "LIBVIRT_LOG_FILTERS";
    public const string OutputsVariable = "LIBVIRT_LOG_OUTPUTS";
    public const string JournalSocket = "/run/systemd/journal/socket";

    /// <summary>Messages of categories no filter matches log at this priority and above.</summary>
    public LogPriority DefaultPriority { get; init; } = LogPriority.Warning;

    public IReadOnlyList<LogFilter> Filters { get; init; } = [];

    /// <summary>The outputs; none means "stderr, as before logging was set up".</summary>
    public IReadOnlyList<LogOutput> Outputs { get; init; } = [];

    /// <summary>
    /// The output the daemon falls back to when set to none (libvirt's virLogDefaultOutput:
    /// chosen once at start-up, used again when virt-admin sets the outputs to "").
    /// </summary>
    public IReadOnlyList<LogOutput> DefaultOutputs { get; init; } = [];

    /// <summary>
    /// The daemon's logging set-up, in libvirt's order of precedence (command line over
    /// environment over config file):
    /// log_level, then log_filters and log_outputs from the config; LIBVIRT_DEBUG,
    /// LIBVIRT_LOG_FILTERS and LIBVIRT_LOG_OUTPUTS replace them when set and not empty; -v
    /// lowers the default priority to info; without any output, the default one is used:
    /// journald when daemonized (or when stdin is not a terminal) and the journal socket exists,
    /// else the default log file when daemonized, else stderr — at the default priority (at
    /// least info for journald).
    /// </summary>
    /// <param name="logLevel">log_level from the config, 0 when unset.</param>
    /// <param name="defaultLogFile">See <see cref="DaemonPaths.DefaultLogFile"/>.</param>
    /// <param name="journaldAvailable">null: check whether the journal socket exists.</param>
    /// <param name="stdinIsTerminal">null: ask isatty(0).</param>
    /// <exception cref="LogConfigException">libvirt's message for the bad value.</exception>
    public static LogSettings ForDaemon(uint logLevel, string? logFilters, string? logOutputs,
                                        bool verbose, bool daemonized, string defaultLogFile,
                                        DaemonEnvironment env, bool? journaldAvailable = null,
                                        bool? stdinIsTerminal = null)
    {
        var priority = LogPriority.Warning;
        if (logLevel != 0)
        {
            if (logLevel is < 1 or > 4)
                throw Invalid($"Failed to set logging priority, argument '{logLevel}' is invalid");
            priority = (LogPriority)logLevel;
        }

        IReadOnlyList<LogFilter> filters = ParseFilters(logFilters);
        IReadOnlyList<LogOutput> outputs = string.IsNullOrEmpty(logOutputs) ? [] : ParseOutputs(logOutputs);

        if (env.GetNonEmpty(DebugVariable) is { } debug)
            priority = ParsePriority(debug);
        if (env.GetNonEmpty(FiltersVariable) is { } envFilters)
            filters = ParseFilters(envFilters);
        if (env.GetNonEmpty(OutputsVariable) is { } envOutputs)
            outputs = ParseOutputs(envOutputs);

        if (verbose && priority > LogPriority.Info)
            priority = LogPriority.Info;

        LogOutput def;
        {
            bool journald = journaldAvailable ?? File.Exists(JournalSocket);
            var journaldPriority = priority == LogPriority.Debug ? LogPriority.Info : priority;
            if (daemonized)
            {
                def = journald
                    ? new LogOutput(journaldPriority, LogDestination.Journald)
                    : new LogOutput(priority, LogDestination.File, defaultLogFile) { CreateDirectory = true };
            }
            else
            {
                bool tty = stdinIsTerminal ?? LibC.IsATty(0) == 1;
                def = !tty && journald
                    ? new LogOutput(journaldPriority, LogDestination.Journald)
                    : new LogOutput(priority, LogDestination.Stderr);
            }
        }
        if (outputs.Count == 0)
            outputs = [def];

        return new LogSettings { DefaultPriority = priority, Filters = filters, Outputs = outputs, DefaultOutputs = [def] };
    }

    /// <summary>The same, from the loaded config, the -v/-d flags and the daemon's paths.</summary>
    public static LogSettings ForDaemon(Config.DaemonConfig config, bool verbose, bool daemonized,
                                        DaemonPaths paths, DaemonEnvironment env) =>
        ForDaemon(config.LogLevel, config.LogFilters, config.LogOutputs, verbose, daemonized,
                  paths.DefaultLogFile, env);

    /// <summary>LIBVIRT_DEBUG's syntax: 1–4 or debug, info, warning, error.</summary>
    public static LogPriority ParsePriority(string text) => text switch
    {
        "1" or "debug" => LogPriority.Debug,
        "2" or "info" => LogPriority.Info,
        "3" or "warning" => LogPriority.Warning,
        "4" or "error" => LogPriority.Error,
        _ => throw Invalid($"Failed to set logging priority, argument '{text}' is invalid"),
    };

    /// <summary>Space-separated <c>level:match</c> filters (a leading '+' on match is accepted and dropped).</summary>
    public static IReadOnlyList<LogFilter> ParseFilters(string? text)
    {
        var list = new List<LogFilter>();
        if (text is null)
            return list;
        foreach (var item in text.Split(' '))
        {
            if (item.Length == 0)
                continue;
            var tokens = item.Split(':');
            if (tokens.Length < 2)
                throw Invalid($"Malformed format for filter '{item}'");
            if (!TryParseLevel(tokens[0], out var prio))
                throw Invalid($"Invalid priority '{tokens[0]}' for filter '{item}'");
            string match = tokens[1].StartsWith('+') ? tokens[1][1..] : tokens[1];
            if (match.Length == 0)
                throw Invalid($"Invalid match string '{tokens[1]}'");
            list.Add(new LogFilter(match, prio));
        }
        return list;
    }

    /// <summary>
    /// Space-separated outputs. A later output with the same destination (and path or ident)
    /// replaces an earlier one.
    /// </summary>
    public static IReadOnlyList<LogOutput> ParseOutputs(string? text)
    {
        var list = new List<LogOutput>();
        if (text is null)
            return list;
        foreach (var item in text.Split(' '))
        {
            if (item.Length == 0)
                continue;
            var tokens = item.Split(':');
            if (tokens.Length < 2)
                throw Invalid($"Malformed format for log output '{item}'");
            if (!TryParseLevel(tokens[0], out var prio))
                throw Invalid($"Invalid log priority '{tokens[0]}' for log output '{item}'");
            LogDestination dest = tokens[1] switch
            {
                "stderr" => LogDestination.Stderr,
                "syslog" => LogDestination.Syslog,
                "file" => LogDestination.File,
                "journald" => LogDestination.Journald,
                _ => throw Invalid($"Invalid log destination '{tokens[1]}' for log output '{item}'"),
            };
            int wanted = dest is LogDestination.File or LogDestination.Syslog ? 3 : 2;
            if (tokens.Length != wanted)
                throw Invalid($"Log output '{item}' does not meet the format requirements for destination type '{tokens[1]}'");
            string? name = wanted == 3 ? tokens[2] : null;
            if (dest == LogDestination.File)
            {
                // as libvirt: C ends the string at a NUL, and virFileAbsPath("") is the current folder
                string path = name!.Split('\0')[0];
                name = Path.GetFullPath(path.Length == 0 ? "." : path);
            }
            var output = new LogOutput(prio, dest, name);
            list.RemoveAll(o => o.Destination == dest && o.Name == name);
            list.Add(output);
        }
        return list;
    }

    /// <summary>
    /// libvirt's virStrToLong_uip + range check: an unsigned decimal (strtoul syntax, so leading
    /// blanks and '+' pass, '-' does not) from 1 to 4, nothing after it.
    /// </summary>
    private static bool TryParseLevel(string s, out LogPriority priority)
    {
        priority = default;
        if (s.Contains('-') ||
            !uint.TryParse(s, NumberStyles.AllowLeadingWhite | NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out uint v) ||
            v is < 1 or > 4)
            return false;
        priority = (LogPriority)v;
        return true;
    }

    private static LogConfigException Invalid(string detail) => new("invalid argument: " + detail);
}
