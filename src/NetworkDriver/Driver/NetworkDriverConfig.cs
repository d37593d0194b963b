using VirtNetworkd.Errors;
using VirtNetworkd.NetworkDriver.Backend;

namespace VirtNetworkd.NetworkDriver.Driver;

/// <summary>
/// network.conf, the network driver's own configuration beside virtnetworkd.conf
/// (virNetworkLoadDriverConfig in libvirt's bridge_driver_conf.c). Its one setting is
/// <c>firewall_backend</c>. The daemon reads the file with its virconf parser and passes the
/// setting's string here; the driver only decides.
/// </summary>
public sealed record NetworkDriverConfig(FirewallBackendType FirewallBackend)
{
    public const string FileName = "network.conf";

    /// <summary>The order libvirt tries backends in when network.conf names none (its default build).</summary>
    public static readonly IReadOnlyList<FirewallBackendType> BackendPriority = [FirewallBackendType.Nftables, FirewallBackendType.Iptables];

    /// <summary>
    /// Chooses the firewall backend. <paramref name="firewallBackend"/> is network.conf's
    /// <c>firewall_backend</c>, null when the file is missing or does not set it: then the first
    /// backend of <see cref="BackendPriority"/> whose program (nft, iptables) <paramref name="inPath"/>
    /// finds is used. Errors are libvirt's, and make the driver refuse to start.
    /// </summary>
    public static NetworkDriverConfig Load(string configFile, string? firewallBackend, Func<string, bool>? inPath = null, Action<string>? log = null)
    {
        inPath ??= InPath;
        IReadOnlyList<FirewallBackendType> candidates = BackendPriority;
        if (firewallBackend is not null)
        {
            // "none" is a later addition (libvirt 11, with unprivileged daemons forced to it): 10.8 knows these two
            FirewallBackendType? requested = firewallBackend switch
            {
                "iptables" => FirewallBackendType.Iptables,
                "nftables" => FirewallBackendType.Nftables,
                _ => null,
            };
            if (requested is null)
                throw new LibvirtError(VirErrorCode.InternalError, VirErrorDomain.Network,
                    $"unrecognized firewall_backend = '{firewallBackend}' set in network driver config file {configFile}");
            candidates = [requested.Value];
        }
        foreach (FirewallBackendType b in candidates)
        {
            if (!inPath(b == FirewallBackendType.Nftables ? "nft" : "iptables")) continue;
            log?.Invoke($"using firewall_backend: '{(b == FirewallBackendType.Nftables ? "nftables" : "iptables")}'");
            return new NetworkDriverConfig(b);
        }
        throw firewallBackend is not null
            ? new LibvirtError(VirErrorCode.InternalError, VirErrorDomain.Network, $"requested firewall_backend '{firewallBackend}' is not available")
            : new LibvirtError(VirErrorCode.InternalError, VirErrorDomain.Network, "could not find a usable firewall backend");
    }

    /// <summary>virFindFileInPath: an executable file of that name in a directory of PATH (or the path itself when it holds a '/').</summary>
    public static bool InPath(string program)
    {
        ArgumentNullException.ThrowIfNull(program);
        if (program.Contains('/', StringComparison.Ordinal)) return IsExecutable(program);
        string path = Environment.GetEnvironmentVariable("PATH") ?? "";
        return path.Split(':', StringSplitOptions.RemoveEmptyEntries).Any(dir => IsExecutable(Path.Combine(dir, program)));
    }

    /// <summary>virFileIsExecutable: a file (not a folder) with an execute bit.</summary>
    internal static bool IsExecutable(string file) =>
        File.Exists(file) && (!OperatingSystem.IsLinux()
            || (File.GetUnixFileMode(file) & (UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute)) != 0);
}
