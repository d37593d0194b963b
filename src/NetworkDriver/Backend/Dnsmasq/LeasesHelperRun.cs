using System.Globalization;
using System.Text;

namespace VirtNetworkd.NetworkDriver.Backend.Dnsmasq;

/// <summary>
/// What dnsmasq tells the leases helper: the argv after the program name and the environment
/// (DNSMASQ_INTERFACE, DNSMASQ_IAID, DNSMASQ_MAC, DNSMASQ_CLIENT_ID, DNSMASQ_SUPPLIED_HOSTNAME,
/// DNSMASQ_OLD_HOSTNAME, DNSMASQ_LEASE_EXPIRES, DNSMASQ_SERVER_DUID; VIR_BRIDGE_NAME, which the
/// daemon sets for dnsmasq because dnsmasq gives no interface when it replays expired leases).
/// </summary>
public sealed record LeasesHelperInput(IReadOnlyList<string> Args, Func<string, string?> Env);

/// <summary>The outcome of one helper run: the file's new text (null: leave it), stdout, stderr, exit code.</summary>
public sealed record LeasesHelperOutcome(string? NewContent, string Stdout, string Stderr, int ExitCode);

/// <summary>
/// The leases helper (libvirt's src/network/leaseshelper.c and src/util/virlease.c, 10.8), as pure
/// functions: <see cref="Prepare"/> checks argv and environment, <see cref="Apply"/> turns the
/// status file's bytes into its new text and what <c>init</c> prints. The executable
/// (src/LeasesHelper) adds the lock, the file and the process. As libvirt's helper, it keeps
/// expired leases (dnsmasq sends <c>del</c> for them; the daemon's reader hides them) and keeps
/// every member of an existing lease as it was.
/// </summary>
public static class LeasesHelperRun
{
    public const string Usage = "Usage: {0} add|old|del|init mac|clientid ip [hostname]\n" +
                                "Designed for use with 'dnsmasq --dhcp-script'\n" +
                                "Refer to man page of dnsmasq for more details'\n";

    private static readonly string[] Actions = ["add", "old", "del", "init"];

    /// <summary>A checked request: the action, the bridge, and the lease fields as libvirt picks them.</summary>
    public sealed record Request(string Action, string Interface, string? Mac, string? Ip, string? Hostname,
                                 string? Iaid, string? ClientId, string? ServerDuid, Func<string, string?> Env);

    /// <summary>
    /// leaseshelper.c's main up to the lock: null with <paramref name="early"/> set when the run
    /// ends here (--help, --version, usage, no interface, unknown action).
    /// </summary>
    public static Request? Prepare(LeasesHelperInput input, string programName, out LeasesHelperOutcome? early)
    {
        ArgumentNullException.ThrowIfNull(input);
        var args = input.Args;
        var env = input.Env;
        early = null;
        if (args.Count >= 1)
        {
            if (args[0] == "--help")
            {
                early = new(null, string.Format(CultureInfo.InvariantCulture, Usage, programName), "", 0);
                return null;
            }
            if (args[0] == "--version")
            {
                early = new(null, $"{programName} (libvirt) {DriverInfo.LibVersionString}\n", "", 0);
                return null;
            }
        }
        if (args.Count is not (1 or 3 or 4))
        {
            early = new(null, "", $"{programName}: try --help for more details\n", 1);
            return null;
        }
        string? iface = env("DNSMASQ_INTERFACE") ?? env("VIR_BRIDGE_NAME");
        if (iface is null)
        {
            early = new(null, "", "interface not set\n", 1);
            return null;
        }
        if (!Actions.Contains(args[0]))
        {
            early = new(null, "", $"Unsupported action: {args[0]}\n", 1);
            return null;
        }
        string? mac = args.Count > 1 ? args[1] : null;
        string? ip = args.Count > 2 ? args[2] : null;
        string? hostname = args.Count == 4 ? args[3] : env("DNSMASQ_SUPPLIED_HOSTNAME");
        string? iaid = env("DNSMASQ_IAID");
        string? clientId = env("DNSMASQ_CLIENT_ID");
        if (iaid is not null)
        {
            // DHCPv6: argv names the client's DUID, the MAC comes from the environment
            clientId = mac;
            mac = env("DNSMASQ_MAC");
        }
        return new Request(args[0], iface, mac, ip, hostname, iaid, clientId, env("DNSMASQ_SERVER_DUID"), env);
    }

    /// <summary>
    /// The rest of main, over the status file's current bytes (already read within the size
    /// limit; empty when it was just created). <paramref name="path"/> is for messages only.
    /// </summary>
    public static LeasesHelperOutcome Apply(Request request, ReadOnlySpan<byte> current, string path)
    {
        ArgumentNullException.ThrowIfNull(request);
        LeaseJson? leaseNew = null;
        bool delete = false;
        if (request.Action is "add" or "old")
        {
            if (!TryNewLease(request, out leaseNew, out string? error)) return Fail(error!);
            delete = leaseNew is not null;
        }
        else if (request.Action == "del")
        {
            delete = true;
        }

        string? serverDuid = request.ServerDuid;
        var kept = LeaseJson.Array();
        string? readError = ReadCustomLeaseFile(kept, current, delete ? request.Ip : null, ref serverDuid);
        if (readError is not null) return Fail(readError);

        if (request.Action == "init")
            return PrintLeases(kept, serverDuid);

        if (leaseNew is not null) kept.Items.Add(leaseNew);
        return new(LeaseJsonText.Format(kept), "", "", 0);
    }

