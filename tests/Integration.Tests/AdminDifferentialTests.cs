using System.Text.RegularExpressions;

namespace VirtNetworkd.Integration.Tests;

/// <summary>
/// The same virt-admin transcript against our admin socket and the reference libvirtd 9.0's,
/// compared after <see cref="AdminNormalise"/>: the server names, and the numbers that depend on
/// the process (client ids, pids, connection times, busy and idle workers). Only commands that
/// leave the shared reference as it was (lookups, errors, filters set back) are run on it.
/// </summary>
public class AdminDifferentialTests : DaemonFixture
{
    private string Ours => VirtAdmin.Uri(Daemon.AdminSocketPath);
    private static string Theirs => $"libvirtd:///system?socket={ReferenceDaemon.AdminSocketPath}";

    private void Same(params string[] args) => Same(args, args);

    /// <summary>Runs <paramref name="ours"/> on our daemon and <paramref name="theirs"/> (the same
    /// command naming the reference's objects) on the reference, and compares.</summary>
    private void Same(string[] ours, string[] theirs)
    {
        var o = VirtAdmin.Run(Ours, ours);
        var t = VirtAdmin.Run(Theirs, theirs);
        string what = "virt-admin " + string.Join(' ', ours);
        Assert.That(o.ExitCode, Is.EqualTo(t.ExitCode), $"{what}: exit code\nours: {o}\ntheirs: {t}");
        Assert.That(AdminNormalise.Apply(o.Stdout), Is.EqualTo(AdminNormalise.Apply(t.Stdout)), $"{what}: stdout\nours: {o}\ntheirs: {t}");
        Assert.That(AdminNormalise.Apply(o.Stderr), Is.EqualTo(AdminNormalise.Apply(AdminNormalise.ClientLimitsWording(t.Stderr))), $"{what}: stderr\nours: {o}\ntheirs: {t}");
    }

    private static string[] OnMain(string cmd, params string[] rest) => [cmd, "virtnetworkd", .. rest];
    private static string[] OnReference(string cmd, params string[] rest) => [cmd, "libvirtd", .. rest];

    [Test]
    public void ServersPoolsAndLimits()
    {
        Same("server-list");
        Same("server-threadpool-info", "admin");
        Same("server-clients-info", "admin");
        Same("client-list", "admin");
        Same(OnMain("client-list"), OnReference("client-list"));
        Same("server-update-tls", "admin");
        Same(OnMain("server-update-tls"), OnReference("server-update-tls"));
    }

    [Test]
    public void ErrorCases()
    {
        Same("server-threadpool-info", "nope");
        Same("server-threadpool-set", "nope", "--max-workers", "3");
        Same("server-clients-info", "nope");
        Same("server-clients-set", "nope", "--max-clients", "3");
        Same("client-list", "nope");
        Same("client-info", "admin", "99999999");
        Same("client-disconnect", "admin", "99999999");
        Same("client-info", "nope", "1");
        Same("server-update-tls", "nope");
        // refused by the server: nothing changes on either
        Same("server-threadpool-set", "admin", "--max-workers", "1");
        Same("server-threadpool-set", "admin", "--min-workers", "0", "--max-workers", "0");
        Same("server-clients-set", "admin", "--max-unauth-clients", "999999");
        Same("daemon-log-filters", "rpc");
        Same("daemon-log-filters", "7:rpc");
        Same("daemon-log-filters", "1:+");
        Same("daemon-log-outputs", "1:bogus");
        Same("daemon-log-outputs", "0:stderr");
        Same("daemon-log-outputs", "1:file");
        Same("daemon-log-outputs", "1:stderr:x");
        Same("daemon-log-outputs", "1:file:/nonexistent-dir/x.log");
    }

