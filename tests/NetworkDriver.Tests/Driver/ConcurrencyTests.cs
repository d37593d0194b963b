using VirtNetworkd.NetworkDriver.Driver;
using VirtNetworkd.Errors;

namespace VirtNetworkd.NetworkDriver.Tests.Driver;

[TestFixture]
public sealed class ConcurrencyTests : DriverTestBase
{
    [Test]
    public void ParallelDefineOfSameNameDifferentUuidsOneWins()
    {
        var errors = new System.Collections.Concurrent.ConcurrentBag<LibvirtError>();
        var wins = new System.Collections.Concurrent.ConcurrentBag<NetworkRef>();
        Parallel.For(0, 16, i =>
        {
            try { wins.Add(Drv.DefineXml(Xml("race"), 0)); }
            catch (LibvirtError e) { errors.Add(e); }
        });
        Assert.That(wins, Has.Count.EqualTo(1));
        Assert.That(errors, Has.Count.EqualTo(15));
        Assert.That(errors.Select(e => e.Message).Distinct(), Is.EqualTo(new[] {
            $"operation failed: network 'race' already exists with uuid {VirtNetworkd.NetworkDriver.Xml.Net.VirUuid.Format(wins.Single().Uuid)}" }));
    }

    [Test]
    public void ParallelDefineStartUndefineDestroyKeepsConsistentState()
    {
        Drv.Load();
        var unexpected = new System.Collections.Concurrent.ConcurrentBag<Exception>();
        Parallel.For(0, 8, t =>
        {
            for (int i = 0; i < 40; i++)
            {
                try
                {
                    switch ((t + i) % 4)
                    {
                        case 0: Drv.DefineXml(Xml("n", U1), 0); break;
                        case 1: Drv.Create(new NetworkRef("n", Guid.Parse(U1))); break;
                        case 2: Drv.Undefine(new NetworkRef("n", Guid.Parse(U1))); break;
                        default: Drv.Destroy(new NetworkRef("n", Guid.Parse(U1))); break;
                    }
                }
                catch (LibvirtError) { }
                catch (Exception e) { unexpected.Add(e); }
            }
        });
        Assert.That(unexpected, Is.Empty);
        // the disk agrees with memory
        bool exists = Drv.ListAll(0).Count == 1;
        bool persistent = exists && Drv.IsPersistent(Drv.LookupByName("n"));
        bool active = exists && Drv.IsActive(Drv.LookupByName("n"));
        Assert.That(File.Exists(Path.Combine(ConfigDir, "n.xml")), Is.EqualTo(persistent));
        Assert.That(File.Exists(Path.Combine(StateDir, "n.xml")), Is.EqualTo(active));
        Assert.That(Backend.RunningNetworks.Count == 1, Is.EqualTo(active));
        var d2 = NewDriver();
        d2.Load();
        Assert.That(d2.ListAll(0).Count, Is.EqualTo(exists ? 1 : 0));
        // events alternate consistently: every Started is followed by Stopped before the next Started
        bool running = false;
        foreach (string e in Events)
        {
            if (e.EndsWith(":Started:0", StringComparison.Ordinal)) { Assert.That(running, Is.False); running = true; }
            if (e.EndsWith(":Stopped:0", StringComparison.Ordinal)) { Assert.That(running, Is.True); running = false; }
        }
        Assert.That(running, Is.EqualTo(active));
    }

    [Test]
    public void ParallelUndefineOfSameNetworkSucceedsOnce()
    {
        NetworkRef r = Drv.DefineXml(Xml("u", U1), 0);
        int ok = 0;
        var messages = new System.Collections.Concurrent.ConcurrentBag<string>();
        Parallel.For(0, 16, _ =>
        {
            try { Drv.Undefine(r); Interlocked.Increment(ref ok); }
            catch (LibvirtError e) { messages.Add(e.Message); }
        });
        Assert.That(ok, Is.EqualTo(1));
        Assert.That(messages.Distinct(), Is.EqualTo(new[] { $"Network not found: no network with matching uuid '{U1}' (u)" }));
        Assert.That(Events, Is.EqualTo(new[] { "u:Defined:0", "u:Undefined:0" }));
        Assert.That(File.Exists(Path.Combine(ConfigDir, "u.xml")), Is.False);
    }
}
