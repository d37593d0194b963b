using System.Runtime.InteropServices;
using VirtNetworkd.NetworkDriver.Backend.Netlink;

namespace VirtNetworkd.NetworkDriver.Backend.Firewall;

/// <summary>
/// Runs <c>nft</c> commands in process through libnftables (what the nft program is a thin front
/// of), so a network start or destroy costs no process start, dynamic linking and cache set-up per
/// nft call; every other program, an nft option it does not know, and a host without
/// libnftables.so.1 go to <paramref name="fallback"/>. The netlink socket libnftables opens
/// belongs to the calling thread's network namespace, the daemon's. Calls are serialized (the
/// kernel serializes nftables transactions anyway, and libnftables is not documented as
/// thread-safe across contexts).
/// <para>
/// <c>--echo --handle</c> of a script that only adds tables, chains and rules (a network start)
/// does not use libnftables' echo: for that, libnftables 1.0.x fetches and parses the whole
/// ruleset first (about 45–90 ms at 2000 rules, so every start got slower with every running
/// network). The script runs without it, the same single transaction, while a netlink socket of
/// ours listens to nf_tables' notifications; <see cref="NftNoticeEcho"/> turns the transaction's
/// notifications into the echo (the handles). Without that socket, libnftables echoes.
/// </para>
/// </summary>
public sealed class LibNftablesRunner(IFirewallRunner fallback) : IFirewallRunner
{
    private const uint OutputHandle = 1 << 3, OutputJson = 1 << 4, OutputEcho = 1 << 5;
    private static readonly Lock Serial = new();
    private static readonly Lazy<bool> Available = new(Probe);

    /// <summary>Whether libnftables.so.1 could be loaded.</summary>
    public static bool IsAvailable => Available.Value;

    public FirewallRunResult Run(string program, IReadOnlyList<string> args, string? stdin = null)
    {
        ArgumentNullException.ThrowIfNull(args);
        if (program != "nft" || !IsAvailable || !TryCommand(args, stdin, out uint flags, out string command))
            return fallback.Run(program, args, stdin);
        lock (Serial)
        {
            IntPtr ctx = Native.nft_ctx_new(0);
            if (ctx == IntPtr.Zero) return fallback.Run(program, args, stdin);
            try
            {
                if (flags == (OutputEcho | OutputHandle) && stdin is not null && NftNoticeEcho.Commands(command) is { Count: > 0 } adds
                    && Listen() is { } listener)
                {
                    using (listener) return RunEchoingFromNotices(ctx, command, adds, listener);
                }
                return RunCommand(ctx, flags, command);
            }
            finally
            {
                Native.nft_ctx_free(ctx);
            }
        }
    }

    private static FirewallRunResult RunCommand(IntPtr ctx, uint flags, string command)
    {
        Native.nft_ctx_output_set_flags(ctx, flags);
        Native.nft_ctx_buffer_output(ctx);
        Native.nft_ctx_buffer_error(ctx);
        int rc = Native.nft_run_cmd_from_buffer(ctx, command);
        string stdout = Marshal.PtrToStringUTF8(Native.nft_ctx_get_output_buffer(ctx)) ?? "";
        string stderr = Marshal.PtrToStringUTF8(Native.nft_ctx_get_error_buffer(ctx)) ?? "";
        return new FirewallRunResult(rc == 0 ? 0 : 1, stdout, stderr);
    }

    /// <summary>A socket in nf_tables' notification group; null when it cannot be had (then libnftables echoes).</summary>
    private static NetlinkSocket? Listen()
    {
        NetlinkSocket? socket = null;
        try
        {
            socket = NetlinkSocket.OpenProtocol(Nft.NetlinkNetfilter);
            socket.Subscribe(Nft.GroupNfTables, NotificationBuffer);
            return socket;
        }
        catch (NetlinkErrorException)
        {
            socket?.Dispose();
            return null;
        }
    }

    /// <summary>Room for the notifications of transactions that others commit while ours runs (a few hundred bytes per rule).</summary>
    private const int NotificationBuffer = 32 << 20;

