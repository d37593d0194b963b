using System.Runtime.InteropServices;

namespace VirtNetworkd.LoadGen;

/// <summary>
/// The few Linux calls the event loop needs: epoll and raw read/write on the socket's fd.
/// .NET's own async sockets would add a thread hop per completion (epoll thread, then the thread
/// pool); on a 2-core machine those hops are CPU taken away from the server under test.
/// </summary>
internal static unsafe partial class Native
{
    public const int EAGAIN = 11, EINTR = 4;
    public const uint EPOLLIN = 0x001, EPOLLOUT = 0x004, EPOLLERR = 0x008, EPOLLHUP = 0x010, EPOLLRDHUP = 0x2000;
    public const int EPOLL_CTL_ADD = 1, EPOLL_CTL_DEL = 2, EPOLL_CTL_MOD = 3;
    public const int EPOLL_CLOEXEC = 0x80000;
    public const int SIGTERM = 15, SIGKILL = 9;
    private const int _SC_CLK_TCK = 2;

    /// <summary>struct epoll_event is packed (12 bytes) on x86-64 and naturally aligned (16) elsewhere.</summary>
    public static readonly int EpollEventSize = RuntimeInformation.ProcessArchitecture == Architecture.X64 ? 12 : 16;
    private static readonly int EpollDataOffset = RuntimeInformation.ProcessArchitecture == Architecture.X64 ? 4 : 8;

    [DllImport("libc", SetLastError = true)] private static extern int epoll_create1(int flags);
    [DllImport("libc", SetLastError = true)] private static extern int epoll_ctl(int epfd, int op, int fd, byte* ev);
    [DllImport("libc", SetLastError = true)] private static extern int epoll_wait(int epfd, byte* events, int maxevents, int timeout);
    [DllImport("libc", SetLastError = true)] private static extern nint read(int fd, byte* buf, nint count);
    [DllImport("libc", SetLastError = true)] private static extern nint write(int fd, byte* buf, nint count);
    [DllImport("libc", SetLastError = true)] private static extern int close(int fd);
    [DllImport("libc", SetLastError = true)] private static extern int kill(int pid, int sig);
    [DllImport("libc")] private static extern long sysconf(int name);

    public static int Errno => Marshal.GetLastPInvokeError();

    public static long ClockTicksPerSecond { get; } = sysconf(_SC_CLK_TCK) is > 0 and var t ? t : 100;

    public static int EpollCreate()
    {
        int fd = epoll_create1(EPOLL_CLOEXEC);
        if (fd < 0) throw new IOException($"epoll_create1: errno {Errno}");
        return fd;
    }

    public static void EpollCtl(int epfd, int op, int fd, uint events, ulong data)
    {
        byte* ev = stackalloc byte[16];
        *(uint*)ev = events;
        *(ulong*)(ev + EpollDataOffset) = data;
        if (epoll_ctl(epfd, op, fd, ev) < 0) throw new IOException($"epoll_ctl({op}, fd {fd}): errno {Errno}");
    }

    /// <summary>Waits for events into <paramref name="events"/> (a buffer of EpollEventSize-byte records).</summary>
    public static int EpollWait(int epfd, byte[] events, int timeoutMs)
    {
        fixed (byte* p = events)
        {
            while (true)
            {
                int n = epoll_wait(epfd, p, events.Length / EpollEventSize, timeoutMs);
                if (n >= 0) return n;
                int e = Errno;
                if (e != EINTR) throw new IOException($"epoll_wait: errno {e}");
            }
        }
    }

    public static uint EventMask(byte[] events, int i) => BitConverterLE.UInt32(events, i * EpollEventSize);
    public static ulong EventData(byte[] events, int i) => BitConverterLE.UInt64(events, i * EpollEventSize + EpollDataOffset);

    /// <summary>read(2): bytes read, 0 at end of stream, -1 when it would block; throws on other errors.</summary>
    public static int Read(int fd, Span<byte> buffer)
    {
        fixed (byte* p = buffer)
        {
            while (true)
            {
                nint n = read(fd, p, buffer.Length);
                if (n >= 0) return (int)n;
                int e = Errno;
                if (e == EAGAIN) return -1;
                if (e != EINTR) throw new IOException($"read: errno {e}");
            }
        }
    }

    /// <summary>write(2): bytes written, -1 when it would block; throws on other errors.</summary>
    public static int Write(int fd, ReadOnlySpan<byte> buffer)
    {
        fixed (byte* p = buffer)
        {
            while (true)
            {
                nint n = write(fd, p, buffer.Length);
                if (n >= 0) return (int)n;
                int e = Errno;
                if (e == EAGAIN) return -1;
                if (e != EINTR) throw new IOException($"write: errno {e}");
            }
        }
    }

    public static void Close(int fd) => close(fd);

    /// <summary>kill(2); false when the process does not exist (any more).</summary>
    public static bool Kill(int pid, int signal) => kill(pid, signal) == 0;

    private static class BitConverterLE
    {
        public static uint UInt32(byte[] b, int at) => System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(at));
        public static ulong UInt64(byte[] b, int at) => System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(b.AsSpan(at));
    }
}
