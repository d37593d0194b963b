using System.Collections.Concurrent;
using System.Diagnostics;
using VirtNetworkd.Errors;
using VirtNetworkd.NetworkDriver.Driver;

namespace VirtNetworkd.NetworkDriver.Tests.Driver;

/// <summary>No client waits on another client's host work; commands on one network are serialised with libvirt's outcomes.</summary>
[TestFixture]
public sealed class LockingTests : DriverTestBase
{
    private const string U3 = "33333333-2222-3333-4444-555555555555";
    private const string U4 = "44444444-2222-3333-4444-555555555555";
    private static readonly TimeSpan HostWork = TimeSpan.FromMilliseconds(400);
    private const double QueryBudgetMs = 50;

    // own threads, not the pool's: with two cores, blocked pool threads would delay the next task by the pool's injection time
    private static Task Run(Action a) => Task.Factory.StartNew(a, TaskCreationOptions.LongRunning);
    private static Task<T> Run<T>(Func<T> f) => Task.Factory.StartNew(f, TaskCreationOptions.LongRunning);

    private static void WaitFor(Func<bool> condition, string what)
    {
        var sw = Stopwatch.StartNew();
        while (!condition())
        {
            if (sw.Elapsed > TimeSpan.FromSeconds(10)) Assert.Fail("timed out waiting for " + what);
            Thread.Sleep(1);
        }
    }

    /// <summary>Runs the read-only calls on every network again and again until <paramref name="until"/>; returns the slowest call (ms) and the count.</summary>
    private (double MaxMs, int Calls, int OverOneMs) HammerQueries(NetworkRef[] nets, Func<bool> until)
    {
        double max = 0;
        int calls = 0, overOneMs = 0;
        var sw = new Stopwatch();
        void Time(Action a)
        {
            sw.Restart();
            a();
            sw.Stop();
            max = Math.Max(max, sw.Elapsed.TotalMilliseconds);
            if (sw.Elapsed.TotalMilliseconds > 1) overOneMs++;
            calls++;
        }
        do
        {
            foreach (NetworkRef n in nets)
            {
                Time(() => Drv.LookupByName(n.Name));
                Time(() => Drv.LookupByUuid(n.Uuid));
                Time(() => Drv.IsActive(n));
                Time(() => Drv.IsPersistent(n));
                Time(() => Drv.GetAutostart(n));
                Time(() => Drv.GetXmlDesc(n, 0));
                Time(() => Drv.GetXmlDesc(n, 1));
                Time(() => Drv.GetBridgeName(n));
                Time(() => Drv.GetDhcpLeases(n, null, 0));
                Time(() => Drv.GetState(n));
            }
            Time(() => Drv.ListAll(0));
            Time(() => Drv.ListAll(NetworkDriver.Driver.NetworkDriver.ListActive));
            Time(() => Drv.NumOfNetworks());
            Time(() => Drv.NumOfDefined());
            Time(() => Drv.ListNetworks(100));
            Time(() => Drv.ListDefined(100));
            Time(() => _ = Drv.Generation);
        } while (!until());
        return (max, calls, overOneMs);
    }

