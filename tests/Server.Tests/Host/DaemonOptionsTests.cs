using System.Text.RegularExpressions;
using VirtNetworkd.Server.Host;

namespace VirtNetworkd.Server.Tests.Host;

public class DaemonOptionsTests
{
    private static DaemonOptionsResult Parse(params string[] args) =>
        DaemonOptions.Parse(args, "virtnetworkd", TestEnv.Root());

    private static DaemonOptions Ok(params string[] args)
    {
        var r = Parse(args);
        Assert.That(r.ShouldExit, Is.False, r.StandardError);
        return r.Options!;
    }

    private static void AssertUsageError(DaemonOptionsResult r, string firstLine)
    {
        Assert.Multiple(() =>
        {
            Assert.That(r.ShouldExit, Is.True);
            Assert.That(r.ExitCode, Is.EqualTo(1));
            Assert.That(r.StandardOutput, Is.Empty);
            Assert.That(r.StandardError, Does.StartWith(firstLine + "\n\nUsage:\n  virtnetworkd [options]\n"));
        });
    }

    [Test]
    public void NoArgumentsGivesDefaults()
    {
        var o = Ok();
        Assert.That(o, Is.EqualTo(new DaemonOptions()));
        Assert.Multiple(() =>
        {
            Assert.That(o.Daemon, Is.False);
            Assert.That(o.Verbose, Is.False);
            Assert.That(o.ConfigFile, Is.Null);
            Assert.That(o.PidFile, Is.Null);
            Assert.That(o.Timeout, Is.Zero);
        });
    }

    [TestCase("-d")]
    [TestCase("--daemon")]
    [TestCase("--dae")]
    public void DaemonFlag(string arg) => Assert.That(Ok(arg).Daemon, Is.True);

    [TestCase("-v")]
    [TestCase("--verbose")]
    [TestCase("--verb")]
    public void VerboseFlag(string arg) => Assert.That(Ok(arg).Verbose, Is.True);

    [TestCase("-f|/x.conf")]
    [TestCase("-f/x.conf")]
    [TestCase("--config|/x.conf")]
    [TestCase("--config=/x.conf")]
    [TestCase("--conf=/x.conf")]
    [TestCase("-vf|/x.conf")]
    [TestCase("-vf/x.conf")]
    public void ConfigForms(string args) => Assert.That(Ok(args.Split('|')).ConfigFile, Is.EqualTo("/x.conf"));

    [TestCase("-p|/run/x.pid")]
    [TestCase("-p/run/x.pid")]
    [TestCase("--pid-file|/run/x.pid")]
    [TestCase("--pid-file=/run/x.pid")]
    [TestCase("--pid|/run/x.pid")]
    public void PidFileForms(string args) => Assert.That(Ok(args.Split('|')).PidFile, Is.EqualTo("/run/x.pid"));

    [TestCase("-t|120", 120)]
    [TestCase("-t120", 120)]
    [TestCase("--timeout|120", 120)]
    [TestCase("--timeout=120", 120)]
    [TestCase("--time=7", 7)]
    [TestCase("-t|0", 0)]
    [TestCase("-t| +15", 15)]
    [TestCase("-t|10s", 10)] // libvirt ignores trailing text after the number
    [TestCase("-t|2147483", 2147483)] // INT_MAX / 1000
    public void TimeoutForms(string args, int expected) => Assert.That(Ok(args.Split('|')).Timeout, Is.EqualTo(expected));

    [Test]
    public void ClusteredShortOptions()
    {
        var o = Ok("-vdt5");
        Assert.Multiple(() =>
        {
            Assert.That(o.Verbose, Is.True);
            Assert.That(o.Daemon, Is.True);
            Assert.That(o.Timeout, Is.EqualTo(5));
        });
    }

    [Test]
    public void ValueMayLookLikeAnOption()
    {
        // getopt takes the next argument as the value whatever it looks like
        Assert.That(Ok("-f", "-v").ConfigFile, Is.EqualTo("-v"));
        Assert.That(Ok("--config", "--daemon").ConfigFile, Is.EqualTo("--daemon"));
        Assert.That(Ok("--config=").ConfigFile, Is.EqualTo(""));
    }

    [Test]
    public void LastValueWins()
    {
        var o = Ok("-f", "/a", "--config=/b", "-p", "/p1", "-p/p2", "-t", "1", "-t", "2");
        Assert.Multiple(() =>
        {
            Assert.That(o.ConfigFile, Is.EqualTo("/b"));
            Assert.That(o.PidFile, Is.EqualTo("/p2"));
            Assert.That(o.Timeout, Is.EqualTo(2));
        });
    }