    private static FirewallRunResult RunEchoingFromNotices(IntPtr ctx, string command, IReadOnlyList<NftAddCommand> adds, NetlinkSocket listener)
    {
        FirewallRunResult r = RunCommand(ctx, 0, command);
        if (r.ExitCode != 0) return r; // nothing was committed
        var notices = new List<NfTablesNotice>();
        string? echo = null, why;
        try
        {
            // the kernel queued the transaction's notifications before it acknowledged the batch
            if (!listener.Drain(d => NfTablesMessages.ReadAll(d, notices))) why = "notifications were lost (ENOBUFS)";
            else if (NfTablesMessages.Transaction(notices, Native.gettid()) is not { } ours) why = "no notification of the transaction";
            else if ((echo = NftNoticeEcho.Echo(adds, ours)) is null) why = $"{ours.Count} notifications for {adds.Count} commands";
            else why = null;
        }
        catch (Exception e) when (e is NetlinkErrorException or NetlinkFormatException)
        {
            why = e.Message;
        }
        return echo is not null
            ? new FirewallRunResult(0, echo, r.Stderr)
            : new FirewallRunResult(1, "", $"the batch was committed, but its handles could not be read: {why}");
    }

    /// <summary>nft's command line as one libnftables command: -a/--handle, -e/--echo, -j/--json,
    /// then either <c>-f -</c> (the commands are stdin) or the words of one command.</summary>
    public static bool TryCommand(IReadOnlyList<string> args, string? stdin, out uint flags, out string command)
    {
        flags = 0;
        command = "";
        int i = 0;
        for (; i < args.Count && args[i].StartsWith('-'); i++)
        {
            switch (args[i])
            {
                case "-a" or "--handle": flags |= OutputHandle; break;
                case "-e" or "--echo": flags |= OutputEcho; break;
                case "-j" or "--json": flags |= OutputJson; break;
                case "-f" or "--file":
                    if (i + 2 != args.Count || args[i + 1] != "-" || stdin is null) return false;
                    command = stdin;
                    return true;
                default: return false;
            }
        }
        if (i == args.Count || stdin is not null) return false;
        command = string.Join(' ', args.Skip(i));
        return true;
    }

    private static bool Probe()
    {
        try
        {
            Native.nft_ctx_free(Native.nft_ctx_new(0));
            return true;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }
    }

    private static class Native
    {
        private const string Lib = "libnftables.so.1";

        [DllImport(Lib)] public static extern IntPtr nft_ctx_new(uint flags);
        [DllImport(Lib)] public static extern void nft_ctx_free(IntPtr ctx);
        [DllImport(Lib)] public static extern void nft_ctx_output_set_flags(IntPtr ctx, uint flags);
        [DllImport(Lib)] public static extern int nft_ctx_buffer_output(IntPtr ctx);
        [DllImport(Lib)] public static extern int nft_ctx_buffer_error(IntPtr ctx);
        [DllImport(Lib)] public static extern IntPtr nft_ctx_get_output_buffer(IntPtr ctx);
        [DllImport(Lib)] public static extern IntPtr nft_ctx_get_error_buffer(IntPtr ctx);
        [DllImport(Lib)] public static extern int nft_run_cmd_from_buffer(IntPtr ctx, [MarshalAs(UnmanagedType.LPUTF8Str)] string buf);

        /// <summary>The calling thread's id: what nf_tables reports as the committing process (NFTA_GEN_PROC_PID).</summary>
        [DllImport("libc")] public static extern int gettid();
    }
}

/// <summary>
/// Within one look at the firewall (the watch's tick, the reconciliation of every network at
/// start-up), every listing (a run without stdin) is made once and its answer reused, so checking
/// N networks lists a table once instead of N times. Thread-safe.
/// </summary>
public sealed class ListingCacheRunner(IFirewallRunner inner) : IFirewallRunner
{
    private readonly Dictionary<string, FirewallRunResult> _answers = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();

    public long CreatedAt { get; } = Environment.TickCount64;

    public FirewallRunResult Run(string program, IReadOnlyList<string> args, string? stdin = null)
    {
        ArgumentNullException.ThrowIfNull(args);
        if (stdin is not null) return inner.Run(program, args, stdin);
        string key = program + "\0" + string.Join('\0', args);
        lock (_lock)
        {
            if (!_answers.TryGetValue(key, out var r)) _answers[key] = r = inner.Run(program, args);
            return r;
        }
    }
}
