using System.Diagnostics;
using System.Globalization;
using VirtNetworkd.NetworkDriver.Driver;
using VirtNetworkd.Protocol.Remote;
using VirtNetworkd.Server.Host.Logging;
using VirtNetworkd.Server.Remote;
using VirtNetworkd.Server.Rpc;

namespace VirtNetworkd.Benchmarks;

/// <summary>
/// --isolation: the latency of cheap calls on other networks while a client's net-start and
/// net-destroy take seconds of host work (a backend whose Start and Stop sleep). Eight clients
/// call lookup_by_name, list_all_networks, is_active, get_xml_desc and a keepalive ping in turn,
/// one call at a time each, while one client starts and destroys a network again and again. The
/// target: p99 under 5 ms, no keepalive missed.
/// </summary>
public static class HostWorkIsolation
{
    private const int Clients = 8;

    public static int Run(int cycles, int hostWorkMs)
    {
        string root = Directory.CreateTempSubdirectory("vnd-isolation-bench-").FullName;
        var driver = new NetworkDriver.Driver.NetworkDriver(Path.Combine(root, "networks"), Path.Combine(root, "networks", "autostart"),
            Path.Combine(root, "state"), Environment.IsPrivilegedProcess, new VirtNetworkd.Tests.Shared.SlowBackend(TimeSpan.FromMilliseconds(hostWorkMs)));
        driver.Load();
        var remote = new RemoteDispatcher(new RemoteContext(Environment.IsPrivilegedProcess, 5, 5, driver, new NetworkEventHub(driver)));
        var server = new RpcServer(new ServerLimits(), new ServerLimits(), _ => remote, Log.For("rpc"));
        string socket = Path.Combine(root, "sock");
        server.AddListener(UnixListener.Bind(socket, ListenerRole.ReadWrite, UnixFileMode.UserRead | UnixFileMode.UserWrite, 16));
        try
        {
            for (int i = 0; i < Clients; i++) driver.Create(driver.DefineXml($"<network><name>other{i}</name><bridge name='vbo{i}'/></network>", 0));
            var others = driver.ListAll(0).ToArray();
            var slow = driver.DefineXml("<network><name>slow</name><bridge name='vbslow0'/></network>", 0);
            return Measure(socket, others, slow, cycles, hostWorkMs);
        }
        finally
        {
            server.StopAsync(TimeSpan.FromSeconds(5)).GetAwaiter().GetResult();
            Directory.Delete(root, recursive: true);
        }
    }

    private static int Measure(string socket, NetworkRef[] others, NetworkRef slow, int cycles, int hostWorkMs)
    {
        var samples = new List<double>[Clients];
        int pings = 0, pongs = 0;
        bool measuring = false, stop = false;
        var threads = new Thread[Clients];
        for (int i = 0; i < Clients; i++)
        {
            int me = i;
            samples[me] = new List<double>(1 << 20);
            threads[me] = new Thread(() =>
            {
                using var c = new CallClient(socket);
                c.RoundTrip(CallClient.Request(Procedure.AuthList));
                c.RoundTrip(CallClient.Request(Procedure.ConnectOpen, new ConnectOpenArgs { Name = InProcessDaemon.Uri }));
                var net = new NonnullNetwork { Name = others[me].Name, Uuid = others[me].Uuid.ToByteArray(bigEndian: true) };
                byte[][] calls =
                [
                    CallClient.Request(Procedure.NetworkLookupByName, new NetworkLookupByNameArgs { Name = net.Name }),
                    CallClient.Request(Procedure.ConnectListAllNetworks, new ConnectListAllNetworksArgs { NeedResults = 1 }),
                    CallClient.Request(Procedure.NetworkIsActive, new NetworkIsActiveArgs { Net = net }),
                    CallClient.Request(Procedure.NetworkGetXmlDesc, new NetworkGetXmlDescArgs { Net = net }),
                ];
                long ticks;
                for (int n = 0; !Volatile.Read(ref stop); n++)
                {
                    ticks = Stopwatch.GetTimestamp();
                    if (n % 5 == 4)
                    {
                        Interlocked.Increment(ref pings);
                        if (c.Ping()) Interlocked.Increment(ref pongs);
                    }
                    else
                    {
                        c.RoundTrip(calls[n % 5]);
                    }
                    if (Volatile.Read(ref measuring)) samples[me].Add(Stopwatch.GetElapsedTime(ticks).TotalMilliseconds);
                }
            }) { IsBackground = true };
            threads[me].Start();
        }

        using var starter = new CallClient(socket);
        starter.RoundTrip(CallClient.Request(Procedure.AuthList));
        starter.RoundTrip(CallClient.Request(Procedure.ConnectOpen, new ConnectOpenArgs { Name = InProcessDaemon.Uri }));
        var wire = new NonnullNetwork { Name = slow.Name, Uuid = slow.Uuid.ToByteArray(bigEndian: true) };
        byte[] create = CallClient.Request(Procedure.NetworkCreate, new NetworkCreateArgs { Net = wire });
        byte[] destroy = CallClient.Request(Procedure.NetworkDestroy, new NetworkDestroyArgs { Net = wire });
        Thread.Sleep(1000); // warm-up: JIT, first calls
        Volatile.Write(ref measuring, true);
        var work = Stopwatch.StartNew();
        for (int i = 0; i < cycles; i++)
        {
            starter.RoundTrip(create);
            starter.RoundTrip(destroy);
        }
        work.Stop();
        Volatile.Write(ref stop, true);
        foreach (var t in threads) t.Join();

        var all = samples.SelectMany(s => s).Order().ToArray();
        double P(double q) => all[Math.Min(all.Length - 1, (int)(all.Length * q))];
        var inv = CultureInfo.InvariantCulture;
        Console.WriteLine(string.Create(inv, $"host work: {cycles} start+destroy cycles of {hostWorkMs} ms each way, {work.Elapsed.TotalSeconds:F1} s"));
        Console.WriteLine(string.Create(inv, $"{Clients} clients: {all.Length} calls ({all.Length / work.Elapsed.TotalSeconds:F0}/s): p50 {P(0.50):F3} ms, p99 {P(0.99):F3} ms, p99.9 {P(0.999):F3} ms, max {all[^1]:F3} ms"));
        Console.WriteLine($"keepalive: {pings} pings, {pongs} pongs, {pings - pongs} missed");
        bool ok = P(0.99) < 5 && pings == pongs;
        Console.WriteLine(ok ? "target met: p99 < 5 ms, no keepalive missed" : "TARGET NOT MET: p99 < 5 ms, no keepalive missed");
        return ok ? 0 : 1;
    }
}
