using System.Collections.Concurrent;
using System.Runtime.InteropServices;

namespace VirtNetworkd.NetworkDriver.Backend.Linux;

/// <summary>
/// Runs work inside another network namespace: one thread that entered it (setns) runs what it is
/// given, one thing at a time. Netlink sockets made there and /proc/sys/net opened there belong to
/// that namespace; the rest of the process stays where it is. The daemon itself does not need it
/// (it runs in its namespace); the kernel tests do.
/// </summary>
public sealed class NamespaceThread : IDisposable
{
    private readonly BlockingCollection<Action> _work = new();
    private readonly Thread _thread;

    public NamespaceThread(string namespacePath)
    {
        var entered = new TaskCompletionSource();
        _thread = new Thread(() =>
        {
            int fd = Native.Open(namespacePath, 0x80000 /* O_RDONLY|O_CLOEXEC */);
            if (fd < 0 || Native.Setns(fd, 0x40000000 /* CLONE_NEWNET */) != 0)
            {
                entered.SetException(new IOException($"cannot enter network namespace {namespacePath}: errno {Marshal.GetLastPInvokeError()}"));
                if (fd >= 0) Native.Close(fd);
                return;
            }
            Native.Close(fd);
            entered.SetResult();
            foreach (var work in _work.GetConsumingEnumerable()) work();
        }) { IsBackground = true, Name = "netns" };
        _thread.Start();
        entered.Task.GetAwaiter().GetResult();
    }

    public T Run<T>(Func<T> work)
    {
        T result = default!;
        Exception? failure = null;
        using var done = new ManualResetEventSlim();
        _work.Add(() =>
        {
            try { result = work(); }
#pragma warning disable CA1031 // handed back to the caller
            catch (Exception e) { failure = e; }
#pragma warning restore CA1031
            finally { done.Set(); }
        });
        done.Wait();
        if (failure is not null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(failure).Throw();
        return result;
    }

    public void Run(Action work) => Run(() => { work(); return 0; });

    public void Dispose()
    {
        _work.CompleteAdding();
        _thread.Join();
        _work.Dispose();
    }

    private static class Native
    {
        [DllImport("libc", EntryPoint = "open", SetLastError = true)]
        public static extern int Open([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags);

        [DllImport("libc", EntryPoint = "setns", SetLastError = true)]
        public static extern int Setns(int fd, int nstype);

        [DllImport("libc", EntryPoint = "close", SetLastError = true)]
        public static extern int Close(int fd);
    }
}
