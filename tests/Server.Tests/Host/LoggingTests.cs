using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using VirtNetworkd.Server.Host;
using VirtNetworkd.Server.Host.Logging;

namespace VirtNetworkd.Server.Tests.Host;

[NonParallelizable]
public class LoggingTests
{
    private const string Ts = @"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3}\+0000";
    private string _dir = "";

    [SetUp]
    public void SetUp()
    {
        _dir = TestEnv.TempDir();
        Log.Reset();
    }

    [TearDown]
    public void TearDown()
    {
        Log.Reset();
        Log.JournalSocketPath = LogSettings.JournalSocket;
        Log.SyslogSocketPath = "/dev/log";
        Directory.Delete(_dir, true);
    }

    // ---------- parsing ----------

    [Test]
    public void ParseFilters()
    {
        var f = LogSettings.ParseFilters("1:util  3:rpc +4:+object 2:network.bridge_driver");
        Assert.That(f, Is.EqualTo(new[]
        {
            new LogFilter("util", LogPriority.Debug),
            new LogFilter("rpc", LogPriority.Warning),
            new LogFilter("object", LogPriority.Error),
            new LogFilter("network.bridge_driver", LogPriority.Info),
        }).Using<LogFilter>((a, b) => a.Match == b.Match && a.Priority == b.Priority));
        Assert.That(LogSettings.ParseFilters("").Count, Is.Zero);
        Assert.That(LogSettings.ParseFilters(null).Count, Is.Zero);
    }

    [TestCase("util", "invalid argument: Malformed format for filter 'util'")]
    [TestCase("x:util", "invalid argument: Invalid priority 'x' for filter 'x:util'")]
    [TestCase("0:util", "invalid argument: Invalid priority '0' for filter '0:util'")]
    [TestCase("5:util", "invalid argument: Invalid priority '5' for filter '5:util'")]
    [TestCase(":util", "invalid argument: Invalid priority '' for filter ':util'")]
    [TestCase("-1:util", "invalid argument: Invalid priority '-1' for filter '-1:util'")]
    [TestCase("1:+", "invalid argument: Invalid match string '+'")]
    [TestCase("1:", "invalid argument: Invalid match string ''")]
    public void BadFilters(string text, string message) =>
        Assert.That(Assert.Throws<LogConfigException>(() => LogSettings.ParseFilters(text))!.Message, Is.EqualTo(message));

    [Test]
    public void ParseOutputs()
    {
        var o = LogSettings.ParseOutputs("1:stderr 3:file:/var/log/x.log 2:journald 4:syslog:virtnetworkd");
        Assert.That(o.Select(x => x.ToString()), Is.EqualTo(new[]
        {
            "1:stderr", "3:file:/var/log/x.log", "2:journald", "4:syslog:virtnetworkd",
        }));
        Assert.That(o[1].Destination, Is.EqualTo(LogDestination.File));
        Assert.That(o[1].Name, Is.EqualTo("/var/log/x.log"));
        Assert.That(o[3].Name, Is.EqualTo("virtnetworkd"));
    }

    [Test]
    public void ALaterDuplicateOutputReplacesTheEarlierOne()
    {
        var o = LogSettings.ParseOutputs("1:stderr 3:file:/a 4:stderr 2:file:/b 1:file:/a");
        Assert.That(o.Select(x => x.ToString()), Is.EqualTo(new[] { "4:stderr", "2:file:/b", "1:file:/a" }));
    }

    [Test]
    public void RelativeFileOutputBecomesAbsolute() =>
        Assert.That(LogSettings.ParseOutputs("1:file:rel.log")[0].Name, Is.EqualTo(Path.GetFullPath("rel.log")));

