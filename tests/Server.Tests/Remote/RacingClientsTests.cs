using VirtNetworkd.Protocol.Framing;
using VirtNetworkd.Protocol.Remote;
using VirtNetworkd.Tests.Shared;

namespace VirtNetworkd.Server.Tests.Remote;

/// <summary>
/// Two clients racing start, destroy, undefine, define and update of one network for 10 s over
/// the wire: every answer is one libvirt gives (success, "not valid" for the state the network
/// was in, "not found" once it is gone), nothing deadlocks, and what is on disk is what the
/// driver shows (a driver loaded afresh from the same folders sees the same networks).
/// </summary>
public sealed class RacingClientsTests
{
    private const int OperationInvalid = 55, NoNetwork = 43;
    private static readonly Guid Uuid = Guid.Parse("5d9b3c1e-7a62-4f0e-9d3b-1f2e3d4c5b6a");
    private const string DefineXml = "<network><name>race</name><uuid>5d9b3c1e-7a62-4f0e-9d3b-1f2e3d4c5b6a</uuid><bridge name='vbrace0'/><domain name='race.example'/></network>";

    private static readonly NonnullNetwork Net = new() { Name = "race", Uuid = Uuid.ToByteArray(bigEndian: true) };

    [Test]
    public async Task OnlyLibvirtsOutcomesAndTheDiskMatchesTheLiveView()
    {
        await using var server = new InProcessServer();
        server.Driver.DefineXml(DefineXml, 0);
        var deadline = DateTime.UtcNow.AddSeconds(10);
        var outcomes = new System.Collections.Concurrent.ConcurrentDictionary<string, int>();
        var unexpected = new System.Collections.Concurrent.ConcurrentQueue<string>();
        int txt = 0;
        var racers = Enumerable.Range(0, 2).Select(r => new Thread(() =>
        {
            var rng = new Random(1000 + r);
            using var c = server.OpenClient();
            while (DateTime.UtcNow < deadline)
            {
                int op = rng.Next(5);
                RawPacket reply = op switch
                {
                    0 => c.Roundtrip((int)Procedure.NetworkCreate, new NetworkCreateArgs { Net = Net }),
                    1 => c.Roundtrip((int)Procedure.NetworkDestroy, new NetworkDestroyArgs { Net = Net }),
                    2 => c.Roundtrip((int)Procedure.NetworkUndefine, new NetworkUndefineArgs { Net = Net }),
                    3 => c.Roundtrip((int)Procedure.NetworkDefineXml, new NetworkDefineXmlArgs { Xml = DefineXml }),
                    _ => c.Roundtrip((int)Procedure.NetworkUpdate, new NetworkUpdateArgs
                    {
                        Net = Net, Command = 3 /* add-last */, Section = 11 /* dns-txt */, ParentIndex = -1,
                        Xml = $"<txt name='t{Interlocked.Increment(ref txt)}' value='v'/>", Flags = 0,
                    }),
                };
                string name = new[] { "create", "destroy", "undefine", "define", "update" }[op];
                if (reply.Header.Status == PacketStatus.Ok)
                {
                    outcomes.AddOrUpdate(name + ": ok", 1, (_, n) => n + 1);
                    continue;
                }
                var e = reply.Error;
                outcomes.AddOrUpdate($"{name}: {e.Message}", 1, (_, n) => n + 1);
                if (e.Code is not (OperationInvalid or NoNetwork)) unexpected.Enqueue($"{name}: {e.Code} {e.Message}");
            }
        }) { IsBackground = true }).ToArray();
        foreach (var t in racers) t.Start();
        foreach (var t in racers) Assert.That(t.Join(TimeSpan.FromSeconds(30)), Is.True, "a racer is stuck (deadlock?)");

        foreach (var (k, n) in outcomes.OrderBy(x => x.Key)) TestContext.Out.WriteLine($"{n,6}  {k}");
        Assert.That(unexpected, Is.Empty);
        Assert.That(outcomes.Keys.Where(k => k.EndsWith(": ok", StringComparison.Ordinal)).Count(), Is.GreaterThanOrEqualTo(4), "the race exercised most operations");

        // what a restarted daemon would load is what the live driver shows
        var live = server.Driver;
        var reloaded = server.NewDriverOverTheSameFolders();
        reloaded.Load();
        Assert.That(reloaded.LoadErrors, Is.Empty);
        Assert.That(reloaded.ListAll(0).Select(n => n.Name), Is.EqualTo(live.ListAll(0).Select(n => n.Name)));
        foreach (var n in live.ListAll(0))
        {
            var again = reloaded.LookupByName(n.Name);
            Assert.That(reloaded.IsActive(again), Is.EqualTo(live.IsActive(n)), "active");
            Assert.That(reloaded.IsPersistent(again), Is.EqualTo(live.IsPersistent(n)), "persistent");
            Assert.That(reloaded.GetXmlDesc(again, 0), Is.EqualTo(live.GetXmlDesc(n, 0)), "live XML");
            if (live.IsPersistent(n)) Assert.That(reloaded.GetXmlDesc(again, 1), Is.EqualTo(live.GetXmlDesc(n, 1)), "inactive XML");
        }
    }
}
