using System.Diagnostics;
using VirtNetworkd.Protocol.Framing;
using VirtNetworkd.Protocol.Remote;

namespace VirtNetworkd.Integration.Tests;

/// <summary>Server-side keepalive with a short interval from the config file.</summary>
public class KeepaliveTests : DaemonFixture
{
    protected override string? Config => "keepalive_interval = 1\nkeepalive_count = 2\n";

    [Test]
    public void SilentClientThatNegotiatedKeepaliveIsPingedThenDropped()
    {
        using var c = Raw();
        c.Roundtrip((int)Procedure.ConnectSupportsFeature, new ConnectSupportsFeatureArgs { Feature = 10 });
        var sw = Stopwatch.StartNew();
        int pings = 0;
        while (c.Read() is { } p)
        {
            Assert.That(p.Header.Program, Is.EqualTo(0x6b656570u));
            Assert.That(p.Header.Procedure, Is.EqualTo(1), "PING");
            Assert.That(p.Header.Type, Is.EqualTo(PacketType.Message));
            pings++;
        }
        Assert.That(pings, Is.EqualTo(2), "keepalive_count pings, then the drop");
        Assert.That(sw.Elapsed.TotalSeconds, Is.InRange(1.5, 8));
        AssertStillServing();
    }

    [Test]
    public void ClientAnsweringPingsStays()
    {
        using var c = Raw();
        c.Open();
        c.Roundtrip((int)Procedure.ConnectSupportsFeature, new ConnectSupportsFeatureArgs { Feature = 10 });
        c.Socket.ReceiveTimeout = 1500;
        var sw = Stopwatch.StartNew();
        while (sw.Elapsed.TotalSeconds < 6)
        {
            try
            {
                var p = c.Read();
                Assert.That(p, Is.Not.Null, "dropped although it answered");
                if (p!.Header.Procedure == 1)
                    c.Send(0x6b656570, 2, new VirtNetworkd.Protocol.Xdr.XdrVoid(), type: PacketType.Message, serial: 0);
            }
            catch (System.Net.Sockets.SocketException)
            {
            }
        }
        Assert.That(c.Roundtrip(157).Header.Status, Is.Zero);
    }

    [Test]
    public void ClientThatDidNotNegotiateIsNeverPinged()
    {
        using var c = Raw();
        c.Open();
        c.Socket.ReceiveTimeout = 4000;
        Assert.That(() => c.Read(), Throws.InstanceOf<System.Net.Sockets.SocketException>(), "nothing arrives, and the connection stays");
        Assert.That(c.Roundtrip(157).Header.Status, Is.Zero);
    }
}
