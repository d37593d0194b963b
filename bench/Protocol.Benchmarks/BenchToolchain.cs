using System.Reflection;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Loggers;
using BenchmarkDotNet.Order;
using BenchmarkDotNet.Toolchains;
using BenchmarkDotNet.Toolchains.CsProj;
using BenchmarkDotNet.Toolchains.DotNetCli;

namespace VirtNetworkd.Benchmarks;

/// <summary>
/// BenchmarkDotNet's usual out-of-process .NET toolchain, except for how it finds this project.
/// Stock CsProjGenerator (0.15.8) walks up from the working directory to the first folder with a
/// .sln or global.json (the repository root) and enumerates every "*proj" file below it,
/// following directory symlinks, looking for "<AssemblyName>.csproj". Here that fails twice:
/// the assembly is VirtNetworkd.Protocol.Benchmarks but the project file is
/// Protocol.Benchmarks.csproj, and the repository holds a libvirt source tree (.cache/) whose
/// sysfs test data contains directory symlink cycles, so the enumeration never ends and the host
/// process grew to 24 GB before the kernel OOM killer ended it. The project path is instead
/// recorded at build time (AssemblyMetadata "BenchmarkProjectPath" in the .csproj).
/// </summary>
public static class BenchToolchain
{
    public static string ProjectPath { get; } =
        typeof(BenchToolchain).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .Single(a => a.Key == "BenchmarkProjectPath").Value!;

    private static readonly string Tfm = $"net{Environment.Version.Major}.{Environment.Version.Minor}";

    public static IToolchain Instance { get; } = new Toolchain(
        $"CsProj {Tfm}",
        new Generator(Tfm),
        new DotNetCliBuilder(Tfm, customDotNetCliPath: null!, logOutput: false),
        new DotNetCliExecutor(customDotNetCliPath: null!));

    /// <summary>
    /// The config for <see cref="BenchmarkDotNet.Running.BenchmarkSwitcher"/>: one default job,
    /// built on the job named by <c>--job</c>/<c>-j</c> (dry, short, medium, long, default; taken
    /// out of <paramref name="args"/> here, because BenchmarkDotNet ignores <c>--job</c> when the
    /// config defines a default job), with this toolchain. Other job options (--warmupCount,
    /// --iterationCount, --launchCount, ...) are applied on top by BenchmarkDotNet.
    /// </summary>
    public static IConfig Config(ref string[] args)
    {
        var baseJob = Job.Default;
        var rest = new List<string>();
        for (int i = 0; i < args.Length; i++)
        {
            if ((args[i] == "--job" || args[i] == "-j") && i + 1 < args.Length)
            {
                baseJob = args[++i].ToLowerInvariant() switch
                {
                    "dry" => Job.Dry,
                    "short" => Job.ShortRun,
                    "medium" => Job.MediumRun,
                    "long" => Job.LongRun,
                    "default" => Job.Default,
                    var other => throw new ArgumentException($"unknown --job '{other}' (dry, short, medium, long, default)"),
                };
            }
            else
            {
                rest.Add(args[i]);
            }
        }
        args = rest.ToArray();
        return DefaultConfig.Instance
            .AddJob(baseJob.WithToolchain(Instance).AsDefault())
            // with --join: one block of rows per message (class-level [BenchmarkCategory]), in
            // declaration order
            .AddLogicalGroupRules(BenchmarkLogicalGroupRule.ByCategory)
            .WithOrderer(new DefaultOrderer(SummaryOrderPolicy.Declared, MethodOrderPolicy.Declared));
    }

    private sealed class Generator(string tfm)
        : CsProjGenerator(tfm, cliPath: null!, packagesPath: null!, runtimeFrameworkVersion: null!, isNetCore: true)
    {
        protected override FileInfo GetProjectFilePath(Type benchmarkTarget, ILogger logger) => new(ProjectPath);
    }
}
