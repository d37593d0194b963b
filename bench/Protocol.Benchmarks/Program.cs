using BenchmarkDotNet.Running;
using VirtNetworkd.Benchmarks;

// --verify: run every benchmark once, check the round trip, and report allocations per call
// (a few seconds; see SelfCheck). Everything else goes to BenchmarkDotNet, with a toolchain that
// knows where this project is (see BenchToolchain).
if (args.Contains("--verify")) return SelfCheck.Run();

var config = BenchToolchain.Config(ref args);
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args, config);
return 0;
