using System.Text.RegularExpressions;
using VirtNetworkd.Tests.Shared;

namespace VirtNetworkd.Integration.Tests;

/// <summary>
/// build.ps1 (README, "Set up") really runs: PowerShell comes from the repository's local tool
/// manifest (.config/dotnet-tools.json) and <c>dotnet pwsh build.ps1 build</c> builds the whole
/// solution. The build goes to a temporary artifacts folder (<c>--artifacts-path</c>, passed on
/// by build.ps1 to dotnet build), so the bin/ and obj/ folders of the checkout, whose test
/// assemblies are loaded while this runs, are left alone; <c>--disable-build-servers</c> leaves
/// no MSBuild node or compiler server behind holding this test's output pipes open.
/// </summary>
public class BuildScriptTests
{
    private static string Dotnet =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";

    private const string InstallHint =
        "build.ps1 runs on PowerShell 7.6.10, the local .NET tool in .config/dotnet-tools.json: " +
        "run `dotnet tool restore` in the repository root with access to nuget.org to install it " +
        "(or `dotnet tool install PowerShell --version 7.6.10` there).";

    [Test]
    public void BuildPs1Build_BuildsTheSolution()
    {
        string root = RepoPaths.Root;
        var restore = Tools.Run(Dotnet, ["tool", "restore"], timeoutMs: 300_000, workingDirectory: root);
        if (restore.ExitCode != 0)
            Assert.Fail($"`dotnet tool restore` could not get PowerShell. {InstallHint}\n{restore}");
        var version = Tools.Run(Dotnet, ["pwsh", "-NoProfile", "-Command", "$PSVersionTable.PSVersion.ToString()"], workingDirectory: root);
        if (version.ExitCode != 0 || version.Stdout != "7.6.10")
            Assert.Fail($"`dotnet pwsh` does not run PowerShell 7.6.10. {InstallHint}\n{version}");

        string ownAssembly = typeof(BuildScriptTests).Assembly.Location;
        DateTime ownAssemblyWritten = File.GetLastWriteTimeUtc(ownAssembly);
        string artifacts = Path.Combine(Path.GetTempPath(), "vnd-build-ps1-" + Guid.NewGuid().ToString("N")[..12]);
        try
        {
            // niced: the other test assemblies may be running timing-sensitive tests meanwhile
            var build = Tools.Run("nice",
                ["-n", "10", Dotnet, "pwsh", "-NoProfile", "build.ps1", "build", "--disable-build-servers", "--artifacts-path", artifacts],
                timeoutMs: 1_200_000, workingDirectory: root);
            Assert.That(build.ExitCode, Is.Zero, "dotnet pwsh build.ps1 build failed:\n" + build);
            Assert.That(build.Stdout, Does.Contain("Build succeeded"), build.ToString());

            // every project of the solution was built, into the artifacts folder
            var projects = Regex.Matches(File.ReadAllText(Path.Combine(root, "VirtNetworkd.sln")), @"\\([^\\""]+)\.csproj""")
                .Select(m => m.Groups[1].Value).Order().ToArray();
            Assert.That(projects, Has.Length.GreaterThanOrEqualTo(10));
            var built = Directory.GetDirectories(Path.Combine(artifacts, "bin")).Select(Path.GetFileName).Order().ToArray();
            Assert.That(built, Is.EqualTo(projects));
            Assert.That(Path.Combine(artifacts, "bin", "Server", "release", "virtnetworkd.dll"), Does.Exist);
            Assert.That(File.GetLastWriteTimeUtc(ownAssembly), Is.EqualTo(ownAssemblyWritten),
                "the build overwrote the running test assembly " + ownAssembly);
        }
        finally
        {
            if (Directory.Exists(artifacts)) Directory.Delete(artifacts, recursive: true);
        }
    }
}
