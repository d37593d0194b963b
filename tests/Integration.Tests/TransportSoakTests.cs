using System.Net.Sockets;
using VirtNetworkd.Protocol.Framing;
using VirtNetworkd.Protocol.Remote;
using VirtNetworkd.Protocol.Xdr;
using VirtNetworkd.Tests.Shared;

namespace VirtNetworkd.Integration.Tests;

/// <summary>
/// Several clients at once, for a few seconds, each pipelining rounds of worker calls (define,
/// create, destroy, undefine) mixed with inline ones (get_lib_version, lookup, XML, is_active),
/// sometimes hanging up right after a burst; one client listens to lifecycle events throughout.
/// Every call of a finished round is answered without error, the listener hears the events, and
/// once everyone is gone the daemon holds no more sockets than before.
/// </summary>
public class TransportSoakTests : DaemonFixture
{
    private const int Clients = 6;
    private static readonly TimeSpan Duration = TimeSpan.FromSeconds(5);

    [Test]
    public void MixedPipelinedCallsWithHangUpsFromManyClients()
    {
        int baselineSockets = OpenSockets();
        using var listener = Raw();
        listener.Open();
        Assert.That(listener.Roundtrip((int)Procedure.ConnectNetworkEventRegisterAny, new ConnectNetworkEventRegisterAnyArgs { EventID = 0 }).Header.Status, Is.Zero);
        int events = 0;
        var listening = new Thread(() =>
        {
            try
            {
                while (listener.Read() is { } p)
                {
                    if (p.Header.Type == PacketType.Message && p.Header.Procedure == (int)Procedure.NetworkEventLifecycle) Interlocked.Increment(ref events);
                }
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                // we shut the listener down below
            }
        });
        listening.Start();

        var failures = new List<string>();
        int rounds = 0, hangUps = 0;
        var until = DateTime.UtcNow + Duration;
        var workers = Enumerable.Range(0, Clients).Select(id => new Thread(() =>
        {
            try
            {
                var (r, h) = RunClient(id, until);
                Interlocked.Add(ref rounds, r);
                Interlocked.Add(ref hangUps, h);
            }
            catch (Exception e)
            {
                lock (failures) failures.Add($"client {id}: {e.Message}");
            }
        })).ToList();
        workers.ForEach(t => t.Start());
        workers.ForEach(t => t.Join());

        // each finished round's networks were defined, started, stopped and undefined: 4 events at least
        var eventsDeadline = DateTime.UtcNow.AddSeconds(5);
        while (Volatile.Read(ref events) < 4 * rounds && DateTime.UtcNow < eventsDeadline) Thread.Sleep(20);
        int heard = Volatile.Read(ref events);
        listener.Socket.Shutdown(SocketShutdown.Both);
        listening.Join();

        TestContext.Out.WriteLine($"{rounds} rounds finished, {hangUps} hang-ups, {heard} lifecycle events heard");
        Assert.That(failures, Is.Empty);
        Assert.That(rounds, Is.GreaterThan(Clients), "every client finished rounds");
        Assert.That(hangUps, Is.GreaterThan(0), "some clients hung up mid-burst");
        Assert.That(heard, Is.GreaterThanOrEqualTo(4 * rounds), "the lifecycle events of the finished rounds reach the listener");
        AssertStillServing();
        Assert.That(WaitForSockets(baselineSockets), Is.EqualTo(baselineSockets), "client sockets left open in the daemon");
    }

    private (int Rounds, int HangUps) RunClient(int id, DateTime until)
    {
        var random = new Random(id);
        var c = Raw();
        c.Open();
        int rounds = 0, hangUps = 0;
        try
        {
            for (int round = 0; DateTime.UtcNow < until; round++)
            {
                var names = Enumerable.Range(0, random.Next(1, 10)).Select(i => $"soak{id}r{round}n{i}").ToList();
                var defines = names.Select((name, i) => XdrCodec.ToArray(new NetworkDefineXmlArgs
                {
                    Xml = $"<network><name>{name}</name><bridge name='vsk{id}x{round % 1000}x{i}'/></network>",
                })).ToList();
                // each define followed by an inline call, so worker and inline replies interleave
                c.SendRaw(RawPackets.Calls(2 * names.Count, i => i % 2 == 0 ? ((int)Procedure.NetworkDefineXml, defines[i / 2]) : (157, Array.Empty<byte>()), c.NextSerials(2 * names.Count)));
                if (random.Next(100) < 5)
                {
                    c = HangUp(c);
                    hangUps++;
                    continue;
                }
                var nets = RawPackets.ReadReplies(c, 2 * names.Count, round, "define")
                    .Where(r => r.Header.Procedure == (int)Procedure.NetworkDefineXml)
                    .Select(r => r.Decode<NetworkDefineXmlRet>().Net).ToList();

                // calls on one connection may run in any order, so each burst holds independent calls only
                var bursts = new Func<NonnullNetwork, (int, byte[])[]>[]
                {
                    net =>
                    [
                        ((int)Procedure.NetworkLookupByName, XdrCodec.ToArray(new NetworkLookupByNameArgs { Name = net.Name })),
                        ((int)Procedure.NetworkGetXmlDesc, XdrCodec.ToArray(new NetworkGetXmlDescArgs { Net = net })),
                        ((int)Procedure.NetworkCreate, XdrCodec.ToArray(new NetworkCreateArgs { Net = net })),
                        ((int)Procedure.NetworkIsActive, XdrCodec.ToArray(new NetworkIsActiveArgs { Net = net })),
                    ],
                    net => [((int)Procedure.NetworkDestroy, XdrCodec.ToArray(new NetworkDestroyArgs { Net = net }))],
                    net => [((int)Procedure.NetworkUndefine, XdrCodec.ToArray(new NetworkUndefineArgs { Net = net }))],
                };
                bool hungUp = false;
                foreach (var burst in bursts)
                {
                    var calls = nets.SelectMany(burst).ToList();
                    c.SendRaw(RawPackets.Calls(calls.Count, i => calls[i], c.NextSerials(calls.Count)));
                    if (random.Next(100) < 3)
                    {
                        c = HangUp(c);
                        hangUps++;
                        hungUp = true;
                        break;
                    }
                    RawPackets.ReadReplies(c, calls.Count, round, $"burst of {calls[0].Item1}");
                }
                if (!hungUp) rounds++;
            }
        }
        finally
        {
            c.Dispose();
        }
        return (rounds, hangUps);
    }

    /// <summary>Closes without reading the replies and connects again. What the abandoned calls
    /// leave behind stays: names and bridges are never reused, and this fixture's daemon is its own.</summary>
    private RawLibvirtClient HangUp(RawLibvirtClient c)
    {
        c.Dispose();
        var fresh = Raw();
        fresh.Open();
        return fresh;
    }

    /// <summary>The daemon's open sockets (a JIT build also opens each assembly it loads later, so files do not count).</summary>
    private int OpenSockets() => Directory.GetFiles($"/proc/{Daemon.Process.Id}/fd")
        .Count(fd => new FileInfo(fd).LinkTarget?.StartsWith("socket:", StringComparison.Ordinal) == true);

    private int WaitForSockets(int expected)
    {
        int now = OpenSockets();
        for (int i = 0; i < 100 && now != expected; i++)
        {
            Thread.Sleep(50);
            now = OpenSockets();
        }
        return now;
    }
}
