using System.Runtime.InteropServices;

namespace VirtNetworkd.Server.Tests.Host;

/// <summary>libc calls the tests need to move file descriptors around.</summary>
internal static partial class NativeTestHelpers
{
    [LibraryImport("libc", EntryPoint = "dup", SetLastError = true)]
    public static partial int Dup(int fd);

    [LibraryImport("libc", EntryPoint = "dup2", SetLastError = true)]
    public static partial int Dup2(int oldFd, int newFd);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    public static partial int Close(int fd);

    [LibraryImport("libc", EntryPoint = "fcntl", SetLastError = true)]
    public static partial int Fcntl(int fd, int cmd, int arg);

    [LibraryImport("libc", EntryPoint = "pipe", SetLastError = true)]
    public static unsafe partial int Pipe(int* fds);

    public static bool IsOpen(int fd) => Fcntl(fd, 1 /* F_GETFD */, 0) >= 0;

    public static bool IsCloseOnExec(int fd) => (Fcntl(fd, 1 /* F_GETFD */, 0) & 1) != 0;

    /// <summary>Runs <paramref name="action"/> with fd 2 sent to a file; returns what was written.</summary>
    public static string CaptureStderr(Action action)
    {
        string path = Path.GetTempFileName();
        try
        {
            int saved = Dup(2);
            using (var f = new FileStream(path, FileMode.Create, FileAccess.Write))
            {
                Dup2((int)f.SafeFileHandle.DangerousGetHandle(), 2);
                try
                {
                    action();
                }
                finally
                {
                    Dup2(saved, 2);
                    Close(saved);
                }
            }
            return File.ReadAllText(path);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
