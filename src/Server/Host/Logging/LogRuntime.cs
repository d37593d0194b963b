using System.Text;

namespace VirtNetworkd.Server.Host.Logging;

/// <summary>
/// Changing the outputs and filters of the running daemon (virt-admin daemon-log-outputs and
/// daemon-log-filters), as libvirt's virLogSetOutputs / virLogSetFilters and their getters:
/// the same syntax and errors as log_outputs / log_filters, effective for the next message.
/// One change at a time; a change that fails leaves the settings as they were.
/// </summary>
public static class LogRuntime
{
    private static readonly Lock s_gate = new();

    /// <summary>virLogSetOutputs: null or "" goes back to the daemon's default output.</summary>
    /// <exception cref="LogConfigException">A bad output, or one that cannot be opened.</exception>
    public static void SetOutputs(string? text)
    {
        lock (s_gate)
        {
            var current = Log.Settings;
            var outputs = string.IsNullOrEmpty(text) ? current.DefaultOutputs : LogSettings.ParseOutputs(text);
            Log.Configure(current with { Outputs = outputs });
        }
    }

    /// <summary>virLogSetFilters: null or "" removes every filter.</summary>
    /// <exception cref="LogConfigException">A bad filter.</exception>
    public static void SetFilters(string? text)
    {
        lock (s_gate)
        {
            var filters = LogSettings.ParseFilters(text);
            // the outputs stay open: only the filters (and so every logger's threshold) change
            Log.Reconfigure(Log.Settings with { Filters = filters });
        }
    }

    /// <summary>virLogGetOutputs: "PRIO:DEST[:NAME]" separated by spaces.</summary>
    public static string OutputsText(out int count)
    {
        var outputs = Log.Settings.Outputs;
        count = outputs.Count;
        return string.Join(' ', outputs.Select(o => o.ToString()));
    }

    /// <summary>virLogGetFilters: each "PRIO:*MATCH* " (libvirt stores the match with its stars,
    /// and ends every filter with a space); null when there is none.</summary>
    public static string? FiltersText(out int count)
    {
        var filters = Log.Settings.Filters;
        count = filters.Count;
        if (count == 0) return null;
        var sb = new StringBuilder();
        foreach (var f in filters) sb.Append((int)f.Priority).Append(":*").Append(f.Match).Append("* ");
        return sb.ToString();
    }
}
