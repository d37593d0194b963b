using System.Runtime.Versioning;
using System.Text;
using VirtNetworkd.NetworkDriver.Backend.Dnsmasq;
using VirtNetworkd.NetworkDriver.Driver;
using VirtNetworkd.Server.Host;

[assembly: SupportedOSPlatform("linux")]

namespace VirtNetworkd.LeasesHelper;

/// <summary>
/// dnsmasq's <c>--dhcp-script</c>: <c>add|old|del|init mac|clientid ip [hostname]</c>. Keeps
/// <c>BRIDGE.status</c> in the dnsmasq state folder the daemon uses (VIRTNETWORKD_ROOT and the
/// session folders as <see cref="DaemonPaths"/> computes them), under the lock of the helper's PID
/// file (waited for, as libvirt's helper waits), replaced atomically, mode 0644.
/// </summary>
internal static class Program
{
    private static int Main(string[] args)
    {
        string programName = Environment.GetCommandLineArgs()[0];
        var input = new LeasesHelperInput(args, Environment.GetEnvironmentVariable);
        var request = LeasesHelperRun.Prepare(input, programName, out var early);
        if (request is null) return Finish(early!);

        var paths = DaemonPaths.Create(DaemonEnvironment.Current);
        string file = LeaseStatusFile.PathFor(paths.DnsmasqStateDir, request.Interface);
        PidFile lockFile;
        try
        {
            lockFile = PidFile.Acquire(paths.LeasesHelperPidFile, wait: true);
        }
        catch (PidFileException e)
        {
            return Finish(new(null, "", $"Unable to acquire PID file: {paths.LeasesHelperPidFile}\n {e.Message}\n", 1));
        }
        using (lockFile)
        {
            return Finish(Run(request, file));
        }
    }

    private static LeasesHelperOutcome Run(LeasesHelperRun.Request request, string file)
    {
        // interfaces come and go: the file may not be there yet (virFileTouch)
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(file)!);
            using (new FileStream(file, new FileStreamOptions { Mode = FileMode.OpenOrCreate, Access = FileAccess.Write, UnixCreateMode = Mode0644 })) { }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return new(null, "", $"Unable to create: {file}\n {e.Message}\n", 1);
        }
        byte[]? current = LeaseStatusFile.TryRead(file, out int errno);
        if (current is null)
            return new(null, "", $"libvirt:  error : Failed to read file '{file}': {LeaseStatusFile.StrError(errno)}\n", 1);
        var outcome = LeasesHelperRun.Apply(request, current, file);
        if (outcome.NewContent is { } text)
        {
            try
            {
                AtomicFile.Write(file, text, Mode0644);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return new(null, "", $"libvirt:  error : cannot write data to file '{file}': {e.Message}\n", 1);
            }
        }
        return outcome;
    }

    private const UnixFileMode Mode0644 = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;

    private static int Finish(LeasesHelperOutcome outcome)
    {
        if (outcome.Stdout.Length > 0)
        {
            using var stdout = Console.OpenStandardOutput();
            stdout.Write(Encoding.UTF8.GetBytes(outcome.Stdout));
        }
        if (outcome.Stderr.Length > 0)
        {
            using var stderr = Console.OpenStandardError();
            stderr.Write(Encoding.UTF8.GetBytes(outcome.Stderr));
        }
        return outcome.ExitCode;
    }
}
