using VirtNetworkd.Errors;
using VirtNetworkd.NetworkDriver.Backend.Dnsmasq;
using VirtNetworkd.NetworkDriver.Xml;

namespace VirtNetworkd.NetworkDriver.Tests.Backend.Dnsmasq;

/// <summary>
/// A dnsmasq that fails to start: the error is libvirt's virCommandRun text with everything the
/// program wrote to stderr, also what arrives after its exit. The binary is a script standing in
/// for dnsmasq's failure (its --version is the real dnsmasq's, for the capability probe).
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class DnsmasqStartFailureTests
{
    private string _dir = "";

    [SetUp]
    public void CreateDir() => _dir = Directory.CreateTempSubdirectory("vn-dnsmasq-fail-").FullName;

    [TearDown]
    public void RemoveDir() => Directory.Delete(_dir, recursive: true);

    [Test]
    public void TheErrorCarriesAllOfStderrAndTheExitStatus()
    {
        string dnsmasq = File.Exists("/usr/sbin/dnsmasq") ? "/usr/sbin/dnsmasq"
            : throw new AssertionException("dnsmasq is missing: apt-get install dnsmasq-base");
        string script = Path.Combine(_dir, "dnsmasq");
        // the last line comes from a child that outlives the failing parent by 300 ms
        File.WriteAllText(script, $"""
            #!/bin/sh
            if [ "$1" = --version ]; then exec {dnsmasq} --version; fi
            echo "dnsmasq: failed to create listening socket for 192.0.2.1: Address already in use" >&2
            (sleep 0.3; echo "late line" >&2) &
            exit 2

            """);
        File.SetUnixFileMode(script, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var settings = new DnsmasqSettings(Path.Combine(_dir, "state"), Path.Combine(_dir, "run"), "/bin/true", Binary: script);
        var daemon = new DnsmasqDaemon(settings, new DnsmasqCapsProbe(), _ => { });
        NetworkDef def = NetworkXml.Parse("<network><name>n</name><bridge name='vnfail9'/>" +
            "<ip address='192.0.2.1' netmask='255.255.255.0'><dhcp><range start='192.0.2.2' end='192.0.2.9'/></dhcp></ip></network>");

        var e = Assert.Throws<LibvirtError>(() => daemon.Start(def))!;
        Assert.That(e.Code, Is.EqualTo(VirErrorCode.InternalError));
        Assert.That(e.Message, Does.StartWith($"internal error: Child process (VIR_BRIDGE_NAME=vnfail9 {script} --conf-file="));
        Assert.That(e.Message, Does.EndWith(") unexpected exit status 2: dnsmasq: failed to create listening socket for 192.0.2.1: Address already in use\nlate line"));
    }
}