    [Test]
    public void QueriesAndOtherNetworksDoNotWaitForASlowStartOrStop()
    {
        NetworkRef slow = Drv.DefineXml(Xml("slow", U1), 0);
        NetworkRef on = Drv.DefineXml(Xml("on", U2), 0);
        Drv.Create(on);
        NetworkRef off = Drv.DefineXml(Xml("off", U3), 0);
        NetworkRef[] all = [slow, on, off];
        HammerQueries(all, () => true); // JIT and caches, outside the measurement
        Backend.Delay = HostWork;
        Backend.SlowNetworks.Add("slow");

        // --- start
        var start = Run(() => Drv.Create(slow));
        WaitFor(() => Drv.GetState(slow) == NetworkState.Starting, "the start to begin");
        Assert.That(Drv.IsActive(slow), Is.False, "virNetworkObjIsActive is false until the start completed");
        var second = Run(() => Assert.Throws<LibvirtError>(() => Drv.Create(slow))!.Message);

        var queries = Run(() => HammerQueries(all, () => start.IsCompleted));
        // commands on other networks proceed while the slow one starts
        var sw = Stopwatch.StartNew();
        Drv.Destroy(on);
        Drv.Create(on);
        Drv.SetAutostart(off, true);
        Drv.DefineXml(Xml("off", U3, "<title>redefined</title>"), 0);
        NetworkRef t = Drv.CreateXml(Xml("other", U4), 0);
        Drv.Destroy(t);
        double othersMs = sw.Elapsed.TotalMilliseconds;
        Assert.That(Drv.GetState(slow), Is.EqualTo(NetworkState.Starting), "the other networks were done while the slow start ran");

        Assert.That(start.Wait(TimeSpan.FromSeconds(10)), Is.True);
        (double startMax, int startCalls, int startSlow) = queries.Result;
        Assert.That(second.Wait(TimeSpan.FromSeconds(10)), Is.True);
        Assert.That(second.Result, Is.EqualTo("Requested operation is not valid: network is already active"),
            "a second start waits for the first, then fails as libvirt's does");
        Assert.That(Drv.IsActive(slow), Is.True);

        // --- stop
        var stop = Run(() => Drv.Destroy(slow));
        WaitFor(() => Drv.GetState(slow) == NetworkState.Stopping, "the stop to begin");
        Assert.That(Drv.IsActive(slow), Is.True, "a network being stopped is still active, as in libvirt");
        var secondStop = Run(() => Assert.Throws<LibvirtError>(() => Drv.Destroy(slow))!.Message);
        (double stopMax, int stopCalls, int stopSlow) = HammerQueries(all, () => stop.IsCompleted);
        Assert.That(stop.Wait(TimeSpan.FromSeconds(10)), Is.True);
        Assert.That(secondStop.Wait(TimeSpan.FromSeconds(10)), Is.True);
        Assert.That(secondStop.Result, Is.EqualTo("Requested operation is not valid: network 'slow' is not active"));

        TestContext.Out.WriteLine($"during a {HostWork.TotalMilliseconds} ms start: {startCalls} queries, {startSlow} over 1 ms, slowest {startMax:F2} ms; " +
            $"during the stop: {stopCalls} queries, {stopSlow} over 1 ms, slowest {stopMax:F2} ms; six commands on other networks: {othersMs:F1} ms");
        Assert.That(startCalls, Is.GreaterThan(100));
        Assert.That(startMax, Is.LessThan(QueryBudgetMs));
        Assert.That(stopMax, Is.LessThan(QueryBudgetMs));
        Assert.That(othersMs, Is.LessThan(HostWork.TotalMilliseconds));
        Assert.That(Events.Where(e => e.StartsWith("slow:", StringComparison.Ordinal)), Is.EqualTo(new[] { "slow:Defined:0", "slow:Started:0", "slow:Stopped:0" }));
    }

    [Test]
    public void AnUndefineWaitingForAStartActsOnTheStartedNetwork()
    {
        NetworkRef slow = Drv.DefineXml(Xml("slow", U1), 0);
        Backend.Delay = TimeSpan.FromMilliseconds(200);
        Backend.SlowNetworks.Add("slow");
        var start = Run(() => Drv.Create(slow));
        WaitFor(() => Drv.GetState(slow) == NetworkState.Starting, "the start to begin");
        Drv.Undefine(slow); // waits for the start, then makes the running network transient
        Assert.That(start.Wait(TimeSpan.FromSeconds(10)), Is.True);
        Assert.That(Drv.IsActive(slow), Is.True);
        Assert.That(Drv.IsPersistent(slow), Is.False);
        Drv.Destroy(slow);
        Throws(() => Drv.Create(slow)).Is(VirErrorCode.NoNetwork, $"Network not found: no network with matching uuid '{U1}' (slow)");
        Assert.That(Events, Is.EqualTo(new[] { "slow:Defined:0", "slow:Started:0", "slow:Undefined:0", "slow:Stopped:0" }));
    }