    [Test]
    public void AllTogether()
    {
        var o = Ok("--daemon", "--verbose", "--config", "/etc/x.conf", "--pid-file", "/run/x.pid", "--timeout", "120");
        Assert.That(o, Is.EqualTo(new DaemonOptions
        {
            Daemon = true, Verbose = true, ConfigFile = "/etc/x.conf", PidFile = "/run/x.pid", Timeout = 120,
        }));
    }

    [TestCase("-V")]
    [TestCase("--version")]
    [TestCase("--vers")]
    public void Version(string arg)
    {
        var r = Parse(arg);
        Assert.Multiple(() =>
        {
            Assert.That(r.ShouldExit, Is.True);
            Assert.That(r.ExitCode, Is.Zero);
            Assert.That(r.StandardOutput, Is.EqualTo("virtnetworkd (libvirt) 10.8.0\n"));
            Assert.That(r.StandardError, Is.Empty);
        });
    }

    [Test]
    public void VersionUsesTheProgramNameAsLibvirtUsesArgv0()
    {
        var r = DaemonOptions.Parse(["-V"], "/usr/sbin/virtnetworkd", TestEnv.Root());
        Assert.That(r.StandardOutput, Is.EqualTo("/usr/sbin/virtnetworkd (libvirt) 10.8.0\n"));
    }

    [TestCase("-h")]
    [TestCase("--help")]
    [TestCase("--he")]
    public void HelpGoesToStderrAndExitsZero(string arg)
    {
        var r = Parse(arg);
        Assert.Multiple(() =>
        {
            Assert.That(r.ExitCode, Is.Zero);
            Assert.That(r.ShouldExit, Is.True);
            Assert.That(r.StandardOutput, Is.Empty);
            Assert.That(r.StandardError, Is.EqualTo(DaemonOptions.Usage("virtnetworkd", TestEnv.Root())));
        });
    }

    [Test]
    public void OptionsAfterVersionAreNotLookedAt()
    {
        var r = Parse("-V", "--bogus");
        Assert.That(r.ExitCode, Is.Zero);
        Assert.That(r.StandardOutput, Does.Contain("10.8.0"));
    }

    [Test]
    public void PrivilegedUsageListsRootPaths()
    {
        string u = DaemonOptions.Usage("virtnetworkd", TestEnv.Root());
        Assert.That(u, Does.StartWith("\nUsage:\n  virtnetworkd [options]\n\nOptions:\n"));
        foreach (var line in new[]
                 {
                     "  -h | --help            ", "  -v | --verbose         ", "  -d | --daemon          ",
                     "  -t | --timeout <secs>  ", "  -f | --config <file>   ", "  -V | --version         ",
                     "  -p | --pid-file <file> ",
                 })
        {
            Assert.That(u, Does.Contain("\n" + line), line);
        }
        Assert.Multiple(() =>
        {
            Assert.That(u, Does.Contain("    Configuration file (unless overridden by -f):\n      /etc/libvirt/virtnetworkd.conf\n"));
            Assert.That(u, Does.Contain("    Sockets:\n      /run/libvirt/virtnetworkd-sock\n      /run/libvirt/virtnetworkd-sock-ro\n      /run/libvirt/virtnetworkd-admin-sock\n"));
            Assert.That(u, Does.Contain("    PID file (unless overridden by -p):\n      /run/virtnetworkd.pid\n"));
            Assert.That(u, Does.EndWith("\n\n"));
        });
    }

    [Test]
    public void UnprivilegedUsageListsXdgPaths()
    {
        string u = DaemonOptions.Usage("virtnetworkd", TestEnv.User());
        Assert.Multiple(() =>
        {
            Assert.That(u, Does.Contain("      $XDG_CONFIG_HOME/libvirt/virtnetworkd.conf\n"));
            Assert.That(u, Does.Contain("      $XDG_RUNTIME_DIR/libvirt/virtnetworkd-sock\n"));
            Assert.That(u, Does.Not.Contain("sock-ro"));
            Assert.That(u, Does.Contain("      $XDG_RUNTIME_DIR/libvirt/virtnetworkd.pid\n"));
        });
    }

    [Test]
    public void UsageShowsRerootedPaths()
    {
        string u = DaemonOptions.Usage("virtnetworkd", TestEnv.Root(("VIRTNETWORKD_ROOT", "/srv/vn")));
        Assert.That(u, Does.Contain("      /srv/vn/etc/libvirt/virtnetworkd.conf\n"));
        Assert.That(u, Does.Contain("      /srv/vn/run/virtnetworkd.pid\n"));
    }

