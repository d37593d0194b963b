using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace VirtNetworkd.Server.Rpc;

/// <summary>A listening Unix socket: made by us (and removed at shutdown) or handed over by systemd.</summary>
public sealed partial class UnixListener : IDisposable
{
    private UnixListener(Socket socket, ListenerRole role, string? ownedPath)
    {
        Socket = socket;
        Role = role;
        OwnedPath = ownedPath;
    }

    /// <summary>How its clients authenticate (auth_unix_rw / auth_unix_ro).</summary>
    public ListenerAuth Auth { get; init; } = ListenerAuth.None;

    public Socket Socket { get; }
    public ListenerRole Role { get; }
    /// <summary>The socket file we created, removed on dispose; null for an activated socket.</summary>
    public string? OwnedPath { get; }

    /// <summary>
    /// Binds <paramref name="path"/> with file mode <paramref name="mode"/> (e.g. 0700) and group
    /// <paramref name="gid"/> (null: leave it), replacing a stale socket file left by a previous run.
    /// </summary>
    public static UnixListener Bind(string path, ListenerRole role, UnixFileMode mode, int backlog, uint? gid = null)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        if (File.Exists(path) && (File.GetAttributes(path) & FileAttributes.Directory) == 0)
        {
            // a daemon that died without cleaning up; the PID file lock keeps out a live one
            File.Delete(path);
        }
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            // the file is born with its final mode (as libvirt does with umask): never more open, not even briefly
            uint oldMask = Host.LibC.Umask(~(uint)mode & 0x1FF);
            try
            {
                socket.Bind(new UnixDomainSocketEndPoint(path));
            }
            finally
            {
                Host.LibC.Umask(oldMask);
            }
            File.SetUnixFileMode(path, mode);
            if (gid is { } g && Chown(path, uint.MaxValue, g) != 0)
                throw new IOException($"Failed to change group ID of '{path}' to {g}: {Marshal.GetLastPInvokeErrorMessage()}");
            socket.Listen(backlog);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
        return new UnixListener(socket, role, path);
    }

    public static UnixListener Adopt(Socket socket, ListenerRole role) => new(socket, role, null);

    public UnixListener WithAuth(ListenerAuth auth) => new(Socket, Role, OwnedPath) { Auth = auth };

    public void Dispose()
    {
        Socket.Dispose();
        if (OwnedPath is not null)
        {
            try
            {
                File.Delete(OwnedPath);
            }
            catch (IOException)
            {
            }
        }
    }

    [LibraryImport("libc", EntryPoint = "chown", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Chown(string path, uint owner, uint group);
}