    [Test]
    public void ADestroyRacingAStartWaitsThenActs()
    {
        NetworkRef slow = Drv.DefineXml(Xml("slow", U1), 0);
        Backend.Delay = TimeSpan.FromMilliseconds(200);
        Backend.SlowNetworks.Add("slow");
        var start = Run(() => Drv.Create(slow));
        WaitFor(() => Drv.GetState(slow) == NetworkState.Starting, "the start to begin");
        Drv.Destroy(slow);
        Assert.That(start.Wait(TimeSpan.FromSeconds(10)), Is.True);
        Assert.That(Drv.GetState(slow), Is.EqualTo(NetworkState.Inactive));
        Assert.That(Backend.RunningNetworks, Is.Empty);
        Assert.That(File.Exists(Path.Combine(StateDir, "slow.xml")), Is.False);
        Assert.That(Events, Is.EqualTo(new[] { "slow:Defined:0", "slow:Started:0", "slow:Stopped:0" }));
    }

    [Test]
    public void ACommandWaitingOnANetworkThatGoesAwayFailsAsForAnUnknownNetwork()
    {
        NetworkRef t = Drv.CreateXml(Xml("t", U1), 0);
        Backend.Delay = TimeSpan.FromMilliseconds(200);
        Backend.SlowNetworks.Add("t");
        var destroy = Run(() => Drv.Destroy(t));
        WaitFor(() => Drv.GetState(t) == NetworkState.Stopping, "the stop to begin");
        Task<string>[] waiting = [.. new Func<string>[]
        {
            () => Assert.Throws<LibvirtError>(() => Drv.Create(t))!.Message,
            () => Assert.Throws<LibvirtError>(() => Drv.Update(t, 1, 4, -1, "<host mac='52:54:00:00:00:01' ip='192.168.10.5'/>", 0))!.Message,
            () => Assert.Throws<LibvirtError>(() => Drv.SetAutostart(t, true))!.Message,
        }.Select(Run)];
        Assert.That(destroy.Wait(TimeSpan.FromSeconds(10)), Is.True);
        string[] messages = [.. waiting.Select(task => task.Result)];
        Assert.That(messages, Is.All.EqualTo($"Network not found: no network with matching uuid '{U1}' (t)"));
        Assert.That(Backend.Starts, Is.EqualTo(1), "nothing acted on the removed network");
    }

