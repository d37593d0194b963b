using System.Runtime.InteropServices;
using System.Text;

namespace VirtNetworkd.NetworkDriver.Driver;

/// <summary>Crash-safe file replacement: temp file in the same directory, fsync, rename, fsync directory.</summary>
public static class AtomicFile
{
    /// <summary>Prefix of the temporary files; loaders skip names starting with it.</summary>
    public const string TempPrefix = ".tmp-";

    /// <summary>Whether <paramref name="fileName"/> is one of our temporary files:
    /// <c>.tmp-FILE.&lt;32 hex digits&gt;</c>, nothing else.</summary>
    public static bool IsTempName(string fileName)
    {
        if (!fileName.StartsWith(TempPrefix, StringComparison.Ordinal)) return false;
        int dot = fileName.LastIndexOf('.');
        if (dot <= TempPrefix.Length || fileName.Length - dot - 1 != 32) return false;
        foreach (char c in fileName.AsSpan(dot + 1))
            if (!char.IsAsciiHexDigitLower(c) && !char.IsAsciiDigit(c)) return false;
        return true;
    }

    /// <summary>Removes the temporary files that a write interrupted by a crash left in
    /// <paramref name="dir"/> (our own names only, regular files only); returns how many.</summary>
    public static int RemoveStaleTemps(string dir)
    {
        if (!Directory.Exists(dir)) return 0;
        int removed = 0;
        foreach (string path in Directory.EnumerateFiles(dir, TempPrefix + "*"))
        {
            if (!IsTempName(Path.GetFileName(path))) continue;
            var info = new FileInfo(path);
            if (info.LinkTarget is not null) continue;
            try
            {
                File.Delete(path);
                removed++;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
            }
        }
        if (removed > 0) SyncDirectory(dir);
        return removed;
    }

    public static void Write(string path, string content) =>
        Write(path, content, UnixFileMode.UserRead | UnixFileMode.UserWrite);

    /// <summary>As <see cref="Write(string, string)"/>, the file getting <paramref name="mode"/> (files others read, such as the leases status file, are 0644).</summary>
    public static void Write(string path, string content, UnixFileMode mode) => Write(path, content, mode, durable: true);

    /// <summary>
    /// Replaces the file atomically (temp file, rename) without waiting for the disk: for files
    /// made again at every use, whose loss in a crash costs nothing (dnsmasq's configuration and
    /// hosts files, which libvirt writes without fsync too). A reader sees the old or the new
    /// text, never part of it.
    /// </summary>
    public static void Replace(string path, string content, UnixFileMode mode) => Write(path, content, mode, durable: false);

    private static void Write(string path, string content, UnixFileMode mode, bool durable)
    {
        string dir = Path.GetDirectoryName(Path.GetFullPath(path))!;
        Directory.CreateDirectory(dir);
        string tmp = Path.Combine(dir, TempPrefix + Path.GetFileName(path) + "." + Guid.NewGuid().ToString("N"));
        try
        {
            using (var fs = new FileStream(tmp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                byte[] bytes = new UTF8Encoding(false).GetBytes(content);
                fs.Write(bytes);
                fs.Flush(flushToDisk: durable);
            }
            if (!OperatingSystem.IsWindows())
                File.SetUnixFileMode(tmp, mode);
            File.Move(tmp, path, overwrite: true);
        }
        catch
        {
            try { File.Delete(tmp); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            throw;
        }
        if (durable) SyncDirectory(dir);
    }

    /// <summary>Deletes a file (or symlink) if present and syncs its directory.</summary>
    public static bool Delete(string path)
    {
        var info = new FileInfo(path);
        if (!info.Exists && info.LinkTarget is null) return false;
        File.Delete(path);
        SyncDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        return true;
    }

    /// <summary>fsync on the directory itself, so that a rename or unlink in it is durable (Linux only; best effort).</summary>
    public static void SyncDirectory(string dir)
    {
        if (!OperatingSystem.IsLinux()) return;
        int fd = Native.Open(dir, Native.O_RDONLY | Native.O_CLOEXEC);
        if (fd < 0) return;
        _ = Native.Fsync(fd);
        _ = Native.Close(fd);
    }

    private static class Native
    {
        public const int O_RDONLY = 0, O_CLOEXEC = 0x80000; // same on x86-64 and arm64

        [DllImport("libc", EntryPoint = "open", SetLastError = true)]
        public static extern int Open([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags);

        [DllImport("libc", EntryPoint = "fsync", SetLastError = true)]
        public static extern int Fsync(int fd);

        [DllImport("libc", EntryPoint = "close", SetLastError = true)]
        public static extern int Close(int fd);
    }
}