    [Test]
    public void ClientInfoOfAConnectedVirsh()
    {
        var oursBefore = VirtAdmin.ClientIds(Ours, "virtnetworkd");
        var theirsBefore = VirtAdmin.ClientIds(Theirs, "libvirtd");
        using var o = new InteractiveVirsh(Daemon.Uri);
        using var t = new InteractiveVirsh(ReferenceDaemon.Uri);
        o.Send("uri");
        t.Send("uri");
        long ourId = 0, theirId = 0;
        Assert.That(VirtAdmin.Eventually(() => (ourId = VirtAdmin.ClientIds(Ours, "virtnetworkd").Except(oursBefore).FirstOrDefault()) != 0), Is.True);
        Assert.That(VirtAdmin.Eventually(() => (theirId = VirtAdmin.ClientIds(Theirs, "libvirtd").Except(theirsBefore).FirstOrDefault()) != 0), Is.True);
        Same(OnMain("client-info", ourId.ToString()), OnReference("client-info", theirId.ToString()));
        Same(OnMain("client-list"), OnReference("client-list"));
        o.Quit();
        t.Quit();
    }

    [Test]
    public void LogFiltersSetAndReadBack()
    {
        var original = VirtAdmin.Run(Theirs, "daemon-log-filters");
        Assert.That(original.ExitCode, Is.Zero, original.ToString());
        string restore = Regex.Replace(original.Stdout.Replace(" Logging filters:", "", StringComparison.Ordinal).Trim(), @"(\d):\*([^ ]*)\*", "$1:$2");
        try
        {
            Same("daemon-log-filters", "3:rpc 4:util.json +1:network");
            Same("daemon-log-filters");
        }
        finally
        {
            VirtAdmin.Run(Ours, "daemon-log-filters", "");
            VirtAdmin.Run(Theirs, "daemon-log-filters", restore);
        }
    }
}

/// <summary>What may differ between our admin transcript and the reference's, each with its reason.</summary>
public static partial class AdminNormalise
{
    public static string Apply(string s)
    {
        // the main server is named after the daemon: virtnetworkd here, libvirtd there; the dashes
        // under a table are as wide as its widest row
        s = s.Replace("libvirtd", "virtnetworkd", StringComparison.Ordinal);
        s = Dashes().Replace(s, "----");
        // client ids, connection times and process ids belong to the process
        s = ClientRow().Replace(s, " ID   unix   TIME");
        s = ServerOrder(s);
        s = ProcessField().Replace(s, m => m.Groups[1].Value + "N");
        return s;
    }

    /// <summary>
    /// server-list: libvirt lists its servers in the order of its hash table (virHashForEach over a
    /// table seeded at random per process), so either order is libvirt's; the rows are compared
    /// sorted by name, without their index.
    /// </summary>
    private static string ServerOrder(string s)
    {
        if (!s.StartsWith(" Id   Name\n", StringComparison.Ordinal)) return s;
        var lines = s.Split('\n');
        var rows = lines.Skip(2).Where(l => l.Trim().Length > 0).Select(l => Regex.Replace(l, @"^ \d+\s+", "")).Order(StringComparer.Ordinal);
        return string.Join('\n', lines.Take(2).Concat(rows));
    }

    /// <summary>
    /// 9.0's virNetServerSetClientLimits said the two limits the wrong way round; libvirt fixed
    /// the message later (11.3's src/rpc/virnetserver.c, and 10.8, our target).
    /// </summary>
    public static string ClientLimitsWording(string s) => s.Replace(
        "The overall maximum number of clients waiting for authentication must not be less than the overall maximum number of clients",
        "The overall maximum number of clients must not be less than the number of clients waiting for authentication", StringComparison.Ordinal);

    [GeneratedRegex(@"(?m)^-{10,}$")]
    private static partial Regex Dashes();

    [GeneratedRegex(@"(?m)^ \d+\s+unix\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d[+-]\d{4}$")]
    private static partial Regex ClientRow();

    /// <summary>Busy and idle workers (libvirt runs the admin call itself on a worker, we run it
    /// on the event loop), and a client's id, time and pid.</summary>
    [GeneratedRegex(@"(?m)^((?:nWorkers|freeWorkers|id|unix_process_id|connection_time)\s*: ).*$")]
    private static partial Regex ProcessField();
}
