using System.Globalization;
using System.Text;
using VirtNetworkd.NetworkDriver;

namespace VirtNetworkd.Server.Host.Logging;

/// <summary>
/// libvirt's log line layout:
/// <c>2024-05-01 10:00:00.123+0000: 4711: warning : Function:42 : message</c>
/// — UTC timestamp with milliseconds, the OS thread id, the priority name, the function and
/// line that logged (omitted when unknown), then the message.
/// </summary>
internal static class LogFormat
{
    [ThreadStatic] private static int t_tid;

    public static int CurrentThreadId
    {
        get
        {
            int tid = t_tid;
            if (tid == 0)
                t_tid = tid = GetTid();
            return tid;
        }
    }

    private static int GetTid()
    {
        try
        {
            return LibC.GetTid();
        }
        catch (EntryPointNotFoundException)
        {
            return Environment.CurrentManagedThreadId;
        }
    }

    public static string PriorityName(LogPriority p) => p switch
    {
        LogPriority.Debug => "debug",
        LogPriority.Info => "info",
        LogPriority.Warning => "warning",
        LogPriority.Error => "error",
        _ => "unknown",
    };

    public static string Timestamp(DateTime utc) =>
        utc.ToString("yyyy-MM-dd HH:mm:ss.fff", CultureInfo.InvariantCulture) + "+0000";

    /// <summary>The part after the timestamp, ending in a newline.</summary>
    public static string Body(int threadId, LogPriority p, string? function, int line, string message) =>
        string.IsNullOrEmpty(function)
            ? $"{threadId}: {PriorityName(p)} : {message}\n"
            : $"{threadId}: {PriorityName(p)} : {function}:{line} : {message}\n";

    /// <summary>First line every output gets (libvirt logs its version the same way).</summary>
    public static string VersionMessage => $"libvirt version: {DriverInfo.LibVersionString}";

    /// <summary>Second line every output gets.</summary>
    public static string HostnameMessage => $"hostname: {HostName}";

    private static string? s_hostName;

    private static string HostName
    {
        get
        {
            if (s_hostName is null)
            {
                try
                {
                    s_hostName = System.Net.Dns.GetHostName();
                }
                catch (System.Net.Sockets.SocketException)
                {
                    s_hostName = Environment.MachineName;
                }
            }
            return s_hostName;
        }
    }

    /// <summary>
    /// What libvirt prints on stderr for a message logged before logging is set up: the
    /// version and hostname lines, then the message.
    /// </summary>
    public static string FormatEarlyMessage(LogPriority p, string? function, int line, string message)
    {
        string ts = Timestamp(DateTime.UtcNow);
        int tid = CurrentThreadId;
        var sb = new StringBuilder();
        sb.Append(ts).Append(": ").Append(Body(tid, LogPriority.Info, null, 0, VersionMessage));
        sb.Append(ts).Append(": ").Append(Body(tid, LogPriority.Info, null, 0, HostnameMessage));
        sb.Append(ts).Append(": ").Append(Body(tid, p, function, line, message));
        return sb.ToString();
    }

    /// <summary>Glob match as glib's g_pattern_match_simple: '*' any run, '?' one character.</summary>
    public static bool GlobMatch(ReadOnlySpan<char> pattern, ReadOnlySpan<char> text)
    {
        int p = 0, t = 0, starP = -1, starT = 0;
        while (t < text.Length)
        {
            if (p < pattern.Length && (pattern[p] == '?' || pattern[p] == text[t]))
            {
                p++;
                t++;
            }
            else if (p < pattern.Length && pattern[p] == '*')
            {
                starP = p++;
                starT = t;
            }
            else if (starP >= 0)
            {
                p = starP + 1;
                t = ++starT;
            }
            else
            {
                return false;
            }
        }
        while (p < pattern.Length && pattern[p] == '*')
            p++;
        return p == pattern.Length;
    }
}
