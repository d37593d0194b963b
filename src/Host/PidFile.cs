using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace VirtNetworkd.Server.Host;

/// <summary>An error claiming the PID file; the message is libvirt's.</summary>
public sealed class PidFileException(string message) : Exception(message);

/// <summary>
/// The daemon's PID file, held for the life of the process as libvirt holds it: created with
/// mode 0644, locked (a write lock on its first byte, taken without waiting), emptied, and
/// given the pid (no newline). A second daemon fails with
/// <c>Failed to acquire pid file 'PATH': Resource temporarily unavailable</c>.
/// <para>
/// The lock is an open-file-description lock (F_OFD_SETLK): it conflicts with libvirt's own
/// fcntl lock on the same file, and with a second <see cref="Acquire"/> in the same process.
/// </para>
/// With <c>wait</c>, <see cref="Acquire"/> blocks until the holder lets go, as libvirt's leases
/// helper does (virPidFileAcquirePathFull with waitForLock): its PID file is a mutex between
/// the helpers dnsmasq starts.
/// Disposing removes the file, then closes it (releasing the lock).
/// </summary>
public sealed class PidFile : IDisposable
{
    private int _fd;

    private PidFile(string path, int fd)
    {
        Path = path;
        _fd = fd;
    }

    public string Path { get; }

    /// <summary>
    /// Creates missing parent directories (with <paramref name="directoryMode"/>, e.g. 0700 for a
    /// session daemon's runtime dir), opens, locks and writes the file.
    /// </summary>
    /// <exception cref="PidFileException">The file cannot be created, locked or written.</exception>
    public static PidFile Acquire(string path, int? pid = null, bool wait = false, UnixFileMode directoryMode =
        UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute |
        UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string? dir = System.IO.Path.GetDirectoryName(path);
        if (!string.IsNullOrEmpty(dir) && !Directory.Exists(dir))
        {
            try
            {
                Directory.CreateDirectory(dir, directoryMode);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new PidFileException($"Cannot create directory '{dir}': {e.Message}");
            }
        }

        int fd;
        while (true)
        {
            fd = LibC.Open(path, LibC.O_WRONLY | LibC.O_CREAT | LibC.O_CLOEXEC, 0x1A4 /* 0644 */);
            if (fd < 0)
                throw SystemError("Failed to open pid file '{0}'", path);

            int err = Lock(fd, wait);
            if (err != 0)
            {
                LibC.Close(fd);
                throw new PidFileException($"Failed to acquire pid file '{path}': {LibC.StrError(err)}");
            }

            // The file we locked must still be the one at the path: a daemon exiting unlinks
            // its file while holding the lock, so retry if we locked a file that was removed.
            if (StillLinked(fd) && File.Exists(path))
                break;
            LibC.Close(fd);
        }

        if (LibC.FTruncate(fd, 0) < 0)
        {
            var ex = SystemError("Failed to truncate pid file '{0}'", path);
            LibC.Close(fd);
            throw ex;
        }
        byte[] text = Encoding.ASCII.GetBytes((pid ?? Environment.ProcessId).ToString(CultureInfo.InvariantCulture));
        int werr = LibC.WriteAll(fd, text);
        if (werr != 0)
        {
            LibC.Close(fd);
            throw new PidFileException($"Failed to write to pid file '{path}': {LibC.StrError(werr)}");
        }
        return new PidFile(path, fd);
    }

    private static unsafe int Lock(int fd, bool wait)
    {
        while (true)
        {
            var fl = new LibC.Flock { l_type = LibC.F_WRLCK, l_whence = LibC.SEEK_SET, l_start = 0, l_len = 1 };
            if (LibC.FcntlLock(fd, wait ? LibC.F_OFD_SETLKW : LibC.F_OFD_SETLK, &fl) == 0)
                return 0;
            int err = Marshal.GetLastPInvokeError();
            if (err == LibC.EINTR && wait) continue;
            return err == LibC.EACCES ? LibC.EAGAIN : err;
        }
    }

    private static bool StillLinked(int fd)
    {
        try
        {
            var target = new FileInfo($"/proc/self/fd/{fd}").LinkTarget;
            return target is null || !target.EndsWith(" (deleted)", StringComparison.Ordinal);
        }
        catch (IOException)
        {
            return true; // no /proc: skip the check
        }
    }

    private static PidFileException SystemError(string format, string path) =>
        new(string.Format(CultureInfo.InvariantCulture, format, path) + ": " + LibC.StrError(Marshal.GetLastPInvokeError()));

    /// <summary>Removes the file and releases the lock.</summary>
    public void Dispose()
    {
        int fd = Interlocked.Exchange(ref _fd, -1);
        if (fd < 0)
            return;
        try
        {
            File.Delete(Path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // as libvirt: a failed unlink is not fatal
        }
        LibC.Close(fd);
    }
}
