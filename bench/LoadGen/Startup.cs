using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text.Json;

namespace VirtNetworkd.LoadGen;

/// <summary>
/// Start-up time of a daemon: exec to socket file, and exec to the first answered call. The
/// socket file alone can be early: libvirtd binds its sockets before its drivers are
/// initialised and only serves them afterwards, so the second number is the one a client sees.
/// </summary>
internal static class Startup
{
    private readonly record struct RunResult(double SocketMs, double ReadyMs, long RssKb, int Pid);

    public static int Run(Options o)
    {
        string socket = o.Socket!;
        string procName = o.Work.ProcedureName;
        byte[] pong = Program.Pong();
        var runs = new List<RunResult>();
        string reply = "";
        for (int i = 0; i < o.Runs; i++)
        {
            if (File.Exists(socket)) File.Delete(socket);
            var psi = new ProcessStartInfo(o.Command[0]) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var a in o.Command.AsSpan(1)) psi.ArgumentList.Add(a);

            long t0 = Stopwatch.GetTimestamp();
            using var p = Process.Start(psi) ?? throw new LoadGenException($"cannot start {o.Command[0]}");
            long deadline = t0 + (long)(o.Timeout * Stopwatch.Frequency);
            // the daemon's output is drained (and dropped) so that it never blocks on a full pipe
            p.OutputDataReceived += (_, _) => { };
            p.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (runs) LastError = e.Data; };
            p.BeginOutputReadLine();
            p.BeginErrorReadLine();
            try
            {
                // 1. the socket file: a tight loop, nothing else
                long tSocket;
                int spins = 0;
                while (true)
                {
                    if (File.Exists(socket)) { tSocket = Stopwatch.GetTimestamp(); break; }
                    if ((++spins & 1023) == 0)
                    {
                        if (p.HasExited) throw new LoadGenException($"run {i + 1}: {Describe(o)} exited with status {p.ExitCode} before creating {socket}{LastErrorNote()}");
                        if (Stopwatch.GetTimestamp() > deadline) throw new LoadGenException($"run {i + 1}: no socket {socket} after {o.Timeout} s");
                    }
                }
                // 2. the first answered call: connect until it is accepted, then the set-up calls
                long tReady;
                while (true)
                {
                    Connection? c = null;
                    try
                    {
                        c = new Connection(0, socket, pong, (int)Math.Max(1, (deadline - Stopwatch.GetTimestamp()) * 1000 / Stopwatch.Frequency));
                    }
                    catch (LoadGenException) when (!p.HasExited && Stopwatch.GetTimestamp() < deadline)
                    {
                        continue; // not listening yet
                    }
                    if (p.HasExited) throw new LoadGenException($"run {i + 1}: {Describe(o)} exited with status {p.ExitCode}{LastErrorNote()}");
                    using (c)
                    {
                        byte[]? request = null;
                        var body = Program.SetUp(c, o.Uri, o.Work, ref request);
                        tReady = Stopwatch.GetTimestamp();
                        reply = o.Work.Describe(body);
                    }
                    break;
                }
                long rss = ProcStat.StatusKb(p.Id.ToString(CultureInfo.InvariantCulture), "VmRSS");
                runs.Add(new RunResult(Ms(tSocket - t0), Ms(tReady - t0), rss, p.Id));
                if (!o.Json)
                    Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"run {i + 1}: socket {Ms(tSocket - t0):F1} ms, first reply {Ms(tReady - t0):F1} ms, VmRSS {rss} kB"));
            }
            finally
            {
                Stop(p);
            }
        }

        var socketMs = runs.Select(r => r.SocketMs).Order().ToArray();
        var readyMs = runs.Select(r => r.ReadyMs).Order().ToArray();
        var rssKb = runs.Select(r => (double)r.RssKb).Order().ToArray();
        var inv = CultureInfo.InvariantCulture;
        if (o.Json)
        {
            using var stdout = Console.OpenStandardOutput();
            using (var w = new Utf8JsonWriter(stdout, new JsonWriterOptions { Indented = true }))
            {
                w.WriteStartObject();
                w.WriteString("command", string.Join(' ', o.Command));
                w.WriteString("socket", socket);
                w.WriteString("proc_name", procName);
                w.WriteString("first_reply", reply);
                w.WriteNumber("runs", runs.Count);
                w.WriteNumber("socket_ms_median", Math.Round(Median(socketMs), 1));
                w.WriteNumber("socket_ms_min", Math.Round(socketMs[0], 1));
                w.WriteNumber("socket_ms_max", Math.Round(socketMs[^1], 1));
                w.WriteNumber("ready_ms_median", Math.Round(Median(readyMs), 1));
                w.WriteNumber("ready_ms_min", Math.Round(readyMs[0], 1));
                w.WriteNumber("ready_ms_max", Math.Round(readyMs[^1], 1));
                w.WriteNumber("rss_kb_median", Median(rssKb));
                w.WriteStartArray("all");
                foreach (var r in runs)
                {
                    w.WriteStartObject();
                    w.WriteNumber("socket_ms", Math.Round(r.SocketMs, 2));
                    w.WriteNumber("ready_ms", Math.Round(r.ReadyMs, 2));
                    w.WriteNumber("rss_kb", r.RssKb);
                    w.WriteEndObject();
                }
                w.WriteEndArray();
                w.WriteEndObject();
            }
            stdout.WriteByte((byte)'\n');
        }
        else
        {
            Console.WriteLine(string.Create(inv, $"startup of {Describe(o)}: {runs.Count} runs, {procName} -> {reply}"));
            Console.WriteLine(string.Create(inv, $"  socket file   median {Median(socketMs):F1} ms (min {socketMs[0]:F1}, max {socketMs[^1]:F1})"));
            Console.WriteLine(string.Create(inv, $"  first reply   median {Median(readyMs):F1} ms (min {readyMs[0]:F1}, max {readyMs[^1]:F1})"));
            Console.WriteLine(string.Create(inv, $"  VmRSS         median {Median(rssKb):F0} kB right after the first reply"));
        }
        return 0;
    }

    private static string? LastError;
    private static string LastErrorNote() => LastError is null ? "" : $" (last line on its stderr: {LastError})";

    private static string Describe(Options o) => Path.GetFileName(o.Command[0]) == "ip" && o.Command.Length > 4 ? o.Command[4] : o.Command[0];

    private static double Ms(long ticks) => ticks * 1000.0 / Stopwatch.Frequency;

    private static double Median(double[] sorted) => sorted.Length % 2 == 1
        ? sorted[sorted.Length / 2]
        : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;

    /// <summary>SIGTERM, then SIGKILL if it is still there after 10 s.</summary>
    private static void Stop(Process p)
    {
        if (p.HasExited) return;
        Native.Kill(p.Id, Native.SIGTERM);
        if (!p.WaitForExit(10_000))
        {
            Console.Error.WriteLine($"vnd-loadgen: pid {p.Id} ignored SIGTERM for 10 s; SIGKILL");
            Native.Kill(p.Id, Native.SIGKILL);
            p.WaitForExit(5_000);
        }
        p.WaitForExit(); // let the output readers finish
    }
}
