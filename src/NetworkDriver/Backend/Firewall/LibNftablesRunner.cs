using System.Runtime.InteropServices;

namespace VirtNetworkd.NetworkDriver.Backend.Firewall;

/// <summary>
/// Runs <c>nft</c> commands in process through libnftables (what the nft program is a thin front
/// of), so a network start or destroy costs no process start, dynamic linking and cache set-up per
/// nft call; every other program, an nft option it does not know, and a host without
/// libnftables.so.1 go to <paramref name="fallback"/>. The netlink socket libnftables opens
/// belongs to the calling thread's network namespace, the daemon's. Calls are serialized (the
/// kernel serializes nftables transactions anyway, and libnftables is not documented as
/// thread-safe across contexts).
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
                Native.nft_ctx_output_set_flags(ctx, flags);
                Native.nft_ctx_buffer_output(ctx);
                Native.nft_ctx_buffer_error(ctx);
                int rc = Native.nft_run_cmd_from_buffer(ctx, command);
                string stdout = Marshal.PtrToStringUTF8(Native.nft_ctx_get_output_buffer(ctx)) ?? "";
                string stderr = Marshal.PtrToStringUTF8(Native.nft_ctx_get_error_buffer(ctx)) ?? "";
                return new FirewallRunResult(rc == 0 ? 0 : 1, stdout, stderr);
            }
            finally
            {
                Native.nft_ctx_free(ctx);
            }
        }
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
