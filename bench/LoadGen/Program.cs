using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using VirtNetworkd.Protocol.Framing;
using VirtNetworkd.Protocol.Remote;
using VirtNetworkd.Protocol.Xdr;

namespace VirtNetworkd.LoadGen;

/// <summary>Command line of vnd-loadgen.</summary>
internal sealed class Options
{
    public string? Socket;
    public string Uri = "network:///system";
    public int Connections = 1;
    public int Depth = 1;
    public double Seconds = 10;
    public double Warmup = 2;
    public Workload Work = Workload.FromProcedure((int)VirtNetworkd.Protocol.Remote.Procedure.ConnectGetLibVersion);
    public string? ServerPid;
    public bool Json;
    public int Threads = 1;
    public double Drain = 5;
    public double Timeout = 10;
    // startup mode
    public bool Startup;
    public int Runs = 5;
    public string[] Command = [];

    public const string Usage = """
        usage: vnd-loadgen --socket PATH [options]
               vnd-loadgen startup --socket PATH [--runs N] [--uri URI] [--proc N | --call CALL] [--json] -- COMMAND [ARGS...]

        Load: opens C connections to a libvirt RPC server on a Unix socket (each: auth_list,
        connect_open), then keeps D calls of one remote procedure in flight on each, for a
        warm-up and then a measured window; reports calls/s, latency percentiles and CPU time
        per call. The call is encoded once at set-up; every reply must have status OK.
          --socket PATH        the server's Unix socket (the only place traffic goes)
          --uri URI            name for connect_open (default network:///system)
          --connections C      connections (default 1)
          --depth D            calls in flight per connection (default 1)
          --seconds S          measured window (default 10)
          --warmup S           warm-up before the window (default 2)
          --proc N             remote procedure without arguments (default 157,
                               REMOTE_PROC_CONNECT_GET_LIB_VERSION)
          --call CALL          a call with arguments instead, one of
                                 get_lib_version, num_of_networks,
                                 list_all_networks (need_results 1, flags 0),
                                 lookup_by_name:NAME,
                                 get_xml_desc:NAME (flags 0), is_active:NAME
                               (the last two look NAME up once at set-up for its UUID)
          --server-pid PID     also report the server's CPU time per call (/proc/PID/stat)
          --threads T          event-loop threads sharing the connections (default 1)
          --drain S            how long to wait for the last replies after the window (default 5)
          --timeout S          set-up timeout per call (default 10)
          --json               one JSON object on stdout instead of text

        startup: runs COMMAND (inheriting the environment) N times; each time removes the socket
        file, starts COMMAND, spins until the socket file exists, then until a connection
        answers auth_list, connect_open and one call of --proc or --call; reports both times (median,
        min, max) and VmRSS right after; stops the process (SIGTERM, SIGKILL after 10 s).
        Exit status 1 on any failure: error reply, closed connection, no answer in time.
        """;

    public static Options Parse(string[] args)
    {
        var o = new Options();
        int i = 0;
        bool proc = false, call = false;
        if (args.Length > 0 && args[0] == "startup") { o.Startup = true; i = 1; }
        for (; i < args.Length; i++)
        {
            string a = args[i];
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{a} needs a value");
            int Int(int min) => int.TryParse(Next(), NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) && v >= min
                ? v : throw new ArgumentException($"{a}: an integer >= {min} expected");
            double Dbl(double min) => double.TryParse(Next(), NumberStyles.Float, CultureInfo.InvariantCulture, out double v) && v >= min
                ? v : throw new ArgumentException($"{a}: a number >= {min} expected");
            switch (a)
            {
                case "--socket": o.Socket = Next(); break;
                case "--uri": o.Uri = Next(); break;
                case "--connections": case "-c": o.Connections = Int(1); break;
                case "--depth": case "-d": o.Depth = Int(1); break;
                case "--seconds": o.Seconds = Dbl(0.1); break;
                case "--warmup": o.Warmup = Dbl(0); break;
                case "--proc": o.Work = Workload.FromProcedure(Int(1)); proc = true; break;
                case "--call": o.Work = Workload.Parse(Next()); call = true; break;
                case "--server-pid": o.ServerPid = int.TryParse(Next(), out int pid) && pid > 0 ? pid.ToString(CultureInfo.InvariantCulture) : throw new ArgumentException("--server-pid: a process id expected"); break;
                case "--threads": o.Threads = Int(1); break;
                case "--drain": o.Drain = Dbl(0.1); break;
                case "--timeout": o.Timeout = Dbl(0.1); break;
                case "--runs": o.Runs = Int(1); break;
                case "--json": o.Json = true; break;
                case "--": o.Command = args[(i + 1)..]; i = args.Length; break;
                case "-h": case "--help": throw new HelpException();
                default: throw new ArgumentException($"unknown argument {a}");
            }
        }
        if (proc && call) throw new ArgumentException("--proc and --call exclude each other");
        if (o.Socket is null) throw new ArgumentException("--socket PATH is required");
        if (o.Startup && o.Command.Length == 0) throw new ArgumentException("startup: the command to run goes after --");
        if (!o.Startup && o.Command.Length > 0) throw new ArgumentException("a command after -- only goes with startup");
        o.Threads = Math.Min(o.Threads, o.Connections);
        return o;
    }
}

