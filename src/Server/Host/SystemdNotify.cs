using System.Net.Sockets;
using System.Text;
using VirtNetworkd.Server.Host.Logging;

namespace VirtNetworkd.Server.Host;

/// <summary>
/// sd_notify(3): state changes sent to systemd as one datagram on the <c>NOTIFY_SOCKET</c>
/// (a path, or an abstract socket written <c>@name</c>). Does nothing when the variable is
/// unset, as when the daemon is not run by systemd with Type=notify.
/// </summary>
public static class SystemdNotify
{
    public const string SocketVariable = "NOTIFY_SOCKET";

    // sockaddr_un.sun_path holds 108 bytes; the address need not be NUL-terminated.
    private const int MaxPathBytes = 108;

    private static readonly Logger s_log = Log.For("util.systemd");

    /// <summary>Whether NOTIFY_SOCKET is set (in <paramref name="env"/>, default the real process).</summary>
    public static bool IsEnabled(DaemonEnvironment? env = null) =>
        (env ?? DaemonEnvironment.Current).GetNonEmpty(SocketVariable) is not null;

    /// <summary>READY=1: start-up finished (sockets listening, PID file written).</summary>
    public static bool Ready(DaemonEnvironment? env = null) => Send("READY=1", env);

    /// <summary>STOPPING=1: shutting down.</summary>
    public static bool Stopping(DaemonEnvironment? env = null) => Send("STOPPING=1", env);

    /// <summary>STATUS=…: a free-form status line for <c>systemctl status</c>.</summary>
    public static bool Status(string text, DaemonEnvironment? env = null) => Send("STATUS=" + text, env);

    /// <summary>
    /// Sends newline-separated assignments. Returns true when sent; false when NOTIFY_SOCKET is
    /// unset or when sending failed (logged as a warning, as libvirt does).
    /// </summary>
    public static bool Send(string state, DaemonEnvironment? env = null)
    {
        ArgumentNullException.ThrowIfNull(state);
        string? path = (env ?? DaemonEnvironment.Current).GetNonEmpty(SocketVariable);
        if (path is null)
            return false;
        if (Encoding.UTF8.GetByteCount(path) > MaxPathBytes)
        {
            s_log.Warn($"Systemd notify socket path '{path}' too long");
            return false;
        }
        string address = path[0] == '@' ? "\0" + path[1..] : path;
        try
        {
            using var socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
            socket.SendTo(Encoding.UTF8.GetBytes(state), SocketFlags.None, new UnixDomainSocketEndPoint(address));
            return true;
        }
        catch (SocketException e)
        {
            s_log.Warn($"Failed to notify systemd: {e.Message}");
            return false;
        }
    }
}
