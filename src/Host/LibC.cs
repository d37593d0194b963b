using System.Runtime.InteropServices;

namespace VirtNetworkd.Server.Host;

/// <summary>
/// The few libc calls the host layer needs and .NET does not offer. All are
/// source-generated (<see cref="LibraryImportAttribute"/>), so they are trimming and AOT safe.
/// Linux only (x86-64 and arm64 share these constants and the <c>struct flock</c> layout).
/// </summary>
internal static unsafe partial class LibC
{
    private const string Lib = "libc";

    public const int O_RDONLY = 0;
    public const int O_WRONLY = 1;
    public const int O_RDWR = 2;
    public const int O_CREAT = 0x40;
    public const int O_APPEND = 0x400;
    public const int O_CLOEXEC = 0x80000;

    public const int F_GETFD = 1;
    public const int F_SETFD = 2;
    public const int F_OFD_SETLK = 37;
    public const int F_OFD_SETLKW = 38;
    public const int FD_CLOEXEC = 1;

    public const short F_WRLCK = 1;
    public const short SEEK_SET = 0;

    public const int EINTR = 4;
    public const int EAGAIN = 11;
    public const int EACCES = 13;

    /// <summary><c>struct flock</c> on 64-bit Linux.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct Flock
    {
        public short l_type;
        public short l_whence;
        public long l_start;
        public long l_len;
        public int l_pid;
    }

    [LibraryImport(Lib, EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    public static partial int Open(string path, int flags, int mode);

    [LibraryImport(Lib, EntryPoint = "close", SetLastError = true)]
    public static partial int Close(int fd);

    [LibraryImport(Lib, EntryPoint = "write", SetLastError = true)]
    public static partial nint Write(int fd, byte* buffer, nint count);

    [LibraryImport(Lib, EntryPoint = "ftruncate", SetLastError = true)]
    public static partial int FTruncate(int fd, long length);

    [LibraryImport(Lib, EntryPoint = "fcntl", SetLastError = true)]
    public static partial int FcntlInt(int fd, int cmd, int arg);

    [LibraryImport(Lib, EntryPoint = "fcntl", SetLastError = true)]
    public static partial int FcntlLock(int fd, int cmd, Flock* lockInfo);

    [LibraryImport(Lib, EntryPoint = "dup2", SetLastError = true)]
    public static partial int Dup2(int oldFd, int newFd);

    [LibraryImport(Lib, EntryPoint = "pipe2", SetLastError = true)]
    public static partial int Pipe2(int* fds, int flags);

    [LibraryImport(Lib, EntryPoint = "umask")]
    public static partial uint Umask(uint mask);

    [LibraryImport(Lib, EntryPoint = "setsid", SetLastError = true)]
    public static partial int SetSid();

    [LibraryImport(Lib, EntryPoint = "isatty")]
    public static partial int IsATty(int fd);

    [LibraryImport(Lib, EntryPoint = "geteuid")]
    public static partial uint GetEUid();

    [LibraryImport(Lib, EntryPoint = "gettid")]
    public static partial int GetTid();

    /// <summary>strerror text for an errno value ("No such file or directory").</summary>
    public static string StrError(int errno) => Marshal.GetPInvokeErrorMessage(errno);

    /// <summary>Writes the whole buffer, retrying on EINTR and short writes. Returns 0 or an errno.</summary>
    public static int WriteAll(int fd, ReadOnlySpan<byte> data)
    {
        fixed (byte* p = data)
        {
            int done = 0;
            while (done < data.Length)
            {
                nint n = Write(fd, p + done, data.Length - done);
                if (n < 0)
                {
                    int err = Marshal.GetLastPInvokeError();
                    if (err == EINTR)
                        continue;
                    return err;
                }
                done += (int)n;
            }
        }
        return 0;
    }

    /// <summary>Sets or clears FD_CLOEXEC. Returns 0 or an errno.</summary>
    public static int SetCloseOnExec(int fd, bool closeOnExec)
    {
        int flags = FcntlInt(fd, F_GETFD, 0);
        if (flags < 0)
            return Marshal.GetLastPInvokeError();
        int wanted = closeOnExec ? flags | FD_CLOEXEC : flags & ~FD_CLOEXEC;
        if (wanted != flags && FcntlInt(fd, F_SETFD, wanted) < 0)
            return Marshal.GetLastPInvokeError();
        return 0;
    }
}
