using System.Diagnostics;

namespace VirtNetworkd.Integration.Tests;

/// <summary>
/// virsh's net-* commands side by side against our daemon and the reference libvirtd: the same
/// sequence on both, compared by <see cref="Differential"/> (differences allowed only as named in
/// <see cref="Normalise"/>). Network names are unique per run; everything is undefined afterwards,
/// since the reference keeps its definitions in the machine's real /etc/libvirt/qemu/networks.
/// </summary>
public class NetworkDifferentialTests : DaemonFixture
{
    private static readonly string Run = Guid.NewGuid().ToString("N")[..4];
    private readonly List<string> _names = [];
    private readonly Dictionary<string, string> _uuids = [];
    private Differential _d = null!;

    [SetUp]
    public void Pair() => _d = new Differential(Daemon.Uri, ReferenceDaemon.Uri);

    [TearDown]
    public void UndefineEverything()
    {
        foreach (var uri in new[] { Daemon.Uri, ReferenceDaemon.Uri })
            foreach (var n in _names)
            {
                Tools.Virsh(uri, "net-destroy", n);
                Tools.Virsh(uri, "net-undefine", n);
            }
        _names.Clear();
    }

    /// <summary>A NAT network with fixed UUID, MAC and bridge (both daemons would pick their own otherwise).</summary>
    private (string Name, string File) Net(string tag, int subnet, string extra = "", string forward = "<forward mode='nat'/>", string? uuid = null, string? name = null)
    {
        name ??= $"vd{Run}-{tag}";
        uuid ??= Guid.NewGuid().ToString();
        if (!_names.Contains(name)) _names.Add(name);
        _uuids[name] = uuid;
        var file = Path.Combine(Daemon.Root, $"{tag}.xml");
        File.WriteAllText(file, $"""
            <network>
              <name>{name}</name>
              <uuid>{uuid}</uuid>
              {forward}
              <bridge name='vd{Run}{subnet}'/>
              <mac address='52:54:00:5d:{subnet:x2}:01'/>
              {extra}
              <ip address='192.168.{subnet}.1' netmask='255.255.255.0'>
                <dhcp>
                  <range start='192.168.{subnet}.100' end='192.168.{subnet}.200'/>
                  <host mac='52:54:00:00:{subnet:x2}:05' name='vm5' ip='192.168.{subnet}.5'/>
                </dhcp>
              </ip>
            </network>
            """);
        return (name, file);
    }

    private string Bad(string tag, string content)
    {
        var file = Path.Combine(Daemon.Root, $"{tag}.xml");
        File.WriteAllText(file, content);
        return file;
    }

    private void SameViews(string name)
    {
        _d.Same("net-info", name);
        _d.Same("net-uuid", name);
        _d.Same("net-name", _uuids[name]);
        _d.Same("net-dumpxml", name);
        _d.Same("net-dumpxml", "--inactive", name);
    }

    [Test]
    public void ListsInfoAndLookups()
    {
        var a = Net("a", 170);
        var b = Net("b", 171);
        var c = Net("c", 172);
        _d.Same("net-define", a.File);
        _d.Same("net-define", a.File); // the same name and UUID again: an update, not an error
        _d.Same("net-define", b.File);
        _d.Same("net-start", b.Name);
        _d.Same("net-autostart", b.Name);
        _d.Same("net-create", c.File);
        string[][] lists =
        [
            [], ["--all"], ["--inactive"], ["--persistent"], ["--transient"], ["--autostart"], ["--no-autostart"],
            ["--all", "--name"], ["--all", "--uuid"], ["--all", "--table"], ["--inactive", "--name"],
            ["--persistent", "--autostart", "--uuid"], ["--transient", "--no-autostart", "--name"],
            ["--all", "--no-autostart"], ["--inactive", "--transient"], ["--name", "--uuid"],
        ];
        var mine = _names.Concat(_uuids.Values).ToList();
        foreach (var l in lists) _d.SameList(mine, ["net-list", .. l]);
        foreach (var n in _names) SameViews(n);
        _d.Same("net-autostart", "--disable", b.Name);
        _d.SameList(mine, "net-list", "--autostart", "--all");
        _d.Same("net-info", b.Name);
    }

