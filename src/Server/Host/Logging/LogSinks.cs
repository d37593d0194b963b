using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;

namespace VirtNetworkd.Server.Host.Logging;

/// <summary>One message on its way to the outputs.</summary>
internal readonly record struct LogEvent(
    LogPriority Priority,
    string Category,
    string? Function,
    string? File,
    int Line,
    string Message,
    string Timestamp,
    string Body);

/// <summary>An opened output. Writes happen under <see cref="Log"/>'s lock, one at a time.</summary>
internal abstract class LogSink : IDisposable
{
    protected LogSink(LogOutput spec) => Spec = spec;

    public LogOutput Spec { get; }

    public LogPriority Priority => Spec.Priority;

    /// <summary>Whether the version and hostname lines were written yet.</summary>
    public bool Introduced { get; set; }

    public abstract void Write(in LogEvent e);

    public virtual void Dispose()
    {
    }

    public static LogSink Open(LogOutput spec, string journalSocket, string syslogSocket) => spec.Destination switch
    {
        LogDestination.Stderr => new FdSink(spec, 2, ownsFd: false),
        LogDestination.File => FdSink.OpenFile(spec),
        LogDestination.Journald => System.IO.File.Exists(journalSocket)
            ? new JournaldSink(spec, journalSocket)
            : new FdSink(spec, 2, ownsFd: false), // no journal here: stderr, silently
        LogDestination.Syslog => new SyslogSink(spec, syslogSocket),
        _ => throw new ArgumentOutOfRangeException(nameof(spec)),
    };

    protected static byte[] Utf8(string s) => Encoding.UTF8.GetBytes(s);
}

/// <summary>stderr, or a log file opened with O_APPEND: "timestamp: body".</summary>
internal sealed class FdSink : LogSink
{
    private readonly int _fd;
    private readonly bool _ownsFd;

    public FdSink(LogOutput spec, int fd, bool ownsFd) : base(spec)
    {
        _fd = fd;
        _ownsFd = ownsFd;
    }

    public static FdSink OpenFile(LogOutput spec)
    {
        string path = spec.Name!;
        if (spec.CreateDirectory && Path.GetDirectoryName(path) is { Length: > 0 } dir && !Directory.Exists(dir))
        {
            try
            {
                Directory.CreateDirectory(dir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new LogConfigException($"Could not create log directory: {e.Message}");
            }
        }
        int fd = LibC.Open(path, LibC.O_WRONLY | LibC.O_CREAT | LibC.O_APPEND | LibC.O_CLOEXEC, 0x180 /* 0600 */);
        if (fd < 0)
            throw new LogConfigException($"failed to open {path}: {LibC.StrError(Marshal.GetLastPInvokeError())}");
        return new FdSink(spec, fd, ownsFd: true);
    }

    public override void Write(in LogEvent e)
    {
        int len = Encoding.UTF8.GetMaxByteCount(e.Timestamp.Length + 2 + e.Body.Length);
        byte[] buf = ArrayPool<byte>.Shared.Rent(len);
        try
        {
            int n = Encoding.UTF8.GetBytes(e.Timestamp, buf);
            buf[n++] = (byte)':';
            buf[n++] = (byte)' ';
            n += Encoding.UTF8.GetBytes(e.Body, buf.AsSpan(n));
            LibC.WriteAll(_fd, buf.AsSpan(0, n)); // like libvirt, a failed log write is ignored
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buf);
        }
    }

    public override void Dispose()
    {
        if (_ownsFd)
            LibC.Close(_fd);
    }
}

/// <summary>
/// systemd-journald's native protocol: one datagram of <c>FIELD=value\n</c> lines (a value
/// containing a newline is sent as <c>FIELD\n</c>, its length as 64-bit little-endian, the
/// bytes, <c>\n</c>). Fields as libvirt sends them. A message the socket refuses is dropped.
/// </summary>
internal sealed class JournaldSink : LogSink
{
    private readonly Socket _socket;
    private readonly UnixDomainSocketEndPoint _endPoint;

    public JournaldSink(LogOutput spec, string path) : base(spec)
    {
        _socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        _endPoint = new UnixDomainSocketEndPoint(path);
    }

    public override void Write(in LogEvent e)
    {
        var w = new ArrayBufferWriter<byte>(256 + e.Message.Length);
        Add(w, "MESSAGE", e.Message);
        Add(w, "PRIORITY", SyslogSeverity(e.Priority).ToString(CultureInfo.InvariantCulture));
        Add(w, "SYSLOG_FACILITY", "3");
        Add(w, "LIBVIRT_SOURCE", e.Category);
        if (!string.IsNullOrEmpty(e.File))
            Add(w, "CODE_FILE", e.File);
        Add(w, "CODE_LINE", e.Line.ToString(CultureInfo.InvariantCulture));
        if (!string.IsNullOrEmpty(e.Function))
            Add(w, "CODE_FUNC", e.Function);
        try
        {
            _socket.SendTo(w.WrittenSpan, SocketFlags.None, _endPoint);
        }
        catch (SocketException)
        {
            // journald gone or message too large: dropped, as libvirt does when it cannot send
        }
    }

    internal static void Add(ArrayBufferWriter<byte> w, string field, string value)
    {
        Encoding.ASCII.GetBytes(field, w);
        if (value.Contains('\n'))
        {
            w.Write("\n"u8);
            Span<byte> len = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(len, (ulong)Encoding.UTF8.GetByteCount(value));
            w.Write(len);
        }
        else
        {
            w.Write("="u8);
        }
        Encoding.UTF8.GetBytes(value, w);
        w.Write("\n"u8);
    }

    public static int SyslogSeverity(LogPriority p) => p switch
    {
        LogPriority.Debug => 7,
        LogPriority.Info => 6,
        LogPriority.Warning => 4,
        _ => 3,
    };

    public override void Dispose() => _socket.Dispose();
}

/// <summary>
/// syslog(3) as glibc sends it to /dev/log: <c>&lt;PRI&gt;Mmm dd hh:mm:ss IDENT: body</c>, facility
/// daemon, no pid (libvirt opens syslog with no options).
/// </summary>
internal sealed class SyslogSink : LogSink
{
    private const int FacilityDaemon = 3 << 3;
    private static readonly string[] Months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    private readonly Socket _socket;
    private readonly UnixDomainSocketEndPoint _endPoint;

    public SyslogSink(LogOutput spec, string path) : base(spec)
    {
        _socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        _endPoint = new UnixDomainSocketEndPoint(path);
    }

    public override void Write(in LogEvent e)
    {
        var now = DateTime.Now;
        string line = string.Create(CultureInfo.InvariantCulture,
            $"<{FacilityDaemon | JournaldSink.SyslogSeverity(e.Priority)}>{Months[now.Month - 1]} {now.Day,2} {now:HH:mm:ss} {Spec.Name}: {e.Body.TrimEnd('\n')}");
        try
        {
            _socket.SendTo(Utf8(line), SocketFlags.None, _endPoint);
        }
        catch (SocketException)
        {
            // no syslog daemon: dropped
        }
    }

    public override void Dispose() => _socket.Dispose();
}
