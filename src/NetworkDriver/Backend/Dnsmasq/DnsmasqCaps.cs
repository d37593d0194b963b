using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using VirtNetworkd.Errors;

namespace VirtNetworkd.NetworkDriver.Backend.Dnsmasq;

/// <summary>
/// libvirt's dnsmasqCaps (virdnsmasq.c): the dnsmasq binary and its version, from
/// "dnsmasq --version". Since libvirt 8.x no --help feature decides anything (every dnsmasq
/// from 2.67 has them), so the version and its minimum are all that is kept, as in 10.8.
/// </summary>
public sealed record DnsmasqCaps(string BinaryPath, ulong Version)
{
    public const string Binary = "dnsmasq";
    public const int MinMajor = 2;
    public const int MinMinor = 67;
    private const string VersionPrefix = "Dnsmasq version ";

    /// <summary>The version as "major.minor".</summary>
    public string VersionText => string.Create(CultureInfo.InvariantCulture, $"{Version / 1000000}.{Version % 1000000 / 1000}");

    /// <summary>dnsmasqCapsSetFromBuffer: the capabilities from --version's output, with libvirt's errors.</summary>
    public static DnsmasqCaps FromVersionOutput(string binaryPath, string output)
    {
        ArgumentNullException.ThrowIfNull(binaryPath);
        ArgumentNullException.ThrowIfNull(output);
        if (output.StartsWith(VersionPrefix, StringComparison.Ordinal))
        {
            int p = VersionPrefix.Length;
            while (p < output.Length && !char.IsAsciiDigit(output[p])) p++; // virSkipToDigit
            if (ParseVersion(output.AsSpan(p)) is { } version)
            {
                if (version < MinMajor * 1000000UL + MinMinor * 1000UL)
                    throw new LibvirtError(VirErrorCode.ConfigUnsupported, VirErrorDomain.Network, string.Create(CultureInfo.InvariantCulture,
                        $"dnsmasq version >= {MinMajor}.{MinMinor} required but {version / 1000000}.{version % 1000000 / 1000} found"));
                return new DnsmasqCaps(binaryPath, version);
            }
        }
        int nl = output.IndexOf('\n', StringComparison.Ordinal);
        string firstLine = nl < 0 ? output : output[..nl];
        throw new LibvirtError(VirErrorCode.InternalError, VirErrorDomain.Network,
            $"cannot parse {binaryPath} version number in '{firstLine}'");
    }

    /// <summary>virStringParseVersion with allowMissing: "major[.minor[.micro]]" and any suffix.</summary>
    private static ulong? ParseVersion(ReadOnlySpan<char> s)
    {
        int pos = 0;
        if (Number(s, ref pos) is not { } major) return null;
        ulong minor = 0, micro = 0;
        if (pos < s.Length && s[pos] == '.')
        {
            pos++;
            if (Number(s, ref pos) is not { } m) return null;
            minor = m;
            if (pos < s.Length && s[pos] == '.')
            {
                pos++;
                if (Number(s, ref pos) is not { } u) return null;
                micro = u;
            }
        }
        if (major > uint.MaxValue / 1000000 || minor > 999 || micro > 999) return null;
        return 1000000 * major + 1000 * minor + micro;
    }

    private static ulong? Number(ReadOnlySpan<char> s, ref int pos)
    {
        int start = pos;
        ulong v = 0;
        while (pos < s.Length && char.IsAsciiDigit(s[pos]))
        {
            v = v * 10 + (ulong)(s[pos] - '0');
            if (v > uint.MaxValue) return null;
            pos++;
        }
        return pos == start ? null : v;
    }
}

/// <summary>
/// Probes dnsmasq once per binary: the path found in PATH (or given), and again only when that
/// file changes (another size or modification time), where libvirt runs --version before
/// every start.
/// </summary>
public sealed class DnsmasqCapsProbe(Func<string, string>? runVersion = null)
{
    private readonly ConcurrentDictionary<string, (FileStamp Stamp, DnsmasqCaps Caps)> _cache = new(StringComparer.Ordinal);
    private readonly Func<string, string> _runVersion = runVersion ?? RunVersion;

    /// <summary>How many times --version was run (for tests).</summary>
    public int Probes => _probes;
    private int _probes;

    /// <summary>The capabilities of <paramref name="binary"/> (a path, or a name looked up in PATH; default "dnsmasq").</summary>
    public DnsmasqCaps Get(string? binary = null)
    {
        string path = Resolve(binary ?? DnsmasqCaps.Binary);
        FileStamp stamp = FileStamp.Of(path);
        if (_cache.TryGetValue(path, out var hit) && hit.Stamp == stamp) return hit.Caps;
        Interlocked.Increment(ref _probes);
        DnsmasqCaps caps = DnsmasqCaps.FromVersionOutput(path, _runVersion(path));
        _cache[path] = (stamp, caps);
        return caps;
    }

    private static string Resolve(string binary)
    {
        if (binary.Contains('/', StringComparison.Ordinal)) return binary;
        foreach (string dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            string p = Path.Combine(dir, binary);
            if (File.Exists(p)) return p;
        }
        throw new LibvirtError(VirErrorCode.SystemError, VirErrorDomain.Network,
            "Unable to find 'dnsmasq' binary in $PATH: No such file or directory");
    }

    private static string RunVersion(string path)
    {
        var psi = new ProcessStartInfo(path, "--version") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        using Process p = Process.Start(psi) ?? throw new LibvirtError(VirErrorCode.InternalError, VirErrorDomain.Network, $"Cannot run {path}");
        Task<string> err = p.StandardError.ReadToEndAsync();
        string output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0)
            throw new LibvirtError(VirErrorCode.InternalError, VirErrorDomain.None,
                $"Child process ({path} --version) unexpected exit status {p.ExitCode}: {err.Result.TrimEnd('\n')}");
        return output;
    }

    private readonly record struct FileStamp(long Length, DateTime Modified)
    {
        public static FileStamp Of(string path)
        {
            var fi = new FileInfo(path);
            return fi.Exists ? new FileStamp(fi.Length, fi.LastWriteTimeUtc) : default;
        }
    }
}