    // fuzz findings (fuzz/findings/logspec): Path.GetFullPath threw ArgumentException, which no
    // caller expects from a config value; libvirt's C string ends at the NUL, and virFileAbsPath("")
    // is the current folder (which then fails to open as a log file)
    [TestCase("1:file:", "")]
    [TestCase("1:file:/vlog2;\u0006\u00ff\u0080\0nald 4:stderr", "/vlog2;\u0006\u00ff\u0080")]
    [TestCase("3:syslog:vikd 1:file:/al\\\u00013Bsyd\0og", "/al\\\u00013Bsyd")]
    public void AFileOutputPathIsTakenAsCDoes(string text, string path)
    {
        var file = LogSettings.ParseOutputs(text).First(o => o.Destination == LogDestination.File);
        Assert.That(file.Name, Is.EqualTo(Path.GetFullPath(path.Length == 0 ? "." : path)));
    }

    [TestCase("stderr", "invalid argument: Malformed format for log output 'stderr'")]
    [TestCase("9:stderr", "invalid argument: Invalid log priority '9' for log output '9:stderr'")]
    [TestCase("a:stderr", "invalid argument: Invalid log priority 'a' for log output 'a:stderr'")]
    [TestCase("1:bogus", "invalid argument: Invalid log destination 'bogus' for log output '1:bogus'")]
    [TestCase("1:file", "invalid argument: Log output '1:file' does not meet the format requirements for destination type 'file'")]
    [TestCase("1:file:/a:b", "invalid argument: Log output '1:file:/a:b' does not meet the format requirements for destination type 'file'")]
    [TestCase("1:stderr:x", "invalid argument: Log output '1:stderr:x' does not meet the format requirements for destination type 'stderr'")]
    [TestCase("1:journald:x", "invalid argument: Log output '1:journald:x' does not meet the format requirements for destination type 'journald'")]
    [TestCase("1:syslog", "invalid argument: Log output '1:syslog' does not meet the format requirements for destination type 'syslog'")]
    public void BadOutputs(string text, string message) =>
        Assert.That(Assert.Throws<LogConfigException>(() => LogSettings.ParseOutputs(text))!.Message, Is.EqualTo(message));

    [TestCase("1", LogPriority.Debug)]
    [TestCase("debug", LogPriority.Debug)]
    [TestCase("2", LogPriority.Info)]
    [TestCase("info", LogPriority.Info)]
    [TestCase("3", LogPriority.Warning)]
    [TestCase("warning", LogPriority.Warning)]
    [TestCase("4", LogPriority.Error)]
    [TestCase("error", LogPriority.Error)]
    public void ParsePriority(string text, LogPriority p) => Assert.That(LogSettings.ParsePriority(text), Is.EqualTo(p));

    [Test]
    public void ParsePriorityRejectsOthers() =>
        Assert.That(Assert.Throws<LogConfigException>(() => LogSettings.ParsePriority("7"))!.Message,
                    Is.EqualTo("invalid argument: Failed to set logging priority, argument '7' is invalid"));

    // ---------- the daemon's set-up rules ----------

    private static LogSettings Daemon(uint level = 0, string? filters = null, string? outputs = null, bool verbose = false,
                                      bool daemonized = false, DaemonEnvironment? env = null, bool journald = false,
                                      bool tty = true) =>
        LogSettings.ForDaemon(level, filters, outputs, verbose, daemonized, "/var/log/libvirt/virtnetworkd.log",
                              env ?? TestEnv.Root(), journald, tty);

    [Test]
    public void DefaultsAreWarningToStderr()
    {
        var s = Daemon();
        Assert.That(s.DefaultPriority, Is.EqualTo(LogPriority.Warning));
        Assert.That(s.Filters, Is.Empty);
        Assert.That(s.Outputs.Select(o => o.ToString()), Is.EqualTo(new[] { "3:stderr" }));
    }

    [Test]
    public void ConfigValuesApply()
    {
        var s = Daemon(level: 1, filters: "3:rpc 1:network", outputs: "2:file:/tmp/v.log");
        Assert.That(s.DefaultPriority, Is.EqualTo(LogPriority.Debug));
        Assert.That(s.Filters.Select(f => f.ToString()), Is.EqualTo(new[] { "3:rpc", "1:network" }));
        Assert.That(s.Outputs.Select(o => o.ToString()), Is.EqualTo(new[] { "2:file:/tmp/v.log" }));
    }

    [Test]
    public void InvalidLogLevel() =>
        Assert.That(Assert.Throws<LogConfigException>(() => Daemon(level: 7))!.Message,
                    Is.EqualTo("invalid argument: Failed to set logging priority, argument '7' is invalid"));

