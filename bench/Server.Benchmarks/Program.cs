using System.Runtime.Versioning;
using BenchmarkDotNet.Running;
using VirtNetworkd.Benchmarks;

[assembly: SupportedOSPlatform("linux")]

// --isolation [--cycles N] [--host-work-ms MS]: latency of cheap calls while another client's start/destroy do slow host work
// --verify [--warmup N] [--calls N] [--types]: check the replies and count the server's bytes per call
// (a few seconds; see AllocationCheck). Everything else goes to BenchmarkDotNet. Either way,
// --daemon measures the whole daemon (Program.Main) instead of the RPC stack wired by hand; it is
// passed to BenchmarkDotNet's processes as VND_BENCH_SERVER=daemon.
if (args.Contains("--daemon"))
{
    Environment.SetEnvironmentVariable("VND_BENCH_SERVER", "daemon");
    args = [.. args.Where(a => a != "--daemon")];
}
if (args.Contains("--isolation")) return HostWorkIsolation.Run(Option(args, "--cycles", 5), Option(args, "--host-work-ms", 2000));
if (args.Contains("--verify")) return AllocationCheck.Run(Option(args, "--warmup", 20_000), Option(args, "--calls", 20_000), args.Contains("--types"));

var config = BenchToolchain.Config(ref args);
BenchmarkSwitcher.FromAssembly(typeof(RpcCallBenchmarks).Assembly).Run(args, config);
return 0;

static int Option(string[] args, string name, int fallback)
{
    int i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], System.Globalization.CultureInfo.InvariantCulture) : fallback;
}
