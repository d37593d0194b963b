namespace VirtNetworkd.Integration.Tests;

/// <summary>
/// The real systemd-resolved and resolvectl, from Debian's package unpacked into a cache folder,
/// never installed: installing it would take over the host's /etc/resolv.conf. The package of the
/// host's systemd version when the archive still has it, else the newest (same major version: it
/// links the host's libsystemd-shared).
/// </summary>
public static class SystemdResolvedPackage
{
    private static readonly Lock Gate = new();

    public static string CacheDir => Environment.GetEnvironmentVariable("VIRTNETWORKD_RESOLVED_CACHE") is { Length: > 0 } dir ? dir
        : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache/virtnetworkd/systemd-resolved");
    public static string Root => Path.Combine(CacheDir, "root");
    public static string Daemon => Path.Combine(Root, "lib/systemd/systemd-resolved");
    public static string Resolvectl => Path.Combine(Root, "usr/bin/resolvectl");
    /// <summary>Its D-Bus service file (org.freedesktop.resolve1 activatable through systemd).</summary>
    public static string ServiceDir => Path.Combine(Root, "usr/share/dbus-1/system-services");

    /// <summary>Fetches and unpacks the package unless it is there; fails the test saying what to do when it cannot.</summary>
    public static void Require()
    {
        lock (Gate)
        {
            if (!File.Exists(Daemon) || !File.Exists(Resolvectl)) Fetch();
            var version = Tools.Run(Daemon, ["--version"]);
            if (version.ExitCode != 0)
                Assert.Fail($"{Daemon} does not run here (a systemd-resolved of another systemd version than the host's?); remove {CacheDir} to fetch it again: {version}");
        }
    }

    private static void Fetch()
    {
        string apt = Tools.Require("apt-get", "apt");
        string dpkgDeb = Tools.Require("dpkg-deb", "dpkg");
        Directory.CreateDirectory(CacheDir);
        string systemd = Tools.Run(Tools.Require("dpkg-query", "dpkg"), ["-W", "-f=${Version}", "systemd"]).Stdout.Trim();
        Tools.Result Download()
        {
            var exact = Tools.Run(apt, ["download", $"systemd-resolved={systemd}"], workingDirectory: CacheDir, timeoutMs: 300_000);
            return exact.ExitCode == 0 ? exact : Tools.Run(apt, ["download", "systemd-resolved"], workingDirectory: CacheDir, timeoutMs: 300_000);
        }
        var download = Download();
        if (download.ExitCode != 0)
        {
            Tools.Run(apt, ["update", "-qq"], timeoutMs: 300_000); // a machine whose package lists were never fetched
            download = Download();
        }
        string? deb = Directory.GetFiles(CacheDir, "systemd-resolved_*.deb").OrderByDescending(File.GetLastWriteTimeUtc).FirstOrDefault();
        if (download.ExitCode != 0 || deb is null)
            Assert.Fail($"systemd-resolved is needed for this test, unpacked, not installed: `cd {CacheDir} && apt-get download systemd-resolved && dpkg-deb -x systemd-resolved_*.deb root` failed: {download}");
        var unpack = Tools.Run(dpkgDeb, ["-x", deb!, Root]);
        if (unpack.ExitCode != 0) Assert.Fail($"dpkg-deb -x {deb} {Root}: {unpack}");
    }
}
