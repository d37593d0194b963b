using System.Text;
using VirtNetworkd.Server.Host;
using VirtNetworkd.Server.Host.Config;
using VirtNetworkd.Server.Host.Logging;

namespace VirtNetworkd.Fuzz;

/// <summary>
/// Target 5a: the config file (virtnetworkd.conf): libvirt's conf syntax, then the daemon's keys,
/// then the logging settings they give. The text is decoded as the daemon reads the file (UTF-8,
/// invalid bytes replaced); byte 0 bit 0 reads it as an unprivileged daemon. Oracle: failures only
/// as <see cref="ConfException"/> (syntax, types) and <see cref="LogConfigException"/> (log values).
/// </summary>
public sealed class ConfTarget : FuzzTarget
{
    public override string Name => "conf";
    public override string Summary => "config file parser and daemon config keys, then the log settings they give; ConfException/LogConfigException only";

    private static readonly DaemonEnvironment Env = new(_ => null, _ => { }, 0, 1, "/nonexistent");

    public override void Run(ReadOnlySpan<byte> input)
    {
        if (input.Length < 1) return;
        bool privileged = (input[0] & 1) == 0;
        string text = Encoding.UTF8.GetString(input[1..]);
        DaemonConfig config;
        try
        {
            config = DaemonConfig.FromConf(LibvirtConfParser.Parse(text, "/etc/libvirt/virtnetworkd.conf"), privileged);
        }
        catch (ConfException)
        {
            return;
        }
        try
        {
            LogSettings.ForDaemon(config.LogLevel, config.LogFilters, config.LogOutputs, verbose: false, daemonized: false,
                "/nonexistent/virtnetworkd.log", Env, journaldAvailable: false, stdinIsTerminal: false);
        }
        catch (LogConfigException)
        {
        }
    }

    private static readonly string[] Own =
    [
        "listen_tls = 0\nunix_sock_group = \"libvirt\"\nunix_sock_rw_perms = \"0770\"\nauth_unix_rw = \"none\"\n",
        "max_clients = 5000\nmax_queued_clients = 1000\nmax_anonymous_clients = 20\nmin_workers = 5\nmax_workers = 20\nprio_workers = 5\nmax_client_requests = 5\n",
        "admin_max_workers = 5\nadmin_max_clients = 5\nkeepalive_interval = 5\nkeepalive_count = 5\nadmin_keepalive_interval = -1\n",
        "log_level = 3\nlog_filters = \"1:rpc 3:remote 4:event\"\nlog_outputs = \"3:syslog:virtnetworkd 1:file:/tmp/x.log\"\n",
        "access_drivers = [ \"polkit\", \"nop\" ]\n# comment\nunix_sock_dir = \"/run/libvirt\" # trailing\n",
        "host_uuid = \"00000000-0000-0000-0000-000000000000\"\nhost_uuid_source = \"smbios\"\n",
        "ovs_timeout = 5\nsasl_allowed_username_list = [\"joe@EXAMPLE.COM\",\n  \"fred@EXAMPLE.COM\" ]\n",
    ];

    public override IEnumerable<(string Name, byte[] Data)> Seeds(SeedSources sources)
    {
        for (int i = 0; i < Own.Length; i++)
        {
            yield return ($"own-{i}", Prefix([0], Own[i]));
            yield return ($"own-{i}-user", Prefix([1], Own[i]));
        }
        if (Program.FindUp("dist/virtnetworkd.conf") is { } dist)
        {
            string text = File.ReadAllText(dist);
            yield return ("dist-virtnetworkd.conf", Prefix([0], text));
            // the commented default with every setting switched on
            yield return ("dist-uncommented", Prefix([0], string.Join('\n', text.Split('\n').Select(l => l.StartsWith("#", StringComparison.Ordinal) && l.Contains(" = ", StringComparison.Ordinal) ? l[1..] : l))));
        }
    }

    public override IEnumerable<byte[]> Dictionary()
    {
        foreach (var t in new[] { " = ", "\"", "[", "]", ",", "#", "\n", "0x", "0777", "-1", "4294967296", "1:", "2:", "3:", "4:", "file:", "syslog:", "stderr", "journald" })
            yield return Utf8(t);
        if (Program.FindUp("dist/virtnetworkd.conf") is { } dist)
            foreach (var line in File.ReadAllLines(dist))
                if (System.Text.RegularExpressions.Regex.Match(line, @"^#?([a-z_]+) = ") is { Success: true } m)
                    yield return Utf8(m.Groups[1].Value);
    }
}

/// <summary>
/// Target 5b: the log settings' own syntax (log_filters, log_outputs, LIBVIRT_DEBUG). Byte 0 picks
/// the parser (mod 3); the rest is the text. Oracle: failures only as
/// <see cref="LogConfigException"/>; filters and outputs print as text that parses back to the
/// same list.
/// </summary>
public sealed class LogSpecTarget : FuzzTarget
{
    public override string Name => "logspec";
    public override string Summary => "log_filters / log_outputs / priority parsers; LogConfigException only, print → parse round trip";

    public override void Run(ReadOnlySpan<byte> input)
    {
        if (input.Length < 1) return;
        string text = Encoding.UTF8.GetString(input[1..]);
        try
        {
            switch (input[0] % 3)
            {
                case 0:
                {
                    var filters = LogSettings.ParseFilters(text);
                    var again = LogSettings.ParseFilters(string.Join(' ', filters));
                    // libvirt drops one leading '+' of a match and prints the match as kept: a match
                    // that itself starts with '+' does not come back (libvirt does the same)
                    if (!filters.Any(f => f.Match.StartsWith('+')) && !again.SequenceEqual(filters))
                        throw new FuzzFinding($"filters '{text}' print as '{string.Join(' ', filters)}', which parses to '{string.Join(' ', again)}'");
                    break;
                }
                case 1:
                {
                    var outputs = LogSettings.ParseOutputs(text);
                    string printed = string.Join(' ', outputs);
                    var again = LogSettings.ParseOutputs(printed);
                    if (!again.SequenceEqual(outputs))
                        throw new FuzzFinding($"outputs '{text}' print as '{printed}', which parses to '{string.Join(' ', again)}'");
                    break;
                }
                default:
                    LogSettings.ParsePriority(text);
                    break;
            }
        }
        catch (LogConfigException)
        {
        }
    }

    public override IEnumerable<(string Name, byte[] Data)> Seeds(SeedSources sources)
    {
        yield return ("filters", Prefix([0], "1:rpc 3:remote +2:util.object 4:*"));
        yield return ("outputs", Prefix([1], "3:syslog:virtnetworkd 1:file:/var/log/libvirt/virtnetworkd.log 2:journald 4:stderr"));
        yield return ("priority", Prefix([2], "debug"));
    }

    public override IEnumerable<byte[]> Dictionary()
    {
        foreach (var t in new[] { "1:", "2:", "3:", "4:", ":", " ", "+", "*", "file:", "syslog:", "stderr", "journald", "debug", "info", "warning", "error", "/" })
            yield return Utf8(t);
    }
}
