using VirtNetworkd.Protocol.Framing;
using VirtNetworkd.Protocol.Remote;
using VirtNetworkd.Server.Rpc;

namespace VirtNetworkd.Server.Tests.Remote;

/// <summary>
/// An event subscriber that never reads must not grow the daemon: once the bytes waiting for it
/// pass the bound it is dropped, its callbacks go with it, and everyone else goes on.
/// </summary>
public sealed class EventQueueBoundTests
{
    [Test]
    public async Task ASubscriberThatNeverReadsIsDroppedAndForgotten()
    {
        const long bound = 64 * 1024;
        await using var server = new InProcessServer(limits: new ServerLimits { MaxQueuedEventBytes = bound });
        using var lazy = server.OpenClient();
        lazy.Socket.ReceiveBufferSize = 4096;
        Assert.That(lazy.Roundtrip((int)Procedure.ConnectNetworkEventRegisterAny, new ConnectNetworkEventRegisterAnyArgs { EventID = 0 }).Header.Status, Is.Zero);
        var lazyConnection = server.Server.Clients.Single();

        using var busy = server.OpenClient();
        var d = server.Driver;
        int rounds = 0;
        // each round queues two lifecycle events of ~170 bytes; the kernel buffers hold a few hundred KiB
        while (server.Events.CountFor(lazyConnection) > 0 && rounds < 20_000)
        {
            string name = "event-flood-" + new string('x', 100) + rounds;
            var net = d.DefineXml($"<network><name>{name}</name><bridge name='vbq0'/></network>", 0);
            d.Undefine(net);
            rounds++;
        }
        Assert.That(server.Events.CountFor(lazyConnection), Is.Zero, $"the subscriber was dropped (after {rounds} rounds)");
        Assert.That(rounds, Is.GreaterThan(100), "it was dropped for its backlog, not at once");
        Assert.That(busy.Roundtrip(157).Header.Status, Is.Zero, "the other client is served");

        // what the lazy client finds when it finally reads: some events, then the end
        int events = 0;
        lazy.Socket.ReceiveTimeout = 5000;
        for (var p = lazy.Read(); p is not null; p = lazy.Read())
            if (p.Header.Type == PacketType.Message) events++;
        Assert.That(events, Is.GreaterThan(0));
        Assert.That(events * 170L, Is.LessThan(bound + 2 * 1024 * 1024), "no more than the bound plus the socket buffers was queued");
    }
}
