using System.Net.Sockets;
using VirtNetworkd.Server.Host.Logging;

namespace VirtNetworkd.Server.Host;

/// <summary>The three sockets virtnetworkd serves.</summary>
public enum SocketRole
{
    /// <summary><c>virtnetworkd-sock</c>, unit <c>virtnetworkd.socket</c>.</summary>
    ReadWrite,

    /// <summary><c>virtnetworkd-sock-ro</c>, unit <c>virtnetworkd-ro.socket</c>.</summary>
    ReadOnly,

    /// <summary><c>virtnetworkd-admin-sock</c>, unit <c>virtnetworkd-admin.socket</c>.</summary>
    Admin,
}

/// <summary>A socket-activation error that stops the daemon (libvirt's message).</summary>
public sealed class SocketActivationException(string message) : Exception(message);

/// <summary>
/// systemd socket activation, with libvirt's rules (virSystemdGetActivation):
/// <list type="bullet">
/// <item>Only when LISTEN_PID is our pid and LISTEN_FDS is a number; then LISTEN_PID and
/// LISTEN_FDS are unset and the fds 3…3+n−1 are made close-on-exec.</item>
/// <item>Each fd is named by LISTEN_FDNAMES (colon-separated, one name per fd); names pick the
/// role: <c>virtnetworkd.socket</c>, <c>virtnetworkd-ro.socket</c>,
/// <c>virtnetworkd-admin.socket</c>. Several fds may share a name.</item>
/// <item>LISTEN_FDNAMES missing or with the wrong count: an error is logged and the daemon
/// carries on without activation (creating its own sockets), as libvirt does.</item>
/// <item>An fd whose name is none of the three: "Some activation file descriptors are
/// unclaimed", fatal.</item>
/// <item>With activation, a role without an fd is simply not served: the daemon must not
/// create that socket itself.</item>
/// </list>
/// </summary>
public sealed class SocketActivation : IDisposable
{
    public const string ReadWriteName = DaemonPaths.DaemonName + ".socket";
    public const string ReadOnlyName = DaemonPaths.DaemonName + "-ro.socket";
    public const string AdminName = DaemonPaths.DaemonName + "-admin.socket";

    private const int ListenFdsStart = 3;
    private static readonly Logger s_log = Log.For("util.systemd");

    private readonly IReadOnlyList<Socket> _rw;
    private readonly IReadOnlyList<Socket> _ro;
    private readonly IReadOnlyList<Socket> _admin;

    private SocketActivation(IReadOnlyList<Socket> rw, IReadOnlyList<Socket> ro, IReadOnlyList<Socket> admin)
    {
        _rw = rw;
        _ro = ro;
        _admin = admin;
    }

    /// <summary>The read-write socket, or null when systemd passed none.</summary>
    public Socket? ReadWrite => _rw.Count > 0 ? _rw[0] : null;

    /// <summary>The read-only socket, or null when systemd passed none.</summary>
    public Socket? ReadOnly => _ro.Count > 0 ? _ro[0] : null;

    /// <summary>The admin socket, or null when systemd passed none.</summary>
    public Socket? Admin => _admin.Count > 0 ? _admin[0] : null;

    /// <summary>Every socket passed for a role (a unit may list several ListenStream= lines).</summary>
    public IReadOnlyList<Socket> this[SocketRole role] => role switch
    {
        SocketRole.ReadWrite => _rw,
        SocketRole.ReadOnly => _ro,
        _ => _admin,
    };

    /// <summary>The LISTEN_FDNAMES name of each role.</summary>
    public static string NameOf(SocketRole role) => role switch
    {
        SocketRole.ReadWrite => ReadWriteName,
        SocketRole.ReadOnly => ReadOnlyName,
        _ => AdminName,
    };

    /// <summary>Activation for the real process, or null when not socket-activated.</summary>
    public static SocketActivation? Take() => Take(DaemonEnvironment.Current);

    /// <summary>
    /// Takes the passed sockets, or returns null when the daemon was not socket-activated (and
    /// should create its sockets itself).
    /// </summary>
    /// <exception cref="SocketActivationException">An fd has a name we do not serve, or is not a socket.</exception>
    public static SocketActivation? Take(DaemonEnvironment env) => Take(env, ListenFdsStart);

    /// <summary>As <see cref="Take(DaemonEnvironment)"/>, with the first fd number given (tests).</summary>
    internal static SocketActivation? Take(DaemonEnvironment env, int firstFd)
    {
        ArgumentNullException.ThrowIfNull(env);
        string? pidText = env.Get("LISTEN_PID");
        if (pidText is null || !ulong.TryParse(pidText, out ulong pid) || pid != (ulong)env.ProcessId)
            return null;
        string? fdsText = env.Get("LISTEN_FDS");
        if (fdsText is null || !uint.TryParse(fdsText, out uint nfds))
            return null;

        env.Unset("LISTEN_PID");
        env.Unset("LISTEN_FDS");

        for (int i = 0; i < nfds; i++)
        {
            if (LibC.SetCloseOnExec(firstFd + i, true) != 0)
                s_log.Warn($"Couldn't disable inheritance of passed FD {firstFd + i}");
        }
        if (nfds == 0)
            return null;

        string? names = env.Get("LISTEN_FDNAMES");
        if (names is null)
        {
            s_log.Error("Missing LISTEN_FDNAMES env from systemd socket activation");
            CloseRange(firstFd, (int)nfds);
            return null;
        }
        var nameList = names.Split(':');
        if (nameList.Length != nfds)
        {
            s_log.Error($"Expecting {nfds} FD names but got {nameList.Length}");
            CloseRange(firstFd, (int)nfds);
            return null;
        }

        if (nameList.Any(n => n is not (ReadWriteName or ReadOnlyName or AdminName)))
        {
            CloseRange(firstFd, (int)nfds);
            throw new SocketActivationException("Some activation file descriptors are unclaimed");
        }

        var rw = new List<Socket>();
        var ro = new List<Socket>();
        var admin = new List<Socket>();
        int fd = firstFd;
        try
        {
            for (; fd < firstFd + nfds; fd++)
            {
                var socket = new Socket(new SafeSocketHandle(fd, ownsHandle: true));
                (nameList[fd - firstFd] switch
                {
                    ReadWriteName => rw,
                    ReadOnlyName => ro,
                    _ => admin,
                }).Add(socket);
            }
        }
        catch (SocketException e)
        {
            foreach (var s in rw.Concat(ro).Concat(admin))
                s.Dispose();
            CloseRange(fd, (int)(firstFd + nfds - fd));
            throw new SocketActivationException($"Unable to use activation file descriptor {fd}: {e.Message}");
        }
        return new SocketActivation(rw, ro, admin);
    }

    private static void CloseRange(int first, int count)
    {
        for (int i = 0; i < count; i++)
            LibC.Close(first + i);
    }

    /// <summary>Closes every passed socket.</summary>
    public void Dispose()
    {
        foreach (var s in _rw.Concat(_ro).Concat(_admin))
            s.Dispose();
    }
}