    [Test]
    public void DefinitionErrors()
    {
        var a = Net("dup", 173);
        _d.Same("net-define", a.File);
        _d.Same("net-define", Net("dupname", 174, name: a.Name).File);                // same name, other UUID
        _d.Same("net-define", Net("dupuuid", 175, uuid: _uuids[a.Name]).File);        // same UUID, other name
        _d.Same("net-define", Bad("badaddr", "<network><name>bad</name><ip address='nonsense'/></network>"));
        _d.Same("net-define", Bad("premature", "<network><name>bad</name>"));
        _d.Same("net-create", Bad("premature2", "<network>\n  <name>bad</name>\n"));
        _d.Same("net-define", Bad("empty", ""));
        _d.Same("net-define", Bad("root", "<notanetwork/>"));
        _d.Same("net-define", Bad("noname", "<network/>"));
        _d.Same("net-define", Bad("baduuid", "<network><name>q</name><uuid>zzz</uuid></network>"));
        _d.Same("net-define", Path.Combine(Daemon.Root, "nonexistent.xml"));
        string missing = $"vd{Run}-nosuch", missingUuid = Guid.NewGuid().ToString();
        foreach (var cmd in new[] { "net-info", "net-uuid", "net-dumpxml", "net-start", "net-destroy", "net-undefine", "net-autostart" })
            _d.Same(cmd, missing);
        _d.Same("net-name", missingUuid);
        _d.Same("net-info", missingUuid);
        _d.Same("net-update", missing, "add", "dns-txt", "<txt name='a' value='b'/>");
        _d.SameList([a.Name, missing], "net-list", "--all");
    }

    [Test]
    public void LifecycleAndItsErrors()
    {
        var a = Net("life", 176);
        _d.Same("net-define", a.File);
        _d.Same("net-destroy", a.Name);        // not active
        _d.Same("net-start", a.Name);
        _d.Same("net-start", a.Name);          // already active
        _d.Same("net-create", a.File);         // already active as …
        SameViews(a.Name);
        _d.Same("net-destroy", a.Name);
        _d.Same("net-destroy", a.Name);
        _d.Same("net-create", a.File);         // a defined, inactive network started from its XML
        _d.Same("net-info", a.Name);
        _d.Same("net-undefine", a.Name);       // active: it lives on, transient
        _d.Same("net-info", a.Name);
        _d.Same("net-autostart", a.Name);      // transient: refused
        _d.Same("net-dumpxml", "--inactive", a.Name);
        _d.Same("net-define", a.File);         // persistent again, still active
        _d.Same("net-info", a.Name);
        _d.Same("net-undefine", a.Name);
        _d.Same("net-destroy", a.Name);        // transient and stopped: gone
        _d.Same("net-info", a.Name);
        _d.SameList([a.Name], "net-list", "--all");
    }

    private static readonly (string Section, string Add, string Modify, string Delete)[] Sections =
    [
        ("ip-dhcp-host", "<host mac='52:54:00:00:00:06' name='vm6' ip='192.168.SUB.6'/>",
            "<host mac='52:54:00:00:00:06' name='vm6' ip='192.168.SUB.7'/>", "<host mac='52:54:00:00:00:06'/>"),
        ("ip-dhcp-range", "<range start='192.168.SUB.20' end='192.168.SUB.30'/>",
            "<range start='192.168.SUB.20' end='192.168.SUB.30'/>", "<range start='192.168.SUB.20' end='192.168.SUB.30'/>"),
        ("dns-srv", "<srv service='s2' protocol='udp' domain='d.example' target='t.example' port='53'/>",
            "<srv service='s2' protocol='udp'/>", "<srv service='s2' protocol='udp'/>"),
        ("forward-interface", "<interface dev='eth1'/>", "<interface dev='eth1'/>", "<interface dev='eth1'/>"),
        ("portgroup", "<portgroup name='pg2'/>",
            "<portgroup name='pg2'><bandwidth><inbound average='1000'/></bandwidth></portgroup>", "<portgroup name='pg2'/>"),
    ];

    private const string Dns = """
        <dns>
            <txt name='example' value='example value'/>
            <host ip='192.168.SUB.5'><hostname>h5</hostname></host>
          </dns>
        """;

