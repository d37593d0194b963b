using System.Collections.Concurrent;

namespace VirtNetworkd.Server.Host.Logging;

/// <summary>
/// The process's logging: loggers per category (<see cref="For"/>) and the configuration
/// they follow (<see cref="Configure"/>). Until configured it behaves as libvirt before its
/// logging is set up: warnings and errors go to stderr, after the version and hostname lines.
/// </summary>
public static class Log
{
    private static readonly ConcurrentDictionary<string, Logger> s_loggers = new(StringComparer.Ordinal);
    private static readonly Lock s_gate = new();
    private static State s_state = new(1, new LogSettings(), []);
    private static bool s_earlyIntroduced;

    internal static string JournalSocketPath { get; set; } = LogSettings.JournalSocket;
    internal static string SyslogSocketPath { get; set; } = "/dev/log";

    internal sealed class State(int serial, LogSettings settings, LogSink[] sinks)
    {
        public readonly int Serial = serial;
        public readonly LogSettings Settings = settings;
        public readonly LogSink[] Sinks = sinks;

        /// <summary>Lowest priority any output takes (Debug when writing to early stderr).</summary>
        public readonly LogPriority SinkFloor = sinks.Length == 0 ? LogPriority.Debug : sinks.Min(s => s.Priority);
    }

    internal static State Current => Volatile.Read(ref s_state);

    /// <summary>The logger for a category such as <c>network.bridge_driver</c> or <c>rpc.server</c>.</summary>
    public static Logger For(string category) => s_loggers.GetOrAdd(category, static c => new Logger(c));

    /// <summary>The settings in force.</summary>
    public static LogSettings Settings => Current.Settings;

    /// <summary>
    /// Opens the outputs of <paramref name="settings"/> and switches to them; the previous
    /// outputs are closed. On failure nothing changes.
    /// </summary>
    /// <exception cref="LogConfigException">An output cannot be opened ("failed to open PATH: reason").</exception>
    public static void Configure(LogSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var sinks = new List<LogSink>();
        try
        {
            foreach (var o in settings.Outputs)
                sinks.Add(LogSink.Open(o, JournalSocketPath, SyslogSocketPath));
        }
        catch
        {
            foreach (var s in sinks)
                s.Dispose();
            throw;
        }
        Swap(settings, [.. sinks]);
    }

    /// <summary>New settings over the same outputs (a change of filters or default priority).</summary>
    internal static void Reconfigure(LogSettings settings)
    {
        lock (s_gate)
        {
            var prev = s_state;
            Volatile.Write(ref s_state, new State(prev.Serial + 1, settings, prev.Sinks));
        }
    }

    /// <summary>Back to the unconfigured state (closes the outputs). For shutdown and tests.</summary>
    public static void Reset() => Swap(new LogSettings(), []);

    private static void Swap(LogSettings settings, LogSink[] sinks)
    {
        LogSink[] old;
        lock (s_gate)
        {
            var prev = s_state;
            old = prev.Sinks;
            Volatile.Write(ref s_state, new State(prev.Serial + 1, settings, sinks));
        }
        foreach (var s in old)
            s.Dispose();
    }

    /// <summary>The priority a category logs at: the first matching filter's, else the default.</summary>
    internal static LogPriority CategoryPriority(State state, string category)
    {
        foreach (var f in state.Settings.Filters)
        {
            if (f.Matches(category))
                return f.Priority;
        }
        return state.Settings.DefaultPriority;
    }

    internal static void Emit(Logger logger, LogPriority priority, string message, string? function, string? file, int line)
    {
        string ts = LogFormat.Timestamp(DateTime.UtcNow);
        int tid = LogFormat.CurrentThreadId;
        var e = new LogEvent(priority, logger.Category, function, file, line, message, ts,
                             LogFormat.Body(tid, priority, function, line, message));
        lock (s_gate)
        {
            var state = s_state;
            if (state.Sinks.Length == 0)
            {
                using var stderr = new FdSink(new LogOutput(LogPriority.Debug, LogDestination.Stderr), 2, ownsFd: false);
                if (!s_earlyIntroduced)
                {
                    Introduce(stderr, ts, tid);
                    s_earlyIntroduced = true;
                }
                stderr.Write(e);
                return;
            }
            foreach (var sink in state.Sinks)
            {
                if (priority < sink.Priority)
                    continue;
                if (!sink.Introduced)
                {
                    Introduce(sink, ts, tid);
                    sink.Introduced = true;
                }
                sink.Write(e);
            }
        }
    }

    private static void Introduce(LogSink sink, string ts, int tid)
    {
        foreach (var text in (ReadOnlySpan<string>)[LogFormat.VersionMessage, LogFormat.HostnameMessage])
        {
            sink.Write(new LogEvent(LogPriority.Info, "util.log", null, null, 0, text, ts,
                                    LogFormat.Body(tid, LogPriority.Info, null, 0, text)));
        }
    }
}