    [Test]
    public void UnrecognizedLongOption() =>
        AssertUsageError(Parse("--foo"), "virtnetworkd: unrecognized option '--foo'");

    [Test]
    public void UnrecognizedLongOptionWithValue() =>
        AssertUsageError(Parse("--foo=bar"), "virtnetworkd: unrecognized option '--foo=bar'");

    [Test]
    public void InvalidShortOption() =>
        AssertUsageError(Parse("-x"), "virtnetworkd: invalid option -- 'x'");

    [Test]
    public void InvalidShortOptionInsideACluster() =>
        AssertUsageError(Parse("-vx"), "virtnetworkd: invalid option -- 'x'");

    [Test]
    public void AmbiguousAbbreviation() =>
        AssertUsageError(Parse("--ver"), "virtnetworkd: option '--ver' is ambiguous; possibilities: '--verbose' '--version'");

    [TestCase("-f", 'f')]
    [TestCase("-p", 'p')]
    [TestCase("-t", 't')]
    public void ShortOptionMissingArgument(string arg, char c) =>
        AssertUsageError(Parse(arg), $"virtnetworkd: option requires an argument -- '{c}'");

    [TestCase("--config", "--config")]
    [TestCase("--pid", "--pid-file")]
    [TestCase("--timeout", "--timeout")]
    public void LongOptionMissingArgument(string arg, string full) =>
        AssertUsageError(Parse(arg), $"virtnetworkd: option '{full}' requires an argument");

    [TestCase("--verbose=3", "--verbose")]
    [TestCase("--dae=1", "--daemon")]
    [TestCase("--help=x", "--help")]
    public void FlagWithArgument(string arg, string full) =>
        AssertUsageError(Parse(arg), $"virtnetworkd: option '{full}' doesn't allow an argument");

    [Test]
    public void ErrorsUseTheProgramName()
    {
        var r = DaemonOptions.Parse(["-x"], "/usr/sbin/virtnetworkd", TestEnv.Root());
        Assert.That(r.StandardError, Does.StartWith("/usr/sbin/virtnetworkd: invalid option -- 'x'\n\nUsage:\n  /usr/sbin/virtnetworkd [options]\n"));
    }

    [TestCase("extra")]
    [TestCase("-")]
    public void NonOptionArgumentIsAnError(string arg)
    {
        var r = Parse("-v", arg);
        Assert.Multiple(() =>
        {
            Assert.That(r.ExitCode, Is.EqualTo(1));
            Assert.That(r.StandardError, Is.EqualTo("virtnetworkd: unexpected, non-option, command line arguments\n"));
        });
    }

    [Test]
    public void ArgumentsAfterDoubleDashAreNonOptions()
    {
        Assert.That(Ok("--").Daemon, Is.False);
        var r = Parse("--", "-d");
        Assert.That(r.StandardError, Is.EqualTo("virtnetworkd: unexpected, non-option, command line arguments\n"));
    }

    [Test]
    public void OptionErrorBeatsNonOptionError()
    {
        // getopt permutes non-options to the end, so the bad option after them is reported
        AssertUsageError(Parse("extra", "-x"), "virtnetworkd: invalid option -- 'x'");
    }

    [TestCase("abc")]
    [TestCase("")]
    [TestCase("-5")]
    [TestCase("2147484")] // INT_MAX / 1000 + 1
    [TestCase("99999999999")]
    [TestCase("+")]
    public void InvalidTimeout(string value)
    {
        var r = Parse("-t", value);
        Assert.Multiple(() =>
        {
            Assert.That(r.ShouldExit, Is.True);
            Assert.That(r.ExitCode, Is.EqualTo(1));
            Assert.That(r.StandardOutput, Is.Empty);
        });
        // libvirt logs it (no usage): version and hostname lines, then the error
        var lines = r.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        const string prefix = @"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3}\+0000: \d+: ";
        Assert.That(lines, Has.Length.EqualTo(3));
        Assert.That(lines[0], Does.Match(prefix + "info : libvirt version: 10.8.0$"));
        Assert.That(lines[1], Does.Match(prefix + "info : hostname: .+$"));
        Assert.That(lines[2], Does.Match(prefix + "error : main:0 : Invalid value for timeout$"));
    }

    [Test]
    public void InvalidTimeoutInLongForm()
    {
        var r = Parse("--timeout=soon");
        Assert.That(r.ExitCode, Is.EqualTo(1));
        Assert.That(Regex.IsMatch(r.StandardError, "error : main:0 : Invalid value for timeout\n$"), Is.True);
    }
}
