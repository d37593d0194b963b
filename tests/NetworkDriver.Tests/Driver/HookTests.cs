using VirtNetworkd.Errors;
using VirtNetworkd.NetworkDriver.Driver;
using VirtNetworkd.NetworkDriver.Xml.Net;

namespace VirtNetworkd.NetworkDriver.Tests.Driver;

/// <summary>The network hook scripts (libvirt's networkRunHook and virHookCall), run for real as shell scripts.</summary>
[TestFixture]
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class HookTests : DriverTestBase
{
    private const string Port = "5d744f21-ba4a-4d6e-bdb2-30a35ff3207d";
    private const string PortXml = "<networkport><uuid>" + Port + "</uuid><owner><name>guest</name><uuid>d54df46f-1ab5-4a22-8618-4560ef5fac2c</uuid></owner><mac address='52:54:00:7b:35:93'/></networkport>";
    private const string Net = "<forward mode='nat'/><bridge name='virbr7'/><ip address='192.168.50.1' netmask='255.255.255.0'/>";

    private string HooksDir => Path.Combine(Root, "hooks");
    private string Log => Path.Combine(Root, "hook.log");
    private List<string> _warnings = [];

    /// <summary>A script that appends its arguments (and with <paramref name="input"/> its stdin) to the log, then exits with <paramref name="exit"/>.</summary>
    private void Script(string path, string tag, int exit = 0, bool input = false, string stderr = "")
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, "#!/bin/sh\n" +
            $"echo \"{tag} $*\" >> '{Log}'\n" +
            (input ? $"cat >> '{Log}'; echo >> '{Log}'\n" : "") +
            (stderr.Length > 0 ? $"printf '{stderr}' >&2\n" : "") +
            $"exit {exit}\n");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }

    private void UseHooks()
    {
        _warnings = [];
        Drv.Hooks = new NetworkHooks(HooksDir, m => { lock (_warnings) _warnings.Add(m); });
        Drv.Warn = m => { lock (_warnings) _warnings.Add(m); };
    }

    private string[] Calls() => File.Exists(Log) ? File.ReadAllLines(Log) : [];

    [Test]
    public void EveryEventRunsTheScriptWithLibvirtsArgumentsInOrder()
    {
        Script(Path.Combine(HooksDir, "network"), "hook");
        UseHooks();
        NetworkRef n = Drv.DefineXml(Xml("n1", U1, Net), 0);
        Drv.Create(n);
        NetworkPortRef p = Drv.CreatePort(n, PortXml, 0);
        Drv.Update(n, 3, 9, -1, "<portgroup name='pg1'/>", 1 | 2); // add-last portgroup, live and config
        Drv.DeletePort(p, 0);
        Drv.Destroy(n);
        Assert.That(Calls(), Is.EqualTo(new[]
        {
            "hook n1 start begin -",
            "hook n1 started begin -",
            "hook n1 port-created begin -",
            "hook n1 updated begin -",
            "hook n1 port-deleted begin -",
            "hook n1 stopped end -",
        }));
        Assert.That(_warnings, Has.One.EqualTo($"Network name='n1' uuid={U1} is tainted: hook"));
    }

    [Test]
    public void TheScriptReadsHookDataWithTheNetworkAndThePort()
    {
        Script(Path.Combine(HooksDir, "network"), "hook", input: true);
        UseHooks();
        NetworkRef n = Drv.DefineXml(Xml("n1", U1, Net), 0);
        Drv.Create(n);
        string indented = Indented(Drv.GetXmlDesc(n, 0));
        Drv.CreatePort(n, PortXml, 0);
        string log = File.ReadAllText(Log);
        Assert.That(log, Does.Contain("hook n1 started begin -\n<hookData>\n" + indented + "</hookData>\n"));
        // the port's hook sees the network with the port counted
        indented = Indented(Drv.GetXmlDesc(n, 0));
        Assert.That(indented, Does.Contain("<network connections='1'>"));
        string portXml = Drv.GetPortXmlDesc(new NetworkPortRef(n, VirUuid.Parse(Port)), 0);
        Assert.That(log, Does.Contain("hook n1 port-created begin -\n<hookData>\n" + indented + Indented(portXml) + "</hookData>\n"));
    }

    private static string Indented(string xml) => string.Concat(xml.Split('\n').Where(l => l.Length > 0).Select(l => "  " + l + "\n"));

    [Test]
    public void AFailingStartHookStopsTheStartWithLibvirtsErrorAndTellsTheHookItStopped()
    {
        Script(Path.Combine(HooksDir, "network"), "hook", exit: 3, stderr: "no uplink\\n");
        UseHooks();
        NetworkRef n = Drv.DefineXml(Xml("n1", U1, Net), 0);
        var e = Assert.Throws<LibvirtError>(() => Drv.Create(n))!;
        Assert.That(e.Code, Is.EqualTo(VirErrorCode.HookScriptFailed));
        Assert.That(e.Domain, Is.EqualTo(VirErrorDomain.Hook));
        Assert.That(e.Message, Does.StartWith("Hook script execution failed: internal error: Child process (LC_ALL=C PATH="));
        Assert.That(e.Message, Does.EndWith($" {Path.Combine(HooksDir, "network")} n1 start begin -) unexpected exit status 3: no uplink\n"));
        Assert.That(Drv.IsActive(n), Is.False);
        Assert.That(Backend.RunningNetworks, Does.Not.Contain("n1"), "the backend must not have started it");
        // libvirt shuts a failed start down, which runs the stopped hook (whose failure it ignores)
        Assert.That(Calls(), Is.EqualTo(new[] { "hook n1 start begin -", "hook n1 stopped end -" }));
    }

    [Test]
    public void AFailingStartedHookUndoesTheStart()
    {
        Directory.CreateDirectory(HooksDir);
        File.WriteAllText(Path.Combine(HooksDir, "network"), $"#!/bin/sh\necho \"$*\" >> '{Log}'\n[ \"$2\" = started ] && exit 1\nexit 0\n");
        File.SetUnixFileMode(Path.Combine(HooksDir, "network"), UnixFileMode.UserRead | UnixFileMode.UserExecute);
        UseHooks();
        NetworkRef n = Drv.DefineXml(Xml("n1", U1, Net), 0);
        Assert.Throws<LibvirtError>(() => Drv.Create(n));
        Assert.That(Drv.IsActive(n), Is.False);
        Assert.That(Backend.RunningNetworks, Does.Not.Contain("n1"), "the backend's work must be undone");
        Assert.That(Calls(), Is.EqualTo(new[] { "n1 start begin -", "n1 started begin -", "n1 stopped end -" }));
    }

    [Test]
    public void ScriptsInNetworkDRunInStrcmpOrderAfterTheMainOneAndNonExecutablesAreSkipped()
    {
        Script(Path.Combine(HooksDir, "network"), "main");
        Script(Path.Combine(HooksDir, "network.d", "b"), "b");
        Script(Path.Combine(HooksDir, "network.d", "B"), "B");
        Script(Path.Combine(HooksDir, "network.d", "a"), "a");
        File.WriteAllText(Path.Combine(HooksDir, "network.d", "0-readme"), "not a script");
        UseHooks();
        NetworkRef n = Drv.DefineXml(Xml("n1", U1, Net), 0);
        Drv.Create(n);
        Assert.That(Calls().Take(4), Is.EqualTo(new[] { "main n1 start begin -", "B n1 start begin -", "a n1 start begin -", "b n1 start begin -" }));
    }

    [Test]
    public void AFailingScriptInNetworkDFailsTheCallButTheOthersStillRun()
    {
        Directory.CreateDirectory(Path.Combine(HooksDir, "network.d"));
        File.WriteAllText(Path.Combine(HooksDir, "network.d", "1"), $"#!/bin/sh\necho \"one $*\" >> '{Log}'\n[ \"$2\" = updated ] && exit 1\nexit 0\n");
        File.SetUnixFileMode(Path.Combine(HooksDir, "network.d", "1"), UnixFileMode.UserRead | UnixFileMode.UserExecute);
        Script(Path.Combine(HooksDir, "network.d", "2"), "two");
        UseHooks();
        NetworkRef n = Drv.DefineXml(Xml("n1", U1, Net), 0);
        Drv.Create(n);
        File.Delete(Log);
        var e = Assert.Throws<LibvirtError>(() => Drv.Update(n, 3, 9, -1, "<portgroup name='pg1'/>", 1))!;
        Assert.That(e.Message, Does.Contain("network.d/1 n1 updated begin -) unexpected exit status 1"));
        Assert.That(Calls(), Is.EqualTo(new[] { "one n1 updated begin -", "two n1 updated begin -" }));
        // as in libvirt the update itself stays applied: the hook runs after it
        Assert.That(Drv.GetXmlDesc(n, 0), Does.Contain("<portgroup name='pg1'>"));
    }

    [Test]
    public void WithoutScriptsNothingRunsAndNothingIsTainted()
    {
        Directory.CreateDirectory(Path.Combine(HooksDir, "network.d"));
        UseHooks();
        Assert.That(Drv.Hooks!.Present, Is.False);
        NetworkRef n = Drv.DefineXml(Xml("n1", U1, Net), 0);
        Drv.Create(n);
        Assert.That(File.ReadAllText(Path.Combine(StateDir, "n1.xml")), Does.Not.Contain("taint"));
        // a script added later is found after a refresh (SIGHUP), as libvirt re-checks on reload
        Script(Path.Combine(HooksDir, "network"), "late");
        Drv.Destroy(n);
        Assert.That(Calls(), Is.Empty);
        Drv.Hooks.Refresh();
        Drv.Create(n);
        Assert.That(Calls(), Is.EqualTo(new[] { "late n1 start begin -", "late n1 started begin -" }));
        Assert.That(File.ReadAllText(Path.Combine(StateDir, "n1.xml")), Does.Contain("<taint flag='hook'/>"));
    }

    [Test]
    public void ANonExecutableMainScriptIsWarnedAboutAndNotRun()
    {
        Directory.CreateDirectory(HooksDir);
        File.WriteAllText(Path.Combine(HooksDir, "network"), "#!/bin/sh\nexit 1\n");
        File.SetUnixFileMode(Path.Combine(HooksDir, "network"), UnixFileMode.UserRead | UnixFileMode.UserWrite);
        UseHooks();
        Assert.That(Drv.Hooks!.Present, Is.False);
        Assert.That(_warnings, Has.One.EqualTo($"Non-executable hook script {Path.Combine(HooksDir, "network")}"));
        NetworkRef n = Drv.DefineXml(Xml("n1", U1, Net), 0);
        Assert.DoesNotThrow(() => Drv.Create(n));
    }
}