    /// <summary>Every section through add (twice), modify, delete (twice) with the given flags.</summary>
    private void UpdateEverySection(string name, int subnet, params string[] flags)
    {
        string S(string xml) => xml.Replace("SUB", subnet.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);
        foreach (var (section, add, modify, delete) in Sections)
        {
            _d.Same(["net-update", name, "add", section, S(add), .. flags]);
            _d.Same(["net-update", name, "add", section, S(add), .. flags]);
            _d.Same(["net-update", name, "modify", section, S(modify), .. flags]);
            _d.Same(["net-update", name, "delete", section, S(delete), .. flags]);
            _d.Same(["net-update", name, "delete", section, S(delete), .. flags]);
        }
        string txt = "<txt name='t2' value='v2'/>", host = S("<host ip='192.168.SUB.8'><hostname>h8</hostname></host>");
        foreach (var (section, record, xml) in new[] { ("dns-txt", "TXT", txt), ("dns-host", "HOST", host) })
        {
            _d.Same(["net-update", name, "add", section, xml, .. flags]);
            _d.Same(["net-update", name, "add", section, xml, .. flags]);
            Normalise.DnsModifyIsNewerThan90(_d.Run(["net-update", name, "modify", section, xml, .. flags]), record);
            _d.Same(["net-update", name, "delete", section, xml, .. flags]);
            _d.Same(["net-update", name, "delete", section, xml, .. flags]);
        }
        _d.Same(["net-update", name, "add", "ip-dhcp-host", S("<host mac='52:54:00:00:00:09' ip='192.168.SUB.9'/>"), "--parent-index", "5", .. flags]);
        _d.Same(["net-update", name, "add", "bridge", "<bridge name='x'/>", .. flags]);
        _d.Same(["net-update", name, "add", "ip-dhcp-host", "<host mac='nonsense'/>", .. flags]);
        _d.Same(["net-update", name, "add", "ip-dhcp-host", "<notahost/>", .. flags]);
        _d.Same("net-dumpxml", name);
        _d.Same("net-dumpxml", "--inactive", name);
    }

    [Test]
    public void NetUpdateOfAnInactiveNetwork()
    {
        var a = Net("upd", 177, Dns.Replace("SUB", "177", StringComparison.Ordinal));
        _d.Same("net-define", a.File);
        UpdateEverySection(a.Name, 177);
        UpdateEverySection(a.Name, 177, "--config");
        UpdateEverySection(a.Name, 177, "--current");
        var host = "<host mac='52:54:00:00:00:0a' name='vm10' ip='192.168.177.10'/>";
        _d.Same("net-update", a.Name, "add", "ip-dhcp-host", host, "--live");            // network is not running
        _d.Same("net-update", a.Name, "add", "ip-dhcp-host", host, "--live", "--config");
        _d.Same("net-update", a.Name, "add", "ip-dhcp-host", host, "--current", "--config"); // virsh: exclusive
        _d.Same("net-update", a.Name, "frobnicate", "ip-dhcp-host", host);
    }

    [Test]
    public void NetUpdateOfAnActiveNetwork()
    {
        var a = Net("live", 178, Dns.Replace("SUB", "178", StringComparison.Ordinal));
        _d.Same("net-define", a.File);
        _d.Same("net-start", a.Name);
        UpdateEverySection(a.Name, 178, "--live", "--config");
        string H(int i) => $"<host mac='52:54:00:00:00:{i:x2}' name='vm{i}' ip='192.168.178.{i}'/>";
        _d.Same("net-update", a.Name, "add", "ip-dhcp-host", H(11), "--live");
        _d.Same("net-update", a.Name, "add", "ip-dhcp-host", H(12), "--config");
        _d.Same("net-update", a.Name, "add", "ip-dhcp-host", H(13), "--current");
        _d.Same("net-update", a.Name, "add-first", "ip-dhcp-host", H(14), "--live", "--config");
        _d.Same("net-update", a.Name, "delete", "ip-dhcp-host", H(11), "--config");  // only live has it
        SameViews(a.Name);
        _d.Same("net-undefine", a.Name);
        _d.Same("net-update", a.Name, "add", "ip-dhcp-host", H(15), "--config");      // transient: no config
        _d.Same("net-update", a.Name, "add", "ip-dhcp-host", H(15));
        _d.Same("net-dumpxml", a.Name);
    }

    private string PortFile(string tag, string uuid, string extra = "", string mac = "52:54:00:7b:35:93")
    {
        var file = Path.Combine(Daemon.Root, $"{tag}.xml");
        File.WriteAllText(file, $"""
            <networkport>
              <uuid>{uuid}</uuid>
              <owner><name>guest</name><uuid>d54df46f-1ab5-4a22-8618-4560ef5fac2c</uuid></owner>
              <mac address='{mac}'/>
              {extra}
            </networkport>
            """);
        return file;
    }

