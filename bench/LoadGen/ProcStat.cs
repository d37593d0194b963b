using System.Globalization;

namespace VirtNetworkd.LoadGen;

/// <summary>CPU time and memory of a process from /proc.</summary>
internal static class ProcStat
{
    /// <summary>
    /// utime + stime of the whole process (all its threads, also those that have exited) in
    /// seconds, from /proc/PID/stat fields 14 and 15. The kernel reports them in clock ticks
    /// (1/100 s here) but their sum follows the scheduler's precise runtime, so over a 10 s
    /// window the rounding is at most 10 ms.
    /// </summary>
    public static double CpuSeconds(string pid)
    {
        string text = File.ReadAllText($"/proc/{pid}/stat");
        // the command name (field 2) is in parentheses and may contain spaces
        int close = text.LastIndexOf(')');
        var fields = text.AsSpan(close + 2).ToString().Split(' ');
        // fields[0] is field 3 (state): utime (14) is fields[11], stime (15) fields[12]
        long utime = long.Parse(fields[11], CultureInfo.InvariantCulture);
        long stime = long.Parse(fields[12], CultureInfo.InvariantCulture);
        return (utime + stime) / (double)Native.ClockTicksPerSecond;
    }

    /// <summary>A "Name: value" line of /proc/PID/status, e.g. VmRSS in kB; -1 when absent.</summary>
    public static long StatusKb(string pid, string name)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (!line.StartsWith(name + ":", StringComparison.Ordinal)) continue;
            var parts = line.Substring(name.Length + 1).Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries);
            return long.Parse(parts[0], CultureInfo.InvariantCulture);
        }
        return -1;
    }

    /// <summary>Context switches (voluntary + involuntary) of all threads of a process.</summary>
    public static long ContextSwitches(string pid)
    {
        long sum = 0;
        foreach (var task in Directory.EnumerateDirectories($"/proc/{pid}/task"))
        {
            try
            {
                foreach (var line in File.ReadLines(Path.Combine(task, "status")))
                {
                    if (line.StartsWith("voluntary_ctxt_switches:", StringComparison.Ordinal) ||
                        line.StartsWith("nonvoluntary_ctxt_switches:", StringComparison.Ordinal))
                        sum += long.Parse(line.AsSpan(line.IndexOf(':') + 1).Trim(), CultureInfo.InvariantCulture);
                }
            }
            catch (IOException) { /* thread exited meanwhile */ }
            catch (UnauthorizedAccessException) { }
        }
        return sum;
    }
}
