using System.Runtime.InteropServices;

namespace VirtNetworkd.NetworkDriver.Backend.Dnsmasq;

/// <summary>
/// Waiting for a process that is not our child (dnsmasq daemonizes; its parent is init): a
/// pidfd (Linux 5.3) becomes readable when the process exits, so neither polling in steps (as
/// libvirt's virProcessKillPainfully does every 200 ms) nor waitpid is needed.
/// </summary>
public static unsafe class ProcessExit
{
    /// <summary>A pidfd for <paramref name="pid"/>, or -1 when the process is gone.</summary>
    public static int Open(int pid)
    {
        long fd = Native.Syscall(Native.SysPidfdOpen, pid, 0);
        return fd < 0 ? -1 : (int)fd;
    }

    /// <summary>Waits until <paramref name="pid"/> has exited or <paramref name="timeout"/> passed; true when it is gone.</summary>
    public static bool Wait(int pid, TimeSpan timeout)
    {
        int fd = Open(pid);
        if (fd < 0) return true;
        try
        {
            return WaitFd(fd, -1, (int)timeout.TotalMilliseconds) == fd;
        }
        finally
        {
            _ = Native.Close(fd);
        }
    }

    /// <summary>Whether a process with this pid exists (kill 0).</summary>
    public static bool Alive(int pid) => pid > 0 && (Native.Kill(pid, 0) == 0 || Marshal.GetLastPInvokeError() == Native.Eperm);

    /// <summary>Sends <paramref name="signal"/>; false when the process is gone.</summary>
    public static bool Signal(int pid, int signal) => pid > 0 && Native.Kill(pid, signal) == 0;

    public const int SigHup = 1, SigKill = 9, SigTerm = 15;

    /// <summary>poll() on one or two descriptors: the first readable one, or -1 on timeout.</summary>
    internal static int WaitFd(int fd1, int fd2, int timeoutMs)
    {
        Native.PollFd* fds = stackalloc Native.PollFd[2];
        fds[0] = new Native.PollFd { Fd = fd1, Events = Native.PollIn };
        fds[1] = new Native.PollFd { Fd = fd2, Events = Native.PollIn };
        int n = fd2 >= 0 ? 2 : 1;
        long deadline = Environment.TickCount64 + timeoutMs;
        while (true)
        {
            int left = timeoutMs < 0 ? -1 : (int)Math.Max(0, deadline - Environment.TickCount64);
            int r = Native.Poll(fds, (nuint)n, left);
            if (r > 0)
            {
                if (fds[0].REvents != 0) return fd1;
                if (n == 2 && fds[1].REvents != 0) return fd2;
            }
            if (r == 0) return -1;
            if (r < 0 && Marshal.GetLastPInvokeError() != Native.Eintr) return -1;
        }
    }

    internal static class Native
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
    }
}

/// <summary>
/// Calls <c>onExit</c> once, on a thread of its own, when a process exits, unless disposed
/// first. Disposing never waits for that thread (the callback may be waiting for a lock the
/// disposer holds); the thread closes its descriptors itself.
/// </summary>
public sealed unsafe class ExitWatch : IDisposable
{
    private readonly int _pidFd;
    private readonly int _cancelFd;
    private readonly Lock _gate = new();
    private volatile bool _cancelled;
    private bool _closed;

    /// <summary>Watches <paramref name="pid"/>; when it is already gone, <paramref name="onExit"/> runs at once on the watch thread.</summary>
    public ExitWatch(int pid, Action onExit)
    {
        ArgumentNullException.ThrowIfNull(onExit);
        Pid = pid;
        _pidFd = ProcessExit.Open(pid);
        _cancelFd = ProcessExit.Native.EventFd(0, ProcessExit.Native.EfdCloexec);
        var thread = new Thread(() => Run(onExit)) { IsBackground = true, Name = $"exit watch {pid}" };
        thread.Start();
    }

    public int Pid { get; }

    private void Run(Action onExit)
    {
        try
        {
            bool exited = _pidFd < 0 || ProcessExit.WaitFd(_pidFd, _cancelFd, -1) == _pidFd;
            if (exited && !_cancelled) onExit();
        }
        finally
        {
            lock (_gate)
            {
                _closed = true;
                if (_pidFd >= 0) _ = ProcessExit.Native.Close(_pidFd);
                if (_cancelFd >= 0) _ = ProcessExit.Native.Close(_cancelFd);
            }
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            if (_cancelled) return;
            _cancelled = true;
            ulong one = 1;
            if (!_closed && _cancelFd >= 0) _ = ProcessExit.Native.Write(_cancelFd, &one, sizeof(ulong));
        }
    }
}
