// Written from one template: the five handlers differ only in how they learn the priority.
using System.Runtime.CompilerServices;

namespace VirtNetworkd.Server.Host.Logging;

/// <summary>Builds a log message only when <see cref="Logger.Write(LogPriority, ref LogInterpolatedStringHandler, string, int, string)"/>'s priority is enabled.</summary>
[InterpolatedStringHandler]
public ref struct LogInterpolatedStringHandler
{
    private DefaultInterpolatedStringHandler _inner;

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

/// <summary>Builds a log message only when debug messages are enabled for the logger.</summary>
[InterpolatedStringHandler]
public ref struct DebugLogInterpolatedStringHandler
{
    private DefaultInterpolatedStringHandler _inner;

    public DebugLogInterpolatedStringHandler(int literalLength, int formattedCount, Logger logger, out bool isEnabled)
    {
        Enabled = isEnabled = logger.IsEnabled(LogPriority.Debug);
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

/// <summary>Builds a log message only when info messages are enabled for the logger.</summary>
[InterpolatedStringHandler]
public ref struct InfoLogInterpolatedStringHandler
{
    private DefaultInterpolatedStringHandler _inner;

    public InfoLogInterpolatedStringHandler(int literalLength, int formattedCount, Logger logger, out bool isEnabled)
    {
        Enabled = isEnabled = logger.IsEnabled(LogPriority.Info);
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

/// <summary>Builds a log message only when warning messages are enabled for the logger.</summary>
[InterpolatedStringHandler]
public ref struct WarningLogInterpolatedStringHandler
{
    private DefaultInterpolatedStringHandler _inner;

    public WarningLogInterpolatedStringHandler(int literalLength, int formattedCount, Logger logger, out bool isEnabled)
    {
        Enabled = isEnabled = logger.IsEnabled(LogPriority.Warning);
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

/// <summary>Builds a log message only when error messages are enabled for the logger.</summary>
[InterpolatedStringHandler]
public ref struct ErrorLogInterpolatedStringHandler
{
    private DefaultInterpolatedStringHandler _inner;

    public ErrorLogInterpolatedStringHandler(int literalLength, int formattedCount, Logger logger, out bool isEnabled)
    {
        Enabled = isEnabled = logger.IsEnabled(LogPriority.Error);
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
