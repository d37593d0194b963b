using System.Runtime.CompilerServices;

namespace VirtNetworkd.Server.Host.Logging;

/// <summary>
/// Logs for one category. Obtain with <see cref="Log.For"/>. The interpolated-string methods
/// format nothing, and allocate nothing, when the priority is disabled:
/// <code>log.Debug($"network {name} started on {bridge}");</code>
/// The calling member and line are recorded, as libvirt records the function and line.
/// </summary>
public sealed class Logger
{
    // (serial << 32) | threshold, read and written as one value so threads see a consistent pair.
    private long _cache;

    internal Logger(string category) => Category = category;

    public string Category { get; }

    /// <summary>Whether a message of this priority would be written anywhere.</summary>
    public bool IsEnabled(LogPriority priority)
    {
        var state = Logging.Log.Current;
        long cache = Volatile.Read(ref _cache);
        if ((int)(cache >> 32) != state.Serial)
            cache = Refresh(state);
        return (int)priority >= (int)cache;
    }

    private long Refresh(Log.State state)
    {
        var p = Log.CategoryPriority(state, Category);
        if (state.SinkFloor > p)
            p = state.SinkFloor;
        long cache = ((long)state.Serial << 32) | (uint)p;
        Volatile.Write(ref _cache, cache);
        return cache;
    }

    public void Write(LogPriority priority, string message, [CallerMemberName] string function = "",
                      [CallerLineNumber] int line = 0, [CallerFilePath] string file = "")
    {
        if (IsEnabled(priority))
            Logging.Log.Emit(this, priority, message, function, file, line);
    }

    public void Write(LogPriority priority, [InterpolatedStringHandlerArgument("", "priority")] ref LogInterpolatedStringHandler<LogLevel.Given> message,
                    [CallerMemberName] string function = "", [CallerLineNumber] int line = 0, [CallerFilePath] string file = "") =>
        Emit(priority, ref message, function, line, file);

    public void Debug([InterpolatedStringHandlerArgument("")] ref LogInterpolatedStringHandler<LogLevel.Debug> message,
                      [CallerMemberName] string function = "", [CallerLineNumber] int line = 0, [CallerFilePath] string file = "") =>
        Emit(LogPriority.Debug, ref message, function, line, file);

    public void Info([InterpolatedStringHandlerArgument("")] ref LogInterpolatedStringHandler<LogLevel.Info> message,
                     [CallerMemberName] string function = "", [CallerLineNumber] int line = 0, [CallerFilePath] string file = "") =>
        Emit(LogPriority.Info, ref message, function, line, file);

    public void Warn([InterpolatedStringHandlerArgument("")] ref LogInterpolatedStringHandler<LogLevel.Warning> message,
                     [CallerMemberName] string function = "", [CallerLineNumber] int line = 0, [CallerFilePath] string file = "") =>
        Emit(LogPriority.Warning, ref message, function, line, file);

    public void Error([InterpolatedStringHandlerArgument("")] ref LogInterpolatedStringHandler<LogLevel.Error> message,
                      [CallerMemberName] string function = "", [CallerLineNumber] int line = 0, [CallerFilePath] string file = "") =>
        Emit(LogPriority.Error, ref message, function, line, file);

    private void Emit<TLevel>(LogPriority priority, ref LogInterpolatedStringHandler<TLevel> message, string function, int line, string file)
        where TLevel : ILogLevel
    {
        if (message.Enabled)
            Logging.Log.Emit(this, priority, message.ToStringAndClear(), function, file, line);
    }

    public void Debug(string message, [CallerMemberName] string function = "", [CallerLineNumber] int line = 0,
                      [CallerFilePath] string file = "") => Write(LogPriority.Debug, message, function, line, file);

    public void Info(string message, [CallerMemberName] string function = "", [CallerLineNumber] int line = 0,
                     [CallerFilePath] string file = "") => Write(LogPriority.Info, message, function, line, file);

    public void Warn(string message, [CallerMemberName] string function = "", [CallerLineNumber] int line = 0,
                     [CallerFilePath] string file = "") => Write(LogPriority.Warning, message, function, line, file);

    public void Error(string message, [CallerMemberName] string function = "", [CallerLineNumber] int line = 0,
                      [CallerFilePath] string file = "") => Write(LogPriority.Error, message, function, line, file);
}
