using System.Text;

namespace VirtNetworkd.Server.Host.Logging;

/// <summary>
/// Changing the outputs and filters of the running daemon (virt-admin daemon-log-outputs and
/// daemon-log-filters), as libvirt's virLogSetOutputs / virLogSetFilters and their getters:
/// the same syntax and errors as log_outputs / log_filters, effective for the next message.
/// One change at a time; a change that fails leaves the settings as they were.
/// <see cref="Daemon"/> changes the process's logging (<see cref="Log"/>); the fuzzing harness
/// gives the admin program one over settings of its own, so that fuzzed calls open no files and
/// leave the process's logging alone.
/// </summary>
/// <param name="settings">The settings in force.</param>
/// <param name="configure">Opens new outputs and switches to them (<see cref="Log.Configure"/>).</param>
/// <param name="reconfigure">New filters over the same outputs.</param>
public sealed class LogRuntime(Func<LogSettings> settings, Action<LogSettings> configure, Action<LogSettings> reconfigure)
{
    /// <summary>The daemon's logging.</summary>
    public static readonly LogRuntime Daemon = new(() => Log.Settings, Log.Configure, Log.Reconfigure);

    private readonly Lock _gate = new();

    /// <summary>virLogSetOutputs: null or "" goes back to the daemon's default output.</summary>
    /// <exception cref="LogConfigException">A bad output, or one that cannot be opened.</exception>
    public void SetOutputs(string? text)
    {
        lock (_gate)
        {
            var current = settings();
            var outputs = string.IsNullOrEmpty(text) ? current.DefaultOutputs : LogSettings.ParseOutputs(text);
            configure(current with { Outputs = outputs });
        }
    }

    /// <summary>virLogSetFilters: null or "" removes every filter.</summary>
    /// <exception cref="LogConfigException">A bad filter.</exception>
    public void SetFilters(string? text)
    {
        lock (_gate)
        {
            var filters = LogSettings.ParseFilters(text);
            // the outputs stay open: only the filters (and so every logger's threshold) change
            reconfigure(settings() with { Filters = filters });
        }
    }

    /// <summary>virLogGetOutputs: "PRIO:DEST[:NAME]" separated by spaces.</summary>
    public string OutputsText(out int count)
    {
        var outputs = settings().Outputs;
        count = outputs.Count;
        return string.Join(' ', outputs.Select(o => o.ToString()));
    }

    /// <summary>virLogGetFilters: each "PRIO:*MATCH* " (libvirt stores the match with its stars,
    /// and ends every filter with a space); null when there is none.</summary>
    public string? FiltersText(out int count)
    {
        var filters = settings().Filters;
        count = filters.Count;
        if (count == 0) return null;
        var sb = new StringBuilder();
        foreach (var f in filters) sb.Append((int)f.Priority).Append(":*").Append(f.Match).Append("* ");
        return sb.ToString();
    }
}