internal sealed class HelpException : Exception;

internal static class Program
{
    public static int Main(string[] args)
    {
        Options o;
        try
        {
            o = Options.Parse(args);
        }
        catch (HelpException)
        {
            Console.WriteLine(Options.Usage);
            return 0;
        }
        catch (ArgumentException e)
        {
            Console.Error.WriteLine($"vnd-loadgen: {e.Message}");
            Console.Error.WriteLine(Options.Usage);
            return 2;
        }
        try
        {
            return o.Startup ? Startup.Run(o) : RunLoad(o);
        }
        catch (LoadGenException e)
        {
            Console.Error.WriteLine($"vnd-loadgen: FAILED: {e.Message}");
            return 1;
        }
    }

    public static byte[] Packet<T>(uint program, int procedure, int type, in T body) where T : IXdrType<T>
    {
        using var w = new PooledBufferWriter(256);
        PacketWriter.Write(w, new PacketHeader(program, 1, procedure, type, 0, PacketStatus.Ok), body);
        return w.ToArray();
    }

    public static byte[] Request<T>(int procedure, in T args) where T : IXdrType<T> => Packet(RemoteProgram.Number, procedure, PacketType.Call, args);
    public static byte[] Pong() => Packet(Connection.KeepaliveProgram, 2, PacketType.Message, new XdrVoid());

    /// <summary>auth_list, connect_open, one benchmark call (its request is built on the first
    /// connection and kept in <paramref name="request"/>); returns that reply's body.</summary>
    public static byte[] SetUp(Connection c, string uri, Workload work, ref byte[]? request)
    {
        var auth = XdrCodec.Decode<AuthListRet>(c.CallBlocking((int)Procedure.AuthList, new XdrVoid(), "auth_list"));
        if (auth.Types is { Length: > 0 } types && Array.IndexOf(types, AuthType.None) < 0)
            throw new LoadGenException($"connection {c.Index}: the server wants authentication ({string.Join(",", types)}); the load generator only does auth none");
        c.CallBlocking((int)Procedure.ConnectOpen, new ConnectOpenArgs { Name = uri, Flags = 0 }, "connect_open");
        request ??= work.Request(c);
        return c.CallBlocking(request, work.Procedure, $"first call of {work.Label}");
    }

