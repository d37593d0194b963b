using VirtNetworkd.Server.Host;

namespace VirtNetworkd.Server.Tests.Host;

/// <summary>Environments for tests: root or a session user, with chosen variables.</summary>
internal static class TestEnv
{
    public static DaemonEnvironment Root(params (string Name, string Value)[] vars) =>
        DaemonEnvironment.Create(vars.ToDictionary(v => v.Name, v => v.Value), effectiveUid: 0);

    public static DaemonEnvironment User(params (string Name, string Value)[] vars)
    {
        var d = vars.ToDictionary(v => v.Name, v => v.Value);
        d.TryAdd("HOME", "/home/alice");
        return DaemonEnvironment.Create(d, effectiveUid: 1000);
    }

    /// <summary>A fresh empty directory under the system temp dir, removed by the caller.</summary>
    public static string TempDir()
    {
        string dir = Path.Combine(Path.GetTempPath(), "vnd-host-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(dir);
        return dir;
    }
}