    [Test]
    public void EnvironmentOverridesTheConfig()
    {
        var env = TestEnv.Root(("LIBVIRT_DEBUG", "error"), ("LIBVIRT_LOG_FILTERS", "1:util"),
                               ("LIBVIRT_LOG_OUTPUTS", "2:file:/tmp/env.log"));
        var s = Daemon(level: 1, filters: "3:rpc", outputs: "1:stderr", env: env);
        Assert.That(s.DefaultPriority, Is.EqualTo(LogPriority.Error));
        Assert.That(s.Filters.Select(f => f.ToString()), Is.EqualTo(new[] { "1:util" }));
        Assert.That(s.Outputs.Select(o => o.ToString()), Is.EqualTo(new[] { "2:file:/tmp/env.log" }));
    }

    [Test]
    public void EmptyEnvironmentVariablesAreIgnored()
    {
        var env = TestEnv.Root(("LIBVIRT_DEBUG", ""), ("LIBVIRT_LOG_FILTERS", ""), ("LIBVIRT_LOG_OUTPUTS", ""));
        var s = Daemon(level: 2, filters: "3:rpc", outputs: "1:stderr", env: env);
        Assert.That(s.DefaultPriority, Is.EqualTo(LogPriority.Info));
        Assert.That(s.Filters, Has.Count.EqualTo(1));
        Assert.That(s.Outputs.Select(o => o.ToString()), Is.EqualTo(new[] { "1:stderr" }));
    }

    [Test]
    public void BadEnvironmentValuesAreErrors()
    {
        Assert.That(Assert.Throws<LogConfigException>(() => Daemon(env: TestEnv.Root(("LIBVIRT_DEBUG", "loud"))))!.Message,
                    Is.EqualTo("invalid argument: Failed to set logging priority, argument 'loud' is invalid"));
        Assert.Throws<LogConfigException>(() => Daemon(env: TestEnv.Root(("LIBVIRT_LOG_OUTPUTS", "1:nowhere"))));
        Assert.Throws<LogConfigException>(() => Daemon(env: TestEnv.Root(("LIBVIRT_LOG_FILTERS", "util"))));
    }

    [Test]
    public void VerboseRaisesToInfoButNeverLowers()
    {
        Assert.That(Daemon(verbose: true).DefaultPriority, Is.EqualTo(LogPriority.Info));
        Assert.That(Daemon(verbose: true).Outputs[0].ToString(), Is.EqualTo("2:stderr"));
        Assert.That(Daemon(level: 1, verbose: true).DefaultPriority, Is.EqualTo(LogPriority.Debug));
        // -v wins over the environment, as libvirt applies it last
        Assert.That(Daemon(verbose: true, env: TestEnv.Root(("LIBVIRT_DEBUG", "4"))).DefaultPriority, Is.EqualTo(LogPriority.Info));
    }

    [Test]
    public void DaemonizedDefaultsToJournaldWhenPresentElseTheLogFile()
    {
        Assert.That(Daemon(daemonized: true, journald: true).Outputs[0].ToString(), Is.EqualTo("3:journald"));
        var file = Daemon(daemonized: true, journald: false).Outputs[0];
        Assert.That(file.ToString(), Is.EqualTo("3:file:/var/log/libvirt/virtnetworkd.log"));
        Assert.That(file.CreateDirectory, Is.True);
    }

    [Test]
    public void ForegroundWithoutTerminalUsesJournald()
    {
        Assert.That(Daemon(journald: true, tty: false).Outputs[0].ToString(), Is.EqualTo("3:journald"));
        Assert.That(Daemon(journald: true, tty: true).Outputs[0].ToString(), Is.EqualTo("3:stderr"));
        Assert.That(Daemon(journald: false, tty: false).Outputs[0].ToString(), Is.EqualTo("3:stderr"));
    }

    [Test]
    public void DefaultJournaldOutputIsNeverDebug()
    {
        var s = Daemon(level: 1, daemonized: true, journald: true);
        Assert.That(s.DefaultPriority, Is.EqualTo(LogPriority.Debug));
        Assert.That(s.Outputs[0].ToString(), Is.EqualTo("2:journald"));
    }