    [Test]
    public void ClientsRacingOnOneNetworkGetOnlyLibvirtsOutcomes()
    {
        const string ip = "<ip address='192.168.10.1' netmask='255.255.255.0'><dhcp><range start='192.168.10.100' end='192.168.10.200'/>" +
            "<host mac='52:54:00:00:00:01' ip='192.168.10.5'/></dhcp></ip>";
        string xml = Xml("n", U1, "<bridge name='virbr9'/>" + ip);
        var net = new NetworkRef("n", Guid.Parse(U1));
        Backend.Delay = TimeSpan.FromMilliseconds(1);
        Backend.SlowNetworks.Add("n");
        Drv.Load();

        string[] allowed =
        [
            "Requested operation is not valid: network is already active",
            "Requested operation is not valid: network is already active as 'n'",
            "Requested operation is not valid: network 'n' is not active",
            $"Network not found: no network with matching uuid '{U1}' (n)",
            "Requested operation is not valid: can't undefine transient network",
            "Requested operation is not valid: network is not running",
            "Requested operation is not valid: cannot change persistent config of a transient network",
        ];
        var outcomes = new ConcurrentDictionary<string, int>();
        var unexpected = new ConcurrentQueue<string>();
        var duration = TimeSpan.FromSeconds(3);
        var clock = Stopwatch.StartNew();
        void Client(int seed)
        {
            var rnd = new Random(seed);
            while (clock.Elapsed < duration)
            {
                int op = rnd.Next(7);
                string name = op switch { 0 => "define", 1 => "create", 2 => "create-xml", 3 => "destroy", 4 => "undefine", 5 => "update", _ => "update-both" };
                try
                {
                    switch (op)
                    {
                        case 0: Drv.DefineXml(xml, 0); break;
                        case 1: Drv.Create(net); break;
                        case 2: Drv.CreateXml(xml, 0); break;
                        case 3: Drv.Destroy(net); break;
                        case 4: Drv.Undefine(net); break;
                        case 5: Drv.Update(net, 1, 4, -1, $"<host mac='52:54:00:00:00:01' ip='192.168.10.{5 + rnd.Next(3)}'/>", 0); break;
                        default: Drv.Update(net, 1, 4, -1, "<host mac='52:54:00:00:00:01' ip='192.168.10.9'/>", 3); break;
                    }
                    outcomes.AddOrUpdate(name + ": ok", 1, (_, c) => c + 1);
                }
                catch (LibvirtError e) when (allowed.Contains(e.Message))
                {
                    outcomes.AddOrUpdate(name + ": " + e.Message, 1, (_, c) => c + 1);
                }
                catch (Exception e)
                {
                    unexpected.Enqueue(name + ": " + e);
                }
            }
        }
        Task[] clients = [.. Enumerable.Range(0, 4).Select(i => Task.Factory.StartNew(() => Client(i), TaskCreationOptions.LongRunning))];
        Assert.That(Task.WaitAll(clients, duration + TimeSpan.FromSeconds(30)), Is.True, "deadlock: the clients did not finish");
        foreach (var (outcome, count) in outcomes.OrderBy(o => o.Key, StringComparer.Ordinal))
            TestContext.Out.WriteLine($"{count,6}  {outcome}");
        Assert.That(unexpected, Is.Empty);
        Assert.That(outcomes.Keys.Count(k => k.EndsWith(": ok", StringComparison.Ordinal)), Is.GreaterThanOrEqualTo(5), "the race exercised most commands");

        // memory, disk and the host agree
        bool exists = Drv.ListAll(0).Count == 1;
        bool persistent = exists && Drv.IsPersistent(net);
        bool active = exists && Drv.IsActive(net);
        Assert.That(File.Exists(Path.Combine(ConfigDir, "n.xml")), Is.EqualTo(persistent));
        Assert.That(File.Exists(Path.Combine(StateDir, "n.xml")), Is.EqualTo(active));
        Assert.That(Backend.RunningNetworks.Contains("n"), Is.EqualTo(active));
        var d2 = NewDriver();
        d2.Load();
        Assert.That(d2.LoadErrors, Is.Empty);
        Assert.That(d2.ListAll(0), Is.EqualTo(Drv.ListAll(0)));
        if (exists)
        {
            Assert.That(d2.IsActive(net), Is.EqualTo(active));
            Assert.That(d2.IsPersistent(net), Is.EqualTo(persistent));
            Assert.That(d2.GetXmlDesc(net, 0), Is.EqualTo(Drv.GetXmlDesc(net, 0)), "the status file is the live view: no lost update");
            Assert.That(d2.GetXmlDesc(net, 1), Is.EqualTo(Drv.GetXmlDesc(net, 1)), "the config file is the persistent view");
        }
        // events tell the same story in order
        bool running = false, defined = false;
        foreach (string e in Events)
        {
            switch (e)
            {
                case "n:Started:0": Assert.That(running, Is.False, "started twice"); running = true; break;
                case "n:Stopped:0": Assert.That(running, Is.True, "stopped while not running"); running = false; break;
                case "n:Defined:0": defined = true; break;
                case "n:Undefined:0": Assert.That(defined, Is.True, "undefined while not defined"); defined = false; break;
            }
        }
        Assert.That(running, Is.EqualTo(active));
        Assert.That(defined, Is.EqualTo(persistent));
    }
}
