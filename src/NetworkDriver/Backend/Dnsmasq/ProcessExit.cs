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
        long fd = PosixIo.Syscall(PosixIo.SysPidfdOpen, pid, 0);
        return fd < 0 ? -1 : (int)fd;
    }

    /// <summary>Waits until <paramref name="pid"/> has exited or <paramref name="timeout"/> passed; true when it is gone.</summary>
    public static bool Wait(int pid, TimeSpan timeout)
    {
        int fd = Open(pid);
        if (fd < 0) return true;
        try
        {
            return PosixIo.WaitFd(fd, -1, (int)timeout.TotalMilliseconds) == fd;
        }
        finally
        {
            _ = PosixIo.Close(fd);
        }
    }

    /// <summary>Whether a process with this pid exists (kill 0).</summary>
    public static bool Alive(int pid) => pid > 0 && (PosixIo.Kill(pid, 0) == 0 || Marshal.GetLastPInvokeError() == PosixIo.Eperm);

    /// <summary>Sends <paramref name="signal"/>; false when the process is gone.</summary>
    public static bool Signal(int pid, int signal) => pid > 0 && PosixIo.Kill(pid, signal) == 0;

    public const int SigHup = 1, SigKill = 9, SigTerm = 15;

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
        _cancelFd = PosixIo.EventFd(0, PosixIo.EfdCloexec);
        var thread = new Thread(() => Run(onExit)) { IsBackground = true, Name = $"exit watch {pid}" };
        thread.Start();
    }

    public int Pid { get; }

    private void Run(Action onExit)
    {
        try
        {
            bool exited = _pidFd < 0 || PosixIo.WaitFd(_pidFd, _cancelFd, -1) == _pidFd;
            if (exited && !_cancelled) onExit();
        }
        finally
        {
            lock (_gate)
            {
                _closed = true;
                if (_pidFd >= 0) _ = PosixIo.Close(_pidFd);
                if (_cancelFd >= 0) _ = PosixIo.Close(_cancelFd);
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
            if (!_closed && _cancelFd >= 0) _ = PosixIo.Write(_cancelFd, &one, sizeof(ulong));
        }
    }
}