    [Test]
    public void ExplicitOutputsSuppressTheDefault() =>
        Assert.That(Daemon(outputs: "4:stderr", daemonized: true, journald: true).Outputs.Select(o => o.ToString()),
                    Is.EqualTo(new[] { "4:stderr" }));

    [Test]
    public void BlankOutputsMeanTheDefault() =>
        Assert.That(Daemon(outputs: "   ").Outputs.Select(o => o.ToString()), Is.EqualTo(new[] { "3:stderr" }));

    [Test]
    public void ForDaemonFromConfigAndPaths()
    {
        var env = TestEnv.User(("XDG_CACHE_HOME", "/c"), ("XDG_RUNTIME_DIR", "/r"));
        var config = Server.Host.Config.DaemonConfig.Parse("log_level = 2\nlog_filters = \"4:rpc\"", "t.conf", false);
        var s = LogSettings.ForDaemon(config, verbose: false, daemonized: false, DaemonPaths.Create(env), env);
        Assert.That(s.DefaultPriority, Is.EqualTo(LogPriority.Info));
        Assert.That(s.Filters.Single().ToString(), Is.EqualTo("4:rpc"));
        Assert.That(DaemonPaths.Create(env).DefaultLogFile, Is.EqualTo("/c/libvirt/virtnetworkd.log"));
    }

    // ---------- loggers, filters and outputs at work ----------

    private string LogFile(string name = "v.log") => Path.Combine(_dir, name);

    private static string[] Lines(string path) => File.ReadAllLines(path);

    [Test]
    public void FileOutputWritesLibvirtFormattedLinesAfterTheVersionAndHostname()
    {
        string path = LogFile();
        Log.Configure(new LogSettings
        {
            DefaultPriority = LogPriority.Info,
            Outputs = [new LogOutput(LogPriority.Debug, LogDestination.File, path)],
        });
        var log = Log.For("network.bridge_driver");
        log.Info($"network {"default"} started on {"virbr0"}");
        log.Debug($"not shown: below the default priority");
        log.Error("plain string");
        log.Write(LogPriority.Warning, $"via Write {42}");

        var lines = Lines(path);
        Assert.That(lines, Has.Length.EqualTo(5), string.Join("\n", lines));
        Assert.That(lines[0], Does.Match($"^{Ts}: \\d+: info : libvirt version: 10.8.0$"));
        Assert.That(lines[1], Does.Match($"^{Ts}: \\d+: info : hostname: .+$"));
        Assert.That(lines[2], Does.Match($"^{Ts}: \\d+: info : {nameof(FileOutputWritesLibvirtFormattedLinesAfterTheVersionAndHostname)}:\\d+ : network default started on virbr0$"));
        Assert.That(lines[3], Does.Match($"^{Ts}: \\d+: error : {nameof(FileOutputWritesLibvirtFormattedLinesAfterTheVersionAndHostname)}:\\d+ : plain string$"));
        Assert.That(lines[4], Does.Match($"^{Ts}: \\d+: warning : \\w+:\\d+ : via Write 42$"));
        Assert.That(File.GetUnixFileMode(path), Is.EqualTo(UnixFileMode.UserRead | UnixFileMode.UserWrite));
    }

    [Test]
    public void ThreadIdIsTheOsThreadId()
    {
        string path = LogFile();
        Log.Configure(new LogSettings { Outputs = [new LogOutput(LogPriority.Debug, LogDestination.File, path)] });
        Log.For("x").Error("e");
        var m = Regex.Match(Lines(path)[2], $"^{Ts}: (\\d+): ");
        int tid = int.Parse(m.Groups[1].Value);
        Assert.That(Directory.Exists($"/proc/self/task/{tid}"), Is.True, "the logged id is a thread of this process");
    }