    /// <summary>virLeaseNew.</summary>
    private static bool TryNewLease(Request r, out LeaseJson? lease, out string? error)
    {
        lease = null;
        error = null;
        string? hostname = r.Hostname ?? r.Env("DNSMASQ_OLD_HOSTNAME");
        if (r.Mac is null) return true;
        long expiry = 0;
        if (r.Env("DNSMASQ_LEASE_EXPIRES") is { } text)
        {
            // virTrimSpaces, then virStrToLong_ll
            string trimmed = text.Trim(' ', '\t', '\n', '\v', '\f', '\r');
            if (!LeaseJsonText.TryParseLongLong(trimmed, out expiry))
            {
                error = $"internal error: Unable to convert lease expiry time to long long: {trimmed}";
                return false;
            }
        }
        var o = LeaseJson.Object();
        if (r.Iaid is not null) o.Append("iaid", LeaseJson.String(r.Iaid));
        if (r.Ip is not null) o.Append("ip-address", LeaseJson.String(r.Ip));
        o.Append("mac-address", LeaseJson.String(r.Mac));
        if (hostname is not null) o.Append("hostname", LeaseJson.String(hostname));
        if (r.ClientId is not null) o.Append("client-id", LeaseJson.String(r.ClientId));
        if (r.ServerDuid is not null) o.Append("server-duid", LeaseJson.String(r.ServerDuid));
        o.Append("expiry-time", LeaseJson.Number(expiry));
        lease = o;
        return true;
    }

    /// <summary>
    /// virLeaseReadCustomLeaseFile: moves the leases of the file into <paramref name="into"/>, less
    /// the one of <paramref name="ipToDelete"/>; an IPv6 lease gives its server DUID when none is
    /// known yet and gets the known one when it has none. A file that is not JSON is dropped
    /// (rewritten), one that is JSON but not libvirt's is an error. Returns the error or null.
    /// </summary>
    private static string? ReadCustomLeaseFile(LeaseJson into, ReadOnlySpan<byte> bytes, string? ipToDelete, ref string? serverDuid)
    {
        if (bytes.Length == 0) return null;
        LeaseJson array;
        try
        {
            array = LeaseJsonText.Parse(bytes);
        }
        catch (LeaseJsonException)
        {
            return null; // libvirt: "invalid json in file: …, rewriting it", not shown
        }
        if (array.Kind != LeaseJsonKind.Array) return "internal error: couldn't fetch array of leases";
        foreach (var lease in array.Items)
        {
            string? ip = lease.GetString("ip-address");
            if (ip is null || !lease.TryGetLong("expiry-time", out _)) return "internal error: failed to parse json";
            if (ipToDelete is not null && ip == ipToDelete) continue;
            if (ip.Contains(':', StringComparison.Ordinal))
            {
                if (lease.GetString("server-duid") is { } duid)
                    serverDuid ??= duid;
                else if (!lease.Append("server-duid", LeaseJson.String(serverDuid)))
                    return "internal error: duplicate key 'server-duid'";
            }
            into.Items.Add(lease);
        }
        return null;
    }

    /// <summary>virLeasePrintLeases: dnsmasq's lease file lines, IPv4 first, then the DUID and the IPv6 leases.</summary>
    private static LeasesHelperOutcome PrintLeases(LeaseJson leases, string? serverDuid)
    {
        var sb = new StringBuilder();
        foreach (var lease in leases.Items)
        {
            string ip = lease.GetString("ip-address")!;
            if (ip.Contains(':', StringComparison.Ordinal) || !lease.TryGetLong("expiry-time", out long expiry)) continue;
            Line(sb, expiry, lease.GetString("mac-address"), ip, lease);
        }
        if (serverDuid is not null)
        {
            sb.Append("duid ").Append(serverDuid).Append('\n');
            foreach (var lease in leases.Items)
            {
                string ip = lease.GetString("ip-address")!;
                if (!ip.Contains(':', StringComparison.Ordinal) || !lease.TryGetLong("expiry-time", out long expiry)) continue;
                Line(sb, expiry, lease.GetString("iaid"), ip, lease);
            }
        }
        return new(null, sb.ToString(), "", 0);
    }

    /// <summary>printf("%lld %s %s %s %s\n") with glibc's "(null)" and libvirt's "*" for a missing name or client id.</summary>
    private static void Line(StringBuilder sb, long expiry, string? id, string ip, LeaseJson lease) =>
        sb.Append(expiry.ToString(CultureInfo.InvariantCulture)).Append(' ')
          .Append(id ?? "(null)").Append(' ')
          .Append(ip).Append(' ')
          .Append(lease.GetString("hostname") ?? "*").Append(' ')
          .Append(lease.GetString("client-id") ?? "*").Append('\n');

    /// <summary>A failure as virDispatchError prints it (VIR_FROM_NETWORK, level error).</summary>
    public static LeasesHelperOutcome Fail(string message) => new(null, "", $"libvirt: Network Driver error : {message}\n", 1);
}
