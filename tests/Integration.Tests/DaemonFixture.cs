namespace VirtNetworkd.Integration.Tests;

/// <summary>One daemon shared by the tests of a fixture that only talk to it.</summary>
public abstract class DaemonFixture
{
    protected DaemonProcess Daemon { get; private set; } = null!;

    protected virtual string? Config => null;

    [OneTimeSetUp]
    public void StartDaemon() => Daemon = DaemonProcess.Start(Config);

    [OneTimeTearDown]
    public void StopDaemon()
    {
        Daemon.Stop();
        Daemon.Dispose();
    }

    protected VirtNetworkd.Tests.Shared.RawLibvirtClient Raw(string? socket = null) => new(socket ?? Daemon.SocketPath);

    /// <summary>The daemon is up and serves a fresh client.</summary>
    protected void AssertStillServing()
    {
        Assert.That(Daemon.Process.HasExited, Is.False, "the daemon died:\n" + Daemon.Stderr);
        using var c = Raw();
        c.Open();
        var reply = c.Roundtrip(157);
        Assert.That(reply.Header.Status, Is.Zero);
        Assert.That(reply.Decode<VirtNetworkd.Protocol.Remote.ConnectGetLibVersionRet>().LibVer, Is.EqualTo(10008000UL));
    }
}