    [Test]
    public void FileOutputAppends()
    {
        string path = LogFile();
        File.WriteAllText(path, "previous line\n");
        Log.Configure(new LogSettings { Outputs = [new LogOutput(LogPriority.Error, LogDestination.File, path)] });
        Log.For("x").Error("new");
        var lines = Lines(path);
        Assert.That(lines[0], Is.EqualTo("previous line"));
        Assert.That(lines[^1], Does.EndWith(" : new"));
    }

    [Test]
    public void OutputPriorityFiltersPerOutput()
    {
        string all = LogFile("all.log"), errors = LogFile("err.log");
        Log.Configure(new LogSettings
        {
            DefaultPriority = LogPriority.Debug,
            Outputs = [new LogOutput(LogPriority.Debug, LogDestination.File, all), new LogOutput(LogPriority.Error, LogDestination.File, errors)],
        });
        var log = Log.For("rpc.server");
        log.Debug("d");
        log.Error("e");
        Assert.That(Lines(all).Skip(2).Select(l => l[^1..]), Is.EqualTo(new[] { "d", "e" }));
        Assert.That(Lines(errors).Skip(2).Select(l => l[^1..]), Is.EqualTo(new[] { "e" }));
    }

    [Test]
    public void FiltersMatchSubstringsAndTheFirstMatchWins()
    {
        Log.Configure(new LogSettings
        {
            DefaultPriority = LogPriority.Warning,
            Filters = LogSettings.ParseFilters("4:bridge 1:network 2:util.fire*"),
            Outputs = [new LogOutput(LogPriority.Debug, LogDestination.File, LogFile())],
        });
        Assert.Multiple(() =>
        {
            Assert.That(Log.For("network.bridge_driver").IsEnabled(LogPriority.Warning), Is.False);
            Assert.That(Log.For("network.bridge_driver").IsEnabled(LogPriority.Error), Is.True);
            Assert.That(Log.For("network.leases").IsEnabled(LogPriority.Debug), Is.True);
            Assert.That(Log.For("mynetworks").IsEnabled(LogPriority.Debug), Is.True);
            Assert.That(Log.For("util.firewall").IsEnabled(LogPriority.Info), Is.True);
            Assert.That(Log.For("util.firewall").IsEnabled(LogPriority.Debug), Is.False);
            Assert.That(Log.For("rpc.server").IsEnabled(LogPriority.Info), Is.False);
            Assert.That(Log.For("rpc.server").IsEnabled(LogPriority.Warning), Is.True);
        });
    }

    [Test]
    public void ReconfiguringUpdatesExistingLoggers()
    {
        var log = Log.For("daemon.reconf");
        Log.Configure(new LogSettings { DefaultPriority = LogPriority.Error, Outputs = [new LogOutput(LogPriority.Debug, LogDestination.Stderr)] });
        Assert.That(log.IsEnabled(LogPriority.Info), Is.False);
        Log.Configure(new LogSettings { DefaultPriority = LogPriority.Info, Outputs = [new LogOutput(LogPriority.Debug, LogDestination.Stderr)] });
        Assert.That(log.IsEnabled(LogPriority.Info), Is.True);
        Log.Configure(new LogSettings { DefaultPriority = LogPriority.Debug, Outputs = [new LogOutput(LogPriority.Error, LogDestination.Stderr)] });
        Assert.That(log.IsEnabled(LogPriority.Warning), Is.False, "no output takes warnings");
    }

    [Test]
    public void FailingFileOutputIsAnErrorAndKeepsThePreviousSettings()
    {
        string good = LogFile();
        Log.Configure(new LogSettings { Outputs = [new LogOutput(LogPriority.Error, LogDestination.File, good)] });
        var e = Assert.Throws<LogConfigException>(() => Log.Configure(new LogSettings
        {
            Outputs = [new LogOutput(LogPriority.Error, LogDestination.File, "/nonexistent/dir/x.log")],
        }))!;
        Assert.That(e.Message, Is.EqualTo("failed to open /nonexistent/dir/x.log: No such file or directory"));
        Log.For("x").Error("still here");
        Assert.That(Lines(good)[^1], Does.EndWith(" : still here"));
    }

