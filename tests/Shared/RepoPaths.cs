using System.Diagnostics;

namespace VirtNetworkd.Tests.Shared;

/// <summary>Where the repository, its protocol definitions and the shared reference material are.</summary>
public static class RepoPaths
{
    private static readonly Lazy<string> RootLazy = new(FindRoot);

    /// <summary>The checkout: the folder holding VirtNetworkd.sln.</summary>
    public static string Root => RootLazy.Value;

    public static string ProtocolDefs => Path.Combine(Root, "protocol-defs");

    /// <summary>../shared beside the checkout (the project's shared reference material).</summary>
    public static string Shared => Path.GetFullPath(Path.Combine(Root, "..", "shared"));

    private static string FindRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "VirtNetworkd.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("cannot find VirtNetworkd.sln above " + AppContext.BaseDirectory);
    }

    /// <summary>
    /// libvirt's source tree unpacked by ../shared/reference/libvirt-source.sh into the ignored
    /// cache folder .cache/ of the checkout. <paramref name="suite"/> null gives libvirt 9.0 (Debian 12),
    /// "trixie" gives 11.3. Fails (never skips) when it cannot be had.
    /// </summary>
    public static string LibvirtSource(string? suite = null)
    {
        string dest = Path.Combine(Root, ".cache", suite is null ? "libvirt-src" : "libvirt-src-" + suite);
        if (File.Exists(Path.Combine(dest, ".complete"))) return dest;
        string script = Path.Combine(Shared, "reference", "libvirt-source.sh");
        if (!File.Exists(script))
            Assert.Fail($"libvirt's source is needed and {script} is missing: run the tests from a checkout with ../shared beside it");
        var psi = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(script);
        psi.ArgumentList.Add(dest);
        if (suite is not null) psi.Environment["SUITE"] = suite;
        using var p = Process.Start(psi)!;
        string stdout = p.StandardOutput.ReadToEnd();
        string stderr = p.StandardError.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0 || !File.Exists(Path.Combine(dest, ".complete")))
            Assert.Fail($"could not fetch libvirt's source with {script} (exit {p.ExitCode}); it needs root, apt and the Debian mirror:\n{stderr}{stdout}");
        return dest;
    }
}
