using System.Runtime.InteropServices;

namespace VirtNetworkd.NetworkDriver.Backend;

/// <summary>The libc calls of descriptor waiting (pidfds, eventfds, netlink sockets) and a poll() on one or two of them.</summary>
internal static unsafe class PosixIo
{
    public const long SysPidfdOpen = 434; // the same on x86-64 and arm64
    public const short PollIn = 1;
    public const int Eintr = 4, Eperm = 1;
    public const int EfdCloexec = 0x80000;

    [StructLayout(LayoutKind.Sequential)]
    public struct PollFd
    {
        public int Fd;
        public short Events;
        public short REvents;
    }

    [DllImport("libc", EntryPoint = "syscall", SetLastError = true)]
    public static extern long Syscall(long number, long a1, long a2);

    [DllImport("libc", EntryPoint = "poll", SetLastError = true)]
    public static extern int Poll(PollFd* fds, nuint nfds, int timeout);

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    public static extern int Kill(int pid, int signal);

    [DllImport("libc", EntryPoint = "eventfd", SetLastError = true)]
    public static extern int EventFd(uint initval, int flags);

    [DllImport("libc", EntryPoint = "write", SetLastError = true)]
    public static extern nint Write(int fd, void* buffer, nint count);

    [DllImport("libc", EntryPoint = "close", SetLastError = true)]
    public static extern int Close(int fd);

    /// <summary>poll() on one or two descriptors: the first readable one, or -1 on timeout.</summary>
    internal static int WaitFd(int fd1, int fd2, int timeoutMs)
    {
        PollFd* fds = stackalloc PollFd[2];
        fds[0] = new PollFd { Fd = fd1, Events = PollIn };
        fds[1] = new PollFd { Fd = fd2, Events = PollIn };
        int n = fd2 >= 0 ? 2 : 1;
        long deadline = Environment.TickCount64 + timeoutMs;
        while (true)
        {
            int left = timeoutMs < 0 ? -1 : (int)Math.Max(0, deadline - Environment.TickCount64);
            int r = Poll(fds, (nuint)n, left);
            if (r > 0)
            {
                if (fds[0].REvents != 0) return fd1;
                if (n == 2 && fds[1].REvents != 0) return fd2;
            }
            if (r == 0) return -1;
            if (r < 0 && Marshal.GetLastPInvokeError() != Eintr) return -1;
        }
    }
}