    [Test]
    public void NetworkPorts()
    {
        // no <bandwidth> on the network itself: this kernel lacks the sfq qdisc, so libvirtd could not start it
        var a = Net("ports", 183, extra: "<portgroup name='pg' default='yes'><bandwidth><outbound average='100'/></bandwidth></portgroup>");
        string p1 = Guid.NewGuid().ToString(), p2 = Guid.NewGuid().ToString();
        string plain = PortFile("port1", p1);
        string floor = PortFile("port2", p2, "<bandwidth><inbound average='10' floor='300'/></bandwidth>", "52:54:00:00:00:02");
        _d.Same("net-define", a.File);
        _d.Same("net-port-create", a.Name, plain);        // network not active
        _d.Same("net-port-list", a.Name);
        _d.Same("net-start", a.Name);
        _d.Same("net-port-create", a.Name, plain);        // takes the default portgroup's bandwidth
        _d.Same("net-port-create", a.Name, plain);        // duplicate UUID
        _d.Same("net-port-create", a.Name, floor);        // a floor, but the network has no inbound QoS
        _d.Same("net-port-list", a.Name, "--uuid");
        _d.Same("net-port-list", a.Name, "--table");
        _d.Same("net-port-dumpxml", a.Name, p1);
        _d.Same("net-port-dumpxml", a.Name, p2);          // no such port
        _d.Same("net-dumpxml", a.Name);                   // connections='1'
        _d.Same("net-port-delete", a.Name, p1);
        _d.Same("net-port-delete", a.Name, p1);
        _d.Same("net-port-create", a.Name, PortFile("port3", p2, "<plug type='network' bridge='x'/>"));  // a plug without --reclaim
        _d.Same("net-port-create", a.Name, Bad("port4", "<networkport><uuid>nonsense</uuid></networkport>"));
        // libxml2's RelaxNG diagnostics (the lines after the first two) are not reproduced word for word
        var invalid = _d.Run("net-port-create", "--validate", a.Name, Bad("port5", "<networkport><bogus/></networkport>"));
        Assert.That(invalid.Ours.ExitCode, Is.EqualTo(1).And.EqualTo(invalid.Theirs.ExitCode), invalid.ToString());
        Assert.That(invalid.Ours.Stderr.Split('\n')[..2], Is.EqualTo(invalid.Theirs.Stderr.Split('\n')[..2]), invalid.ToString());
        _d.Same("net-dumpxml", a.Name);
        _d.Same("net-destroy", a.Name);
        _d.Same("net-port-list", a.Name);
    }

    /// <summary>net-event --loop --timeout on both daemons, all networks and one network, while the same flow runs.</summary>
    [Test]
    public void NetEventLoop()
    {
        var a = Net("evta", 179);
        var b = Net("evtb", 180);
        _d.Same("net-define", b.File);
        var listeners = new[] { Daemon.Uri, ReferenceDaemon.Uri }
            .SelectMany(uri => new[] { EventLoop(uri), EventLoop(uri, "--network", b.Name) }).ToArray();
        Thread.Sleep(1500);
        _d.Same("net-define", a.File);
        _d.Same("net-start", a.Name);
        _d.Same("net-start", b.Name);
        _d.Same("net-update", a.Name, "add", "ip-dhcp-host", "<host mac='52:54:00:00:00:06' ip='192.168.179.6'/>", "--live", "--config");
        _d.Same("net-destroy", a.Name);
        _d.Same("net-undefine", a.Name);
        _d.Same("net-undefine", b.Name);
        _d.Same("net-destroy", b.Name);
        _d.Same("net-create", a.File);
        _d.Same("net-destroy", a.Name);
        var outputs = listeners.Select(Finish).ToArray();
        Assert.That(outputs[0], Is.EqualTo(outputs[2]), "all networks");
        Assert.That(outputs[1], Is.EqualTo(outputs[3]), "one network");
        Assert.That(outputs[0].Stdout, Does.Contain($"event 'lifecycle' for network {a.Name}: Defined").And.Contain("events received: 9"));
        Assert.That(outputs[1].Stdout, Does.Not.Contain(a.Name).And.Contain("events received: 3"));
    }

    private static Process EventLoop(string uri, params string[] more)
    {
        var psi = new ProcessStartInfo(Tools.Require("virsh", "libvirt-clients")) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { "-c", uri, "net-event", "--loop", "--timeout", "8", "--event", "lifecycle" }.Concat(more)) psi.ArgumentList.Add(a);
        return Process.Start(psi)!;
    }

    private static Tools.Result Finish(Process p)
    {
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        Assert.That(p.WaitForExit(30_000), Is.True, "net-event did not end after its timeout");
        var r = new Tools.Result(p.ExitCode, stdout.Result.TrimEnd(), stderr.Result.TrimEnd());
        p.Dispose();
        return r;
    }
}
