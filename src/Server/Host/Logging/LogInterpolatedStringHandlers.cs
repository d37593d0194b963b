using System.Runtime.CompilerServices;

namespace VirtNetworkd.Server.Host.Logging;

/// <summary>The priority a <see cref="LogInterpolatedStringHandler{TLevel}"/> checks, as a type so that one handler serves every level method.</summary>
public interface ILogLevel
{
    static abstract LogPriority Priority { get; }
}

/// <summary>The levels of <see cref="Logger.Debug(ref LogInterpolatedStringHandler{LogLevel.Debug}, string, int, string)"/> and its siblings.</summary>
public static class LogLevel
{
    public readonly struct Debug : ILogLevel { public static LogPriority Priority => LogPriority.Debug; }
    public readonly struct Info : ILogLevel { public static LogPriority Priority => LogPriority.Info; }
    public readonly struct Warning : ILogLevel { public static LogPriority Priority => LogPriority.Warning; }
    public readonly struct Error : ILogLevel { public static LogPriority Priority => LogPriority.Error; }

    /// <summary>For <see cref="Logger.Write(LogPriority, ref LogInterpolatedStringHandler{Given}, string, int, string)"/>: the priority is an argument.</summary>
    public readonly struct Given : ILogLevel { public static LogPriority Priority => LogPriority.Debug; }
}

/// <summary>Builds a log message only when its priority is enabled for the logger; otherwise formats and allocates nothing.</summary>
[InterpolatedStringHandler]
public ref struct LogInterpolatedStringHandler<TLevel> where TLevel : ILogLevel
{
    private DefaultInterpolatedStringHandler _inner;

    /// <summary>The priority is <typeparamref name="TLevel"/>'s.</summary>
    public LogInterpolatedStringHandler(int literalLength, int formattedCount, Logger logger, out bool isEnabled)
        : this(literalLength, formattedCount, logger, TLevel.Priority, out isEnabled)
    {
    }

    /// <summary>The priority is the call's argument.</summary>
    public LogInterpolatedStringHandler(int literalLength, int formattedCount, Logger logger, LogPriority priority, out bool isEnabled)
    {
        Enabled = isEnabled = logger.IsEnabled(priority);
        _inner = isEnabled ? new DefaultInterpolatedStringHandler(literalLength, formattedCount) : default;
    }

    internal bool Enabled { get; }

    public void AppendLiteral(string value) => _inner.AppendLiteral(value);

    public void AppendFormatted<T>(T value) => _inner.AppendFormatted(value);

    public void AppendFormatted<T>(T value, string? format) => _inner.AppendFormatted(value, format);

    public void AppendFormatted<T>(T value, int alignment) => _inner.AppendFormatted(value, alignment);

    public void AppendFormatted<T>(T value, int alignment, string? format) => _inner.AppendFormatted(value, alignment, format);

    public void AppendFormatted(scoped ReadOnlySpan<char> value) => _inner.AppendFormatted(value);

    public void AppendFormatted(scoped ReadOnlySpan<char> value, int alignment = 0, string? format = null) =>
        _inner.AppendFormatted(value, alignment, format);

    public void AppendFormatted(string? value) => _inner.AppendFormatted(value);

    public void AppendFormatted(string? value, int alignment = 0, string? format = null) =>
        _inner.AppendFormatted(value, alignment, format);

    public void AppendFormatted(object? value, int alignment = 0, string? format = null) =>
        _inner.AppendFormatted(value, alignment, format);

    internal string ToStringAndClear() => _inner.ToStringAndClear();
}
