namespace VirtNetworkd.Integration.Tests;

/// <summary>
/// Debian's libvirtd with only its network driver, in its own network namespace
/// (../shared/reference/reference-daemon.sh): the oracle for differential tests. Started once
/// for the whole run, stopped at the end.
/// </summary>
[SetUpFixture]
public sealed class ReferenceDaemon
{
    private static readonly string Dir = Path.Combine(Path.GetTempPath(), "vnd-reference");
    private static string? s_uri;
    private static string? s_failure;

    public static string Uri
    {
        get
        {
            if (s_uri is null && s_failure is null) Start();
            if (s_failure is not null) Assert.Fail(s_failure);
            return s_uri!;
        }
    }

    private static void Start()
    {
        string script = Path.Combine(VirtNetworkd.Tests.Shared.RepoPaths.Shared, "reference", "reference-daemon.sh");
        if (!File.Exists(script))
        {
            s_failure = $"the reference daemon script {script} is missing: run the tests from a checkout with ../shared beside it";
            return;
        }
        Tools.Require("libvirtd", "libvirt-daemon");
        var r = Tools.Run("bash", [script, "start", Dir], timeoutMs: 120_000);
        if (r.ExitCode != 0)
        {
            s_failure = $"the reference daemon did not start (needs root, ip netns, libvirt-daemon):\n{r}";
            return;
        }
        s_uri = r.Stdout.Trim().Split('\n').Last();
    }

    [OneTimeTearDown]
    public void StopReference()
    {
        if (s_uri is null) return;
        string script = Path.Combine(VirtNetworkd.Tests.Shared.RepoPaths.Shared, "reference", "reference-daemon.sh");
        Tools.Run("bash", [script, "stop", Dir], timeoutMs: 60_000);
        s_uri = null;
    }
}
