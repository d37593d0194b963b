using System.Diagnostics;
using System.Reflection;
using System.Runtime.CompilerServices;
using BenchmarkDotNet.Attributes;
using VirtNetworkd.Protocol.Remote;
using VirtNetworkd.Protocol.Xdr;
using DriverInfo = VirtNetworkd.NetworkDriver.DriverInfo;

namespace VirtNetworkd.Benchmarks;

/// <summary>
/// <c>--verify</c>: checks the reply of every call in <see cref="RpcCallBenchmarks"/>, then runs
/// each one <c>warmup</c> times and <c>calls</c> times between two readings of
/// GC.GetTotalAllocatedBytes(precise: true) (every thread of the process: the server's) and of
/// GC.GetAllocatedBytesForCurrentThread (the client, which must stay at 0). Exit 1 when a call
/// allocates (in each of <see cref="Attempts"/> measurements), the client allocates, or a control
/// row is wrong.
/// </summary>
public static class AllocationCheck
{
    private const int Attempts = 3;
    private static AllocationTypes? s_types;

    public static int Run(int warmup, int calls, bool types)
    {
        using var listener = types ? new AllocationTypes() : null;
        s_types = listener;
        var serverAssembly = typeof(Server.Rpc.RpcServer).Assembly;
        if (serverAssembly.GetCustomAttribute<DebuggableAttribute>()?.IsJITOptimizerDisabled == true)
        {
            Console.Error.WriteLine("the server assembly is a Debug build: run with -c Release");
            return 1;
        }
        var bench = new RpcCallBenchmarks();
        bench.Setup();
        try
        {
            Console.WriteLine($"in-process {Environment.GetEnvironmentVariable("VND_BENCH_SERVER") ?? "server"}: {serverAssembly.GetName().Name} (Release), .NET {Environment.Version}, " +
                $"DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS={Environment.GetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS")}");
            var errors = Replies.Check(bench.Client);
            Console.WriteLine(errors.Count == 0 ? "replies: all as expected" : $"replies: {errors.Count} wrong");
            foreach (var e in errors) Console.WriteLine($"  FAIL {e}");

            Console.WriteLine();
            Console.WriteLine($"== bytes allocated: {calls} calls after {warmup} warm-up calls each");
            Console.WriteLine($"| {"call",-36} | {"process",10} | {"client",8} | {"server B/call",13} |");
            Console.WriteLine($"|{new string('-', 38)}|{new string('-', 11)}:|{new string('-', 9)}:|{new string('-', 14)}:|");
            int bad = errors.Count;
            // the harness on its own must see nothing, and must see a server that allocates
            if (Row("(control: no call)", static () => 0, warmup, calls).Total != 0) bad++;
            // CONNECT_LIST_NETWORKS builds its array of names on every call
            byte[] list = CallClient.Request(Procedure.ConnectListNetworks, new ConnectListNetworksArgs { Maxnames = 16 });
            if (Row("(control: CONNECT_LIST_NETWORKS)", () => bench.Client.RoundTrip(list), warmup, calls).Total <= 0) bad++;
            // what the process allocates with no call at all (the runtime, the server's timers)
            long idle = GC.GetTotalAllocatedBytes(precise: true);
            Thread.Sleep(1000);
            idle = GC.GetTotalAllocatedBytes(precise: true) - idle;
            Console.WriteLine($"| {"(control: idle 1 s, no call)",-36} | {idle,10} | {"-",8} | {"-",13} |");
            foreach (var m in typeof(RpcCallBenchmarks).GetMethods().Where(m => m.GetCustomAttribute<BenchmarkAttribute>() is not null).OrderBy(m => m.MetadataToken))
            {
                var op = m.CreateDelegate<Func<int>>(bench);
                // a row that is not 0 is measured again: with both cores busy elsewhere, the
                // idle process (no call at all) was seen to allocate 136-6688 B in some 2-s
                // windows, while an allocation per call shows every time
                for (int attempt = 1; ; attempt++)
                {
                    var (total, client) = Row(attempt == 1 ? m.Name : $"  {m.Name}, again ({attempt}/{Attempts})", op, warmup, calls);
                    if (total == 0 && client == 0) break;
                    if (attempt == Attempts)
                    {
                        bad++;
                        break;
                    }
                }
            }
            Console.WriteLine();
            Console.WriteLine(bad == 0 ? "server allocations per call: none" : $"{bad} row(s) FAILED");
            return bad == 0 ? 0 : 1;
        }
        finally
        {
            bench.Cleanup();
        }
    }

    private static (long Total, long Client) Row(string name, Func<int> op, int warmup, int calls)
    {
        s_types?.Start();
        var (total, client) = Measure(op, warmup, calls);
        Console.WriteLine($"| {name,-36} | {total,10} | {client,8} | {(total - client) / (double)calls,13:0.###} |");
        if (s_types is not null) Console.WriteLine($"    allocation ticks: {s_types.Stop()}");
        return (total, client);
    }

    // optimized from the start, so that the measuring loop itself is never a tier-0/OSR build
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static (long Total, long Client) Measure(Func<int> op, int warmup, int calls)
    {
        long sink = 0;
        for (int i = 0; i < warmup; i++) sink += op();
        long total0 = GC.GetTotalAllocatedBytes(precise: true);
        long client0 = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < calls; i++) sink += op();
        long client1 = GC.GetAllocatedBytesForCurrentThread();
        long total1 = GC.GetTotalAllocatedBytes(precise: true);
        GC.KeepAlive(sink);
        return (total1 - total0, client1 - client0);
    }

    /// <summary>What each call must answer for the two networks of <see cref="InProcessDaemon"/>.</summary>
    private static class Replies
    {
        public static List<string> Check(CallClient c)
        {
            var errors = new List<string>();
            void Expect<T>(string what, T actual, T expected)
            {
                if (!EqualityComparer<T>.Default.Equals(actual, expected)) errors.Add($"{what}: {actual}, expected {expected}");
            }
            var net = RpcCallBenchmarks.Default;
            Expect("lib version", c.Call<XdrVoid, ConnectGetLibVersionRet>(Procedure.ConnectGetLibVersion, default).LibVer, DriverInfo.LibVersion);
            Expect("num of networks", c.Call<XdrVoid, ConnectNumOfNetworksRet>(Procedure.ConnectNumOfNetworks, default).Num, 1);
            Expect("num of defined networks", c.Call<XdrVoid, ConnectNumOfDefinedNetworksRet>(Procedure.ConnectNumOfDefinedNetworks, default).Num, 1);
            var byName = c.Call<NetworkLookupByNameArgs, NetworkLookupByNameRet>(Procedure.NetworkLookupByName, new() { Name = net.Name }).Net;
            Expect("lookup by name: name", byName.Name, net.Name);
            Expect("lookup by name: uuid", Convert.ToHexString(byName.Uuid), Convert.ToHexString(net.Uuid));
            var byUuid = c.Call<NetworkLookupByUuidArgs, NetworkLookupByUuidRet>(Procedure.NetworkLookupByUuid, new() { Uuid = net.Uuid }).Net;
            Expect("lookup by uuid: name", byUuid.Name, net.Name);
            Expect("lookup by uuid: uuid", Convert.ToHexString(byUuid.Uuid), Convert.ToHexString(net.Uuid));
            Expect("is active", c.Call<NetworkIsActiveArgs, NetworkIsActiveRet>(Procedure.NetworkIsActive, new() { Net = net }).Active, 1);
            Expect("is persistent", c.Call<NetworkIsPersistentArgs, NetworkIsPersistentRet>(Procedure.NetworkIsPersistent, new() { Net = net }).Persistent, 1);
            Expect("autostart", c.Call<NetworkGetAutostartArgs, NetworkGetAutostartRet>(Procedure.NetworkGetAutostart, new() { Net = net }).Autostart, 1);
            Expect("bridge name", c.Call<NetworkGetBridgeNameArgs, NetworkGetBridgeNameRet>(Procedure.NetworkGetBridgeName, new() { Net = net }).Name, "virbr0");
            string xml = c.Call<NetworkGetXmlDescArgs, NetworkGetXmlDescRet>(Procedure.NetworkGetXmlDesc, new() { Net = net }).Xml;
            Expect("xml desc: names the network", xml.Contains($"<name>{net.Name}</name>", StringComparison.Ordinal), true);
            Expect("xml desc: the same on a second call", c.Call<NetworkGetXmlDescArgs, NetworkGetXmlDescRet>(Procedure.NetworkGetXmlDesc, new() { Net = net }).Xml, xml);
            return errors;
        }
    }
}