    private static int RunLoad(Options o)
    {
        if (o.ServerPid is not null && !File.Exists($"/proc/{o.ServerPid}/stat"))
            throw new LoadGenException($"--server-pid {o.ServerPid}: no such process");
        byte[] pong = Pong();
        byte[]? request = null;
        int timeoutMs = (int)(o.Timeout * 1000);
        var connections = new Connection[o.Connections];
        string firstReply = "";
        try
        {
            for (int i = 0; i < o.Connections; i++)
            {
                connections[i] = new Connection(i, o.Socket!, pong, timeoutMs);
                var body = SetUp(connections[i], o.Uri, o.Work, ref request);
                if (i == 0) firstReply = o.Work.Describe(body);
            }
            foreach (var c in connections) c.Start(request!, o.Work.Procedure, o.Depth);

            long freq = Stopwatch.Frequency;
            long begin = Stopwatch.GetTimestamp();
            long t0 = begin + (long)(o.Warmup * freq);
            long t1 = t0 + (long)(o.Seconds * freq);
            long drainEnd = t1 + (long)(o.Drain * freq);
            var loops = new EventLoop[o.Threads];
            for (int i = 0; i < loops.Length; i++) loops[i] = new EventLoop(i, o.Connections, o.Depth, t0, t1, drainEnd);
            foreach (var c in connections) loops[c.Index % loops.Length].Add(c);
            foreach (var l in loops) l.Start();

            // CPU samples at the window's edges, taken from this (otherwise sleeping) thread
            SleepUntil(t0);
            var s0 = Sample(o.ServerPid);
            SleepUntil(t1);
            var s1 = Sample(o.ServerPid);
            foreach (var l in loops)
                if (!l.Join(TimeSpan.FromSeconds(o.Drain + 10))) throw new LoadGenException("an event loop did not finish");
            foreach (var l in loops)
                if (l.Failure is { } f)
                    throw f as LoadGenException ?? new LoadGenException($"{f.GetType().Name}: {f.Message}");

            var hist = new LatencyHistogram();
            long total = 0, pings = 0, alloc = 0;
            int unanswered = 0;
            foreach (var l in loops)
            {
                hist.Add(l.Histogram);
                total += l.CallsTotal;
                pings += l.Pings;
                alloc += Math.Max(0, l.AllocatedInWindow);
                unanswered += l.Unanswered;
            }
            if (unanswered > 0)
                throw new LoadGenException($"{unanswered} calls still unanswered {o.Drain} s after the end of the window");
            if (hist.Count == 0) throw new LoadGenException("no call completed in the measured window");

            double window = (t1 - t0) / (double)freq;
            var r = new Result
            {
                Socket = o.Socket!, Uri = o.Uri, Call = o.Work.Label, Procedure = o.Work.Procedure, ProcedureName = o.Work.ProcedureName,
                FirstReply = firstReply,
                Connections = o.Connections, Depth = o.Depth, Threads = o.Threads, Warmup = o.Warmup, Seconds = window,
                Calls = hist.Count, CallsTotal = total, CallsPerSecond = hist.Count / window,
                P50 = LatencyHistogram.TicksToMicros(hist.ValueAt(0.50)),
                P90 = LatencyHistogram.TicksToMicros(hist.ValueAt(0.90)),
                P99 = LatencyHistogram.TicksToMicros(hist.ValueAt(0.99)),
                Max = LatencyHistogram.TicksToMicros(hist.Max),
                Min = LatencyHistogram.TicksToMicros(hist.Min),
                ServerPid = o.ServerPid,
                ServerCpu = s1.ServerCpu - s0.ServerCpu,
                ServerCtx = s1.ServerCtx - s0.ServerCtx,
                SelfCpu = s1.SelfCpu - s0.SelfCpu,
                SelfAlloc = alloc, Pings = pings,
            };
            if (o.Json) r.WriteJson(); else r.WriteText();
            return 0;
        }
        finally
        {
            foreach (var c in connections) c?.Dispose();
        }
    }

    private static void SleepUntil(long timestamp)
    {
        while (true)
        {
            if (EventLoop.Abort) return;
            long left = timestamp - Stopwatch.GetTimestamp();
            if (left <= 0) return;
            Thread.Sleep((int)Math.Clamp(left * 1000 / Stopwatch.Frequency, 0, 50));
        }
    }

    private readonly record struct Samples(double ServerCpu, long ServerCtx, double SelfCpu);

    private static Samples Sample(string? serverPid)
    {
        try
        {
            return new Samples(
                serverPid is null ? 0 : ProcStat.CpuSeconds(serverPid),
                serverPid is null ? 0 : ProcStat.ContextSwitches(serverPid),
                ProcStat.CpuSeconds("self"));
        }
        catch (IOException e)
        {
            throw new LoadGenException($"server process {serverPid} vanished: {e.Message}");
        }
    }
}

