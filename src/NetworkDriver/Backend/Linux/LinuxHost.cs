using VirtNetworkd.NetworkDriver.Backend.Netlink;

namespace VirtNetworkd.NetworkDriver.Backend.Linux;

/// <summary>
/// The kernel the Linux backend works on: an rtnetlink client and the /proc/sys tunables, both in
/// the daemon's network namespace, or, given one, in a namespace of a test's.
/// </summary>
public sealed class LinuxHost : IDisposable
{
    private readonly NamespaceThread? _namespace;

    public LinuxHost(string? namespacePath = null)
    {
        if (namespacePath is not null) _namespace = new NamespaceThread(namespacePath);
        Netlink = new RtNetlinkClient(_namespace is null ? NetlinkSocket.Open() : _namespace.Run(() => NetlinkSocket.Open()));
    }

    public RtNetlinkClient Netlink { get; }

    /// <summary>Another rtnetlink socket in the same namespace, subscribed to
    /// <paramref name="groups"/> (0: none), for work beside <see cref="Netlink"/>.</summary>
    public NetlinkSocket OpenSocket(uint groups) =>
        _namespace is null ? NetlinkSocket.OpenSubscribed(groups) : _namespace.Run(() => NetlinkSocket.OpenSubscribed(groups));

    /// <summary>Starts deleting a device; its Wait returns once it is gone from the namespace (<see cref="LinkDeletion"/>).</summary>
    public LinkDeletion.Pending BeginDeleteLink(int index, Action<string> log) => LinkDeletion.Begin(OpenSocket, Netlink, index, log);

    /// <summary>Writes a /proc/sys value (e.g. "net/ipv4/ip_forward"); false when it does not exist.</summary>
    public bool WriteSysctl(string path, string value, bool ignoreMissing)
    {
        string file = "/proc/sys/" + path;
        return InNamespace(() =>
        {
            if (ignoreMissing && !File.Exists(file)) return false;
            File.WriteAllText(file, value);
            return true;
        });
    }

    public string ReadSysctl(string path) => InNamespace(() => File.ReadAllText("/proc/sys/" + path).Trim());

    /// <summary>Reads a file from the namespace's thread (for /proc/thread-self/net/…).</summary>
    public string ReadFile(string path) => InNamespace(() => File.ReadAllText(path));

    private T InNamespace<T>(Func<T> work) => _namespace is null ? work() : _namespace.Run(work);

    public void Dispose()
    {
        Netlink.Dispose();
        _namespace?.Dispose();
    }
}