    [Test]
    public void DefaultLogFileDirectoryIsCreated()
    {
        string path = Path.Combine(_dir, "cache/libvirt/virtnetworkd.log");
        Log.Configure(new LogSettings { Outputs = [new LogOutput(LogPriority.Error, LogDestination.File, path) { CreateDirectory = true }] });
        Log.For("x").Error("e");
        Assert.That(File.Exists(path), Is.True);
    }

    [Test]
    public void StderrOutput()
    {
        string text = NativeTestHelpers.CaptureStderr(() =>
        {
            Log.Configure(new LogSettings { Outputs = [new LogOutput(LogPriority.Warning, LogDestination.Stderr)] });
            Log.For("x").Info("hidden");
            Log.For("x").Warn("shown");
            Log.Reset();
        });
        var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(lines, Has.Length.EqualTo(3));
        Assert.That(lines[2], Does.Match($"^{Ts}: \\d+: warning : \\w+:\\d+ : shown$"));
    }

    [Test]
    public void BeforeConfigurationWarningsGoToStderr()
    {
        string text = NativeTestHelpers.CaptureStderr(() =>
        {
            Log.For("early").Info("hidden");
            Log.For("early").Error("Can't load config file: x");
        });
        Assert.That(text, Does.Match($"{Ts}: \\d+: error : \\w+:\\d+ : Can't load config file: x\n$"));
        Assert.That(text, Does.Not.Contain("hidden"));
    }

    [Test]
    public void JournaldOutputSendsNativeProtocolDatagrams()
    {
        string sockPath = Path.Combine(_dir, "journal.sock");
        using var journal = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        journal.Bind(new UnixDomainSocketEndPoint(sockPath));
        journal.ReceiveTimeout = 5000;
        Log.JournalSocketPath = sockPath;
        Log.Configure(new LogSettings { Outputs = [new LogOutput(LogPriority.Info, LogDestination.Journald)] });

        Log.For("network.bridge_driver").Warn($"bridge {"virbr0"} vanished");
        Log.For("network.bridge_driver").Error("two\nlines");

        var buf = new byte[65536];
        var datagrams = Enumerable.Range(0, 4).Select(_ => buf.AsSpan(0, journal.Receive(buf)).ToArray()).ToList();
        string version = Encoding.UTF8.GetString(datagrams[0]);
        Assert.That(version, Does.StartWith("MESSAGE=libvirt version: 10.8.0\nPRIORITY=6\nSYSLOG_FACILITY=3\n"));
        Assert.That(Encoding.UTF8.GetString(datagrams[1]), Does.StartWith("MESSAGE=hostname: "));

        string warn = Encoding.UTF8.GetString(datagrams[2]);
        Assert.That(warn, Does.StartWith("MESSAGE=bridge virbr0 vanished\nPRIORITY=4\nSYSLOG_FACILITY=3\nLIBVIRT_SOURCE=network.bridge_driver\nCODE_FILE="));
        Assert.That(warn, Does.Contain("LoggingTests.cs\nCODE_LINE="));
        Assert.That(warn, Does.EndWith($"\nCODE_FUNC={nameof(JournaldOutputSendsNativeProtocolDatagrams)}\n"));

        // a value with a newline: NAME\n, 64-bit little-endian length, bytes, \n
        byte[] expected = [.. "MESSAGE\n"u8, 9, 0, 0, 0, 0, 0, 0, 0, .. "two\nlines\n"u8, .. "PRIORITY=3\n"u8];
        Assert.That(datagrams[3].Take(expected.Length), Is.EqualTo(expected));
    }

    [Test]
    public void JournaldFallsBackToStderrWithoutAJournal()
    {
        Log.JournalSocketPath = Path.Combine(_dir, "no-journal-here");
        string text = NativeTestHelpers.CaptureStderr(() =>
        {
            Log.Configure(new LogSettings { Outputs = [new LogOutput(LogPriority.Info, LogDestination.Journald)] });
            Log.For("x").Warn("to stderr instead");
            Log.Reset();
        });
        Assert.That(text, Does.Match($"{Ts}: \\d+: warning : \\w+:\\d+ : to stderr instead\n$"));
    }