internal sealed class Result
{
    public required string Socket, Uri, Call, ProcedureName, FirstReply;
    public int Procedure, Connections, Depth, Threads;
    public double Warmup, Seconds;
    public long Calls, CallsTotal;
    public double CallsPerSecond, P50, P90, P99, Max, Min;
    public string? ServerPid;
    public double ServerCpu, SelfCpu;
    public long ServerCtx, SelfAlloc, Pings;

    private double PerCall(double seconds) => seconds * 1e6 / Calls;

    public void WriteText()
    {
        var inv = CultureInfo.InvariantCulture;
        Console.WriteLine(string.Create(inv, $"vnd-loadgen: {Socket} ({Uri}), {Call}: {ProcedureName} ({Procedure}) -> {FirstReply}"));
        Console.WriteLine(string.Create(inv, $"  connections {Connections}, depth {Depth}, threads {Threads}, warm-up {Warmup} s, window {Seconds:F1} s"));
        Console.WriteLine(string.Create(inv, $"  calls        {Calls} in the window ({CallsTotal} in all)"));
        Console.WriteLine(string.Create(inv, $"  calls/s      {CallsPerSecond:F0}"));
        Console.WriteLine(string.Create(inv, $"  latency µs   p50 {P50:F1}  p90 {P90:F1}  p99 {P99:F1}  max {Max:F1}  (min {Min:F1})"));
        if (ServerPid is not null)
            Console.WriteLine(string.Create(inv, $"  server CPU   {ServerCpu:F2} s = {PerCall(ServerCpu):F2} µs/call  ({ServerCpu / Seconds * 100:F0} % of one core; {ServerCtx / (double)Calls:F2} context switches/call; pid {ServerPid})"));
        Console.WriteLine(string.Create(inv, $"  loadgen CPU  {SelfCpu:F2} s = {PerCall(SelfCpu):F2} µs/call  ({SelfCpu / Seconds * 100:F0} % of one core; {SelfAlloc} bytes allocated by the event loops in the window)"));
        if (Pings > 0) Console.WriteLine(string.Create(inv, $"  keepalive    {Pings} pings answered"));
    }

    public void WriteJson()
    {
        using var stdout = Console.OpenStandardOutput();
        using (var w = new Utf8JsonWriter(stdout, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteString("socket", Socket);
            w.WriteString("uri", Uri);
            w.WriteString("call", Call);
            w.WriteNumber("proc", Procedure);
            w.WriteString("proc_name", ProcedureName);
            w.WriteString("first_reply", FirstReply);
            w.WriteNumber("connections", Connections);
            w.WriteNumber("depth", Depth);
            w.WriteNumber("threads", Threads);
            w.WriteNumber("warmup_s", Warmup);
            w.WriteNumber("seconds", Seconds);
            w.WriteNumber("calls", Calls);
            w.WriteNumber("calls_total", CallsTotal);
            w.WriteNumber("calls_per_s", Math.Round(CallsPerSecond, 1));
            w.WriteNumber("p50_us", Math.Round(P50, 1));
            w.WriteNumber("p90_us", Math.Round(P90, 1));
            w.WriteNumber("p99_us", Math.Round(P99, 1));
            w.WriteNumber("max_us", Math.Round(Max, 1));
            w.WriteNumber("min_us", Math.Round(Min, 1));
            if (ServerPid is not null)
            {
                w.WriteNumber("server_pid", int.Parse(ServerPid, CultureInfo.InvariantCulture));
                w.WriteNumber("server_cpu_s", Math.Round(ServerCpu, 3));
                w.WriteNumber("server_cpu_us_per_call", Math.Round(PerCall(ServerCpu), 2));
                w.WriteNumber("server_ctxsw_per_call", Math.Round(ServerCtx / (double)Calls, 3));
            }
            else
            {
                w.WriteNull("server_cpu_us_per_call");
            }
            w.WriteNumber("loadgen_cpu_s", Math.Round(SelfCpu, 3));
            w.WriteNumber("loadgen_cpu_us_per_call", Math.Round(PerCall(SelfCpu), 2));
            w.WriteNumber("loadgen_alloc_bytes", SelfAlloc);
            w.WriteNumber("keepalive_pings", Pings);
            w.WriteEndObject();
        }
        stdout.WriteByte((byte)'\n');
    }
}
