using VirtNetworkd.Protocol.Remote;

namespace VirtNetworkd.Integration.Tests;

/// <summary>
/// What virsh cannot send, compared with the reference: python3-libvirt calls with flags and
/// arguments the daemon must refuse, and the raw protocol for an event ID no client library sends.
/// </summary>
public class NetworkApiDifferentialTests : DaemonFixture
{
    [Test]
    public void RefusedFlagsAndArgumentsViaPython()
    {
        string name = "vdflags-" + Guid.NewGuid().ToString("N")[..6], uuid = Guid.NewGuid().ToString();
        string[] args = [name, uuid, "181"];
        var ours = Tools.PythonScript("bad_flags.py", [Daemon.Uri, .. args]);
        var theirs = Tools.PythonScript("bad_flags.py", [ReferenceDaemon.Uri, .. args]);
        Assert.That(ours.ExitCode, Is.Zero, ours.ToString());
        Assert.That(theirs.ExitCode, Is.Zero, theirs.ToString());
        Assert.That(ours.Stdout, Is.EqualTo(theirs.Stdout), $"ours:\n{ours.Stdout}\ntheirs:\n{theirs.Stdout}");
        Assert.That(ours.Stdout, Does.Contain("listAllNetworks 8 19 unsupported flags (0x1000) in function networkConnectListAllNetworks"));
    }

    [Test]
    public void UnknownEventIdOverTheRawProtocol()
    {
        var replies = new[] { Daemon.SocketPath, ReferenceDaemon.SocketPath }.Select(socket =>
        {
            using var c = new VirtNetworkd.Tests.Shared.RawLibvirtClient(socket);
            c.Open();
            // 7 is past VIR_NETWORK_EVENT_ID_LAST in 9.0 (1) and in 10.8 (2)
            var e = c.Roundtrip((int)Procedure.ConnectNetworkEventRegisterAny, new ConnectNetworkEventRegisterAnyArgs { EventID = 7 }).Error;
            return (e.Code, e.Domain, e.Message);
        }).ToArray();
        Assert.That(replies[0], Is.EqualTo(replies[1]));
        Assert.That(replies[0].Message, Is.EqualTo("internal error: unsupported network event ID 7"));
    }
}