    [Test]
    public void SyslogOutputSendsRfc3164Datagrams()
    {
        string sockPath = Path.Combine(_dir, "log.sock");
        using var syslog = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        syslog.Bind(new UnixDomainSocketEndPoint(sockPath));
        syslog.ReceiveTimeout = 5000;
        Log.SyslogSocketPath = sockPath;
        Log.Configure(new LogSettings { Outputs = LogSettings.ParseOutputs("3:syslog:virtnetworkd") });
        Log.For("x").Error("disk on fire");
        var buf = new byte[4096];
        string[] msgs = Enumerable.Range(0, 3).Select(_ => Encoding.UTF8.GetString(buf, 0, syslog.Receive(buf))).ToArray();
        Assert.That(msgs[0], Does.Match(@"^<30>[A-Z][a-z]{2} [ \d]\d \d{2}:\d{2}:\d{2} virtnetworkd: \d+: info : libvirt version: 10.8.0$"));
        Assert.That(msgs[2], Does.Match(@"^<27>[A-Z][a-z]{2} [ \d]\d \d{2}:\d{2}:\d{2} virtnetworkd: \d+: error : \w+:\d+ : disk on fire$"));
    }

    [Test]
    public void ConcurrentWritesStayWholeLines()
    {
        string path = LogFile();
        Log.Configure(new LogSettings { DefaultPriority = LogPriority.Debug, Outputs = [new LogOutput(LogPriority.Debug, LogDestination.File, path)] });
        var log = Log.For("stress");
        Parallel.For(0, 8, t =>
        {
            for (int i = 0; i < 250; i++)
                log.Debug($"thread {t} message {i} {new string('x', 100)}");
        });
        var lines = Lines(path).Skip(2).ToArray();
        Assert.That(lines, Has.Length.EqualTo(2000));
        Assert.That(lines.All(l => Regex.IsMatch(l, $"^{Ts}: \\d+: debug : .+:\\d+ : thread \\d message \\d+ x{{100}}$")), Is.True);
    }

    [Test]
    public void DisabledMessagesAreNeitherFormattedNorAllocated()
    {
        Log.Configure(new LogSettings { DefaultPriority = LogPriority.Error, Outputs = [new LogOutput(LogPriority.Debug, LogDestination.Stderr)] });
        var log = Log.For("hot.path");
        var formatted = new CountingFormattable();
        Guid id = Guid.NewGuid();
        int n = 7;
        for (int i = 0; i < 10; i++) // warm up
        {
            log.Debug($"call {n} id {id} {formatted}");
            log.Info($"call {n} id {id} {formatted}");
            log.Warn($"call {n}");
            log.Write(LogPriority.Debug, $"call {n} {id}");
        }
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1000; i++)
        {
            log.Debug($"call {n} id {id} {formatted}");
            log.Info($"call {n} id {id} {formatted}");
            log.Warn($"call {n} {i}");
            log.Write(LogPriority.Debug, $"call {n} {id}");
            _ = log.IsEnabled(LogPriority.Debug);
        }
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.That(allocated, Is.Zero);
        Assert.That(formatted.Count, Is.Zero, "a disabled message must not format its arguments");
    }

    [Test]
    public void EnabledMessagesFormatArguments()
    {
        string path = LogFile();
        Log.Configure(new LogSettings { DefaultPriority = LogPriority.Debug, Outputs = [new LogOutput(LogPriority.Debug, LogDestination.File, path)] });
        var formatted = new CountingFormattable();
        Log.For("x").Debug($"{formatted} {3.5:F2} {"a",3}|{(object?)null}|{12,-4}|");
        Log.For("x").Write(LogPriority.Info, $"p={LogPriority.Info}");
        Assert.That(formatted.Count, Is.EqualTo(1));
        var lines = Lines(path);
        Assert.That(lines[2], Does.EndWith(" : counted 3.50   a||12  |"));
        Assert.That(lines[3], Does.EndWith(" : p=Info"));
    }

    private sealed class CountingFormattable : IFormattable
    {
        public int Count { get; private set; }

        public string ToString(string? format, IFormatProvider? formatProvider)
        {
            Count++;
            return "counted";
        }

        public override string ToString() => ToString(null, null);
    }
}
