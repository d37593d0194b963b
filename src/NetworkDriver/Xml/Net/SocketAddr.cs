using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using VirtNetworkd.Errors;

namespace VirtNetworkd.NetworkDriver.Xml.Net;

/// <summary>
/// An IPv4 or IPv6 address as libvirt's virSocketAddr holds it in the network model; the default
/// value is "unset" (AF_UNSPEC). Parsing follows getaddrinfo(AI_NUMERICHOST) (so "10.1" and
/// "0x7f.1" are IPv4 addresses, as they are for libvirt) and formatting follows
/// getnameinfo(NI_NUMERICHOST). Equality compares family and address bytes only, as
/// virSocketAddrEqual does (the IPv6 scope is not compared).
/// </summary>
public readonly struct SocketAddr : IEquatable<SocketAddr>
{
    private readonly byte[]? _bytes; // 4 or 16 bytes, network order; null = unset

    private SocketAddr(byte[] bytes, uint scopeId)
    {
        _bytes = bytes;
        ScopeId = scopeId;
    }

    /// <summary>The unset address (AF_UNSPEC).</summary>
    public static SocketAddr None => default;

    public AddressFamily Family => _bytes is null ? AddressFamily.Unspecified
        : _bytes.Length == 4 ? AddressFamily.InterNetwork : AddressFamily.InterNetworkV6;

    /// <summary>VIR_SOCKET_ADDR_VALID: the address is set.</summary>
    public bool IsValid => _bytes is not null;
    public bool IsIPv4 => _bytes is { Length: 4 };
    public bool IsIPv6 => _bytes is { Length: 16 };

    /// <summary>IPv6 scope id (numeric), 0 when none.</summary>
    public uint ScopeId { get; }

    /// <summary>The address bytes in network order (a copy); empty when unset.</summary>
    public byte[] GetAddressBytes() => _bytes is null ? [] : (byte[])_bytes.Clone();

    internal ReadOnlySpan<byte> Bytes => _bytes;

    public static SocketAddr FromBytes(ReadOnlySpan<byte> bytes, uint scopeId = 0)
    {
        if (bytes.Length != 4 && bytes.Length != 16)
            throw new ArgumentException("an address has 4 or 16 bytes", nameof(bytes));
        return new SocketAddr(bytes.ToArray(), bytes.Length == 16 ? scopeId : 0);
    }

    public static SocketAddr FromIPAddress(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (address.AddressFamily == AddressFamily.InterNetworkV6)
            return new SocketAddr(address.GetAddressBytes(), (uint)address.ScopeId);
        if (address.AddressFamily == AddressFamily.InterNetwork)
            return new SocketAddr(address.GetAddressBytes(), 0);
        throw new ArgumentException("only IPv4 and IPv6 addresses", nameof(address));
    }

    /// <summary>An IPv4 address from its host-order 32-bit value.</summary>
    public static SocketAddr FromIPv4(uint hostOrder)
    {
        var b = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(b, hostOrder);
        return new SocketAddr(b, 0);
    }

    public IPAddress? ToIPAddress() => _bytes is null ? null
        : _bytes.Length == 16 ? new IPAddress(_bytes, ScopeId) : new IPAddress(_bytes);

    /// <summary>The IPv4 address as a host-order integer.</summary>
    public uint ToIPv4UInt32()
    {
        if (!IsIPv4) throw new InvalidOperationException("not an IPv4 address");
        return BinaryPrimitives.ReadUInt32BigEndian(_bytes);
    }

    // ---------------------------------------------------------------- parsing

    /// <summary>
    /// virSocketAddrParse without the error report: getaddrinfo(val, AI_NUMERICHOST) semantics.
    /// <paramref name="family"/> Unspecified accepts both families.
    /// </summary>
    public static bool TryParse(string? text, AddressFamily family, out SocketAddr addr, out string gaiError)
    {
        addr = default;
        gaiError = "Name or service not known";
        if (text is null) return false;
        if (TryParseIPv4Aton(text, out uint v4))
        {
            if (family == AddressFamily.InterNetworkV6)
            {
                gaiError = "Address family for hostname not supported";
                return false;
            }
            addr = FromIPv4(v4);
            return true;
        }
        if (TryParseIPv6(text, out byte[]? v6, out uint scope))
        {
            if (family == AddressFamily.InterNetwork)
            {
                gaiError = "Address family for hostname not supported";
                return false;
            }
            addr = new SocketAddr(v6!, scope);
            return true;
        }
        return false;
    }

    public static bool TryParse(string? text, out SocketAddr addr) =>
        TryParse(text, AddressFamily.Unspecified, out addr, out _);

    /// <summary>
    /// virSocketAddrParse: throws libvirt's VIR_ERR_SYSTEM_ERROR
    /// "Cannot parse socket address '%s': %s" on failure.
    /// </summary>
    public static SocketAddr Parse(string? text, AddressFamily family = AddressFamily.Unspecified)
    {
        if (text is null)
            throw new LibvirtError(VirErrorCode.InvalidArg, VirErrorDomain.None, "Missing address");
        if (!TryParse(text, family, out SocketAddr a, out string gai))
            throw new LibvirtError(VirErrorCode.SystemError, VirErrorDomain.None,
                $"Cannot parse socket address '{text}': {gai}");
        return a;
    }

    private static bool IsAsciiDigit(char c) => c is >= '0' and <= '9';

    /// <summary>glibc inet_aton_exact: 1 to 4 parts, each strtoul(base 0), no trailing text.</summary>
    private static bool TryParseIPv4Aton(string s, out uint result)
    {
        result = 0;
        Span<byte> parts = stackalloc byte[4];
        int nparts = 0;
        int i = 0;
        ulong val;
        while (true)
        {
            if (i >= s.Length || !IsAsciiDigit(s[i])) return false;
            val = CNumber.StrToULL(s, i, 0, out int end, out _, out bool ovf);
            if (ovf || val > 0xffffffffUL) return false;
            if (end == i) return false;
            i = end;
            if (i < s.Length && s[i] == '.')
            {
                if (nparts > 2 || val > 0xff) return false;
                parts[nparts++] = (byte)val;
                i++;
            }
            else
            {
                break;
            }
        }
        if (i != s.Length) return false; // inet_aton_exact: nothing may follow
        uint max = nparts switch { 0 => 0xffffffffu, 1 => 0xffffffu, 2 => 0xffffu, _ => 0xffu };
        if (val > max) return false;
        uint r = (uint)val;
        for (int k = 0; k < nparts; k++) r |= (uint)parts[k] << (24 - 8 * k);
        result = r;
        return true;
    }

    private static int HexValue(char c) => c switch
    {
        >= '0' and <= '9' => c - '0',
        >= 'a' and <= 'f' => c - 'a' + 10,
        >= 'A' and <= 'F' => c - 'A' + 10,
        _ => -1,
    };

    /// <summary>glibc inet_pton4 (strict dotted quad, no leading zeros).</summary>
    private static bool TryParseIPv4Strict(ReadOnlySpan<char> s, Span<byte> dst)
    {
        int octets = 0;
        bool sawDigit = false;
        int cur = 0;
        foreach (char ch in s)
        {
            if (IsAsciiDigit(ch))
            {
                if (sawDigit && cur == 0) return false;
                int nv = cur * 10 + (ch - '0');
                if (nv > 255) return false;
                cur = nv;
                if (!sawDigit)
                {
                    if (++octets > 4) return false;
                    sawDigit = true;
                }
            }
            else if (ch == '.' && sawDigit)
            {
                if (octets == 4) return false;
                dst[octets - 1] = (byte)cur;
                cur = 0;
                sawDigit = false;
            }
            else
            {
                return false;
            }
        }
        if (octets < 4 || !sawDigit) return false;
        dst[3] = (byte)cur;
        return true;
    }

    /// <summary>glibc inet_pton6 plus a numeric "%scope" suffix.</summary>
    private static bool TryParseIPv6(string text, out byte[]? bytes, out uint scope)
    {
        bytes = null;
        scope = 0;
        ReadOnlySpan<char> s = text;
        int pct = text.IndexOf('%');
        if (pct >= 0)
        {
            ReadOnlySpan<char> sc = s[(pct + 1)..];
            s = s[..pct];
            if (sc.Length == 0 || !IsAsciiDigit(sc[0])) return false;
            ulong v = 0;
            foreach (char c in sc)
            {
                if (!IsAsciiDigit(c)) return false;
                v = v * 10 + (ulong)(c - '0');
                if (v > uint.MaxValue) return false;
            }
            scope = (uint)v;
        }

        var dst = new byte[16];
        int tp = 0;
        int colonp = -1;
        int i = 0;
        if (s.Length > 0 && s[0] == ':')
        {
            if (s.Length < 2 || s[1] != ':') return false;
            i = 1;
        }
        int curtok = i;
        bool sawXdigit = false;
        uint val = 0;
        int ndigits = 0;
        while (i < s.Length)
        {
            char ch = s[i++];
            int hv = HexValue(ch);
            if (hv >= 0)
            {
                if (ndigits == 4) return false;
                val = (val << 4) | (uint)hv;
                ndigits++;
                sawXdigit = true;
                continue;
            }
            if (ch == ':')
            {
                curtok = i;
                if (!sawXdigit)
                {
                    if (colonp >= 0) return false;
                    colonp = tp;
                    continue;
                }
                if (i >= s.Length) return false;
                if (tp + 2 > 16) return false;
                dst[tp++] = (byte)(val >> 8);
                dst[tp++] = (byte)val;
                sawXdigit = false;
                val = 0;
                ndigits = 0;
                continue;
            }
            if (ch == '.' && tp + 4 <= 16 && TryParseIPv4Strict(s[curtok..], dst.AsSpan(tp, 4)))
            {
                tp += 4;
                sawXdigit = false;
                break;
            }
            return false;
        }
        if (sawXdigit)
        {
            if (tp + 2 > 16) return false;
            dst[tp++] = (byte)(val >> 8);
            dst[tp++] = (byte)val;
        }
        if (colonp >= 0)
        {
            if (tp == 16) return false;
            int n = tp - colonp;
            for (int k = 1; k <= n; k++)
            {
                dst[16 - k] = dst[colonp + n - k];
                dst[colonp + n - k] = 0;
            }
            tp = 16;
        }
        if (tp != 16) return false;
        bytes = dst;
        return true;
    }

    // ---------------------------------------------------------------- formatting

    /// <summary>virSocketAddrFormat (getnameinfo NI_NUMERICHOST); null when unset.</summary>
    public string? Format()
    {
        if (_bytes is null) return null;
        if (_bytes.Length == 4)
            return string.Create(CultureInfo.InvariantCulture, $"{_bytes[0]}.{_bytes[1]}.{_bytes[2]}.{_bytes[3]}");
        string s = FormatIPv6(_bytes);
        return ScopeId != 0 ? s + "%" + ScopeId.ToString(CultureInfo.InvariantCulture) : s;
    }

    /// <summary>The libvirt text form, or "" when unset.</summary>
    public override string ToString() => Format() ?? "";

    /// <summary>glibc inet_ntop6.</summary>
    private static string FormatIPv6(byte[] b)
    {
        Span<int> words = stackalloc int[8];
        for (int k = 0; k < 8; k++) words[k] = (b[2 * k] << 8) | b[2 * k + 1];
        int bestBase = -1, bestLen = 0, curBase = -1, curLen = 0;
        for (int k = 0; k < 8; k++)
        {
            if (words[k] == 0)
            {
                if (curBase == -1) { curBase = k; curLen = 1; }
                else curLen++;
            }
            else if (curBase != -1)
            {
                if (bestBase == -1 || curLen > bestLen) { bestBase = curBase; bestLen = curLen; }
                curBase = -1;
            }
        }
        if (curBase != -1 && (bestBase == -1 || curLen > bestLen)) { bestBase = curBase; bestLen = curLen; }
        if (bestBase != -1 && bestLen < 2) bestBase = -1;

        var sb = new StringBuilder(46);
        for (int k = 0; k < 8; k++)
        {
            if (bestBase != -1 && k >= bestBase && k < bestBase + bestLen)
            {
                if (k == bestBase) sb.Append(':');
                continue;
            }
            if (k != 0) sb.Append(':');
            if (k == 6 && bestBase == 0 && (bestLen == 6 || (bestLen == 5 && words[5] == 0xffff)))
            {
                sb.Append(CultureInfo.InvariantCulture, $"{b[12]}.{b[13]}.{b[14]}.{b[15]}");
                return sb.ToString();
            }
            sb.Append(words[k].ToString("x", CultureInfo.InvariantCulture));
        }
        if (bestBase != -1 && bestBase + bestLen == 8) sb.Append(':');
        return sb.ToString();
    }

    // ---------------------------------------------------------------- equality

    /// <summary>virSocketAddrEqual: same family and same address (unset never equals anything).</summary>
    public bool Equals(SocketAddr other) =>
        _bytes is not null && other._bytes is not null && _bytes.AsSpan().SequenceEqual(other._bytes);

    public override bool Equals(object? obj) => obj is SocketAddr o && Equals(o);

    public override int GetHashCode()
    {
        if (_bytes is null) return 0;
        var h = new HashCode();
        h.AddBytes(_bytes);
        return h.ToHashCode();
    }

    public static bool operator ==(SocketAddr a, SocketAddr b) => a.Equals(b);
    public static bool operator !=(SocketAddr a, SocketAddr b) => !a.Equals(b);

    // ---------------------------------------------------------------- netmask / prefix

    /// <summary>virSocketAddrPrefixToNetmask; unset result when the prefix is out of range.</summary>
    public static SocketAddr PrefixToNetmask(int prefix, AddressFamily family)
    {
        if (prefix < 0) return default;
        if (family == AddressFamily.InterNetwork)
        {
            if (prefix > 32) return default;
            uint ip = prefix == 0 ? 0u : ~((1u << (32 - prefix)) - 1u);
            if (prefix == 32) ip = 0xffffffffu;
            return FromIPv4(ip);
        }
        if (family == AddressFamily.InterNetworkV6)
        {
            if (prefix > 128) return default;
            var m = new byte[16];
            int k = 0;
            int p = prefix;
            while (p >= 8) { m[k++] = 0xff; p -= 8; }
            if (p > 0) m[k] = (byte)~((1 << (8 - p)) - 1);
            return new SocketAddr(m, 0);
        }
        return default;
    }

    /// <summary>virSocketAddrGetNumNetmaskBits: -1 when not a contiguous netmask.</summary>
    public int GetNumNetmaskBits()
    {
        if (_bytes is null) return -1;
        int bits = _bytes.Length * 8;
        int c = 0;
        int j = 0;
        while (j < bits && (_bytes[j >> 3] & (0x80 >> (j & 7))) != 0) { c++; j++; }
        while (j < bits)
        {
            if ((_bytes[j >> 3] & (0x80 >> (j & 7))) != 0) return -1;
            j++;
        }
        return c;
    }

    /// <summary>virSocketAddrMask: unset when families differ.</summary>
    public SocketAddr Mask(SocketAddr netmask)
    {
        if (_bytes is null || netmask._bytes is null || _bytes.Length != netmask._bytes.Length) return default;
        var r = new byte[_bytes.Length];
        for (int k = 0; k < r.Length; k++) r[k] = (byte)(_bytes[k] & netmask._bytes[k]);
        return new SocketAddr(r, 0);
    }

    /// <summary>virSocketAddrMaskByPrefix.</summary>
    public SocketAddr MaskByPrefix(int prefix)
    {
        SocketAddr nm = PrefixToNetmask(prefix, Family);
        return nm.IsValid ? Mask(nm) : default;
    }

    /// <summary>virSocketAddrBroadcast (IPv4 only); unset otherwise.</summary>
    public SocketAddr Broadcast(SocketAddr netmask)
    {
        if (!IsIPv4 || !netmask.IsIPv4) return default;
        return FromIPv4(ToIPv4UInt32() | ~netmask.ToIPv4UInt32());
    }

    /// <summary>virSocketAddrIsWildcard.</summary>
    public bool IsWildcard => _bytes is not null && _bytes.AsSpan().IndexOfAnyExcept((byte)0) < 0;

    /// <summary>virSocketAddrIsPrivate.</summary>
    public bool IsPrivate
    {
        get
        {
            if (IsIPv4)
            {
                uint v = ToIPv4UInt32();
                return (v & 0xFFFF0000u) == 0xC0A80000u || (v & 0xFFF00000u) == 0xAC100000u || (v & 0xFF000000u) == 0x0A000000u;
            }
            if (IsIPv6)
                return (_bytes![0] & 0xFE) == 0xFC || (_bytes[0] == 0xFE && (_bytes[1] & 0xC0) == 0xC0);
            return false;
        }
    }

    /// <summary>
    /// virSocketAddrGetIPPrefix: the prefix if &gt; 0, else the netmask's bit count, else the
    /// natural (classful) prefix of an IPv4 address, 64 for IPv6 (0 for ::), -1 on error.
    /// </summary>
    public static int GetIPPrefix(SocketAddr address, SocketAddr netmask, int prefix)
    {
        if (prefix > 0) return prefix;
        if (netmask.IsValid) return netmask.GetNumNetmaskBits();
        if (address.IsIPv4)
        {
            uint v = address.ToIPv4UInt32();
            if (v == 0) return 0;
            uint octet = v >> 24;
            if ((octet & 0x80) == 0) return 8;
            if ((octet & 0xC0) == 0x80) return 16;
            if ((octet & 0xE0) == 0xC0) return 24;
            return -1;
        }
        if (address.IsIPv6) return address.IsWildcard ? 0 : 64;
        return 0;
    }

    /// <summary>virSocketAddrCheckNetmask: 1 same network, 0 different, -1 error.</summary>
    public static int CheckNetmask(SocketAddr a1, SocketAddr a2, SocketAddr netmask)
    {
        if (!a1.IsValid || a1.Family != a2.Family || a1.Family != netmask.Family) return -1;
        if (netmask.GetNumNetmaskBits() < 0) return -1;
        for (int k = 0; k < a1._bytes!.Length; k++)
            if ((a1._bytes[k] & netmask._bytes![k]) != (a2._bytes![k] & netmask._bytes[k])) return 0;
        return 1;
    }

    /// <summary>
    /// virSocketAddrGetRange: checks start/end (and, when <paramref name="network"/> is set, that
    /// the range lies within network/prefix) and returns its size; throws libvirt's
    /// VIR_ERR_INTERNAL_ERROR messages ("range ... is not entirely within network ...", ...).
    /// </summary>
    public static int GetRange(SocketAddr start, SocketAddr end, SocketAddr? network, int prefix)
    {
        string? startStr = start.Format();
        string? endStr = end.Format();
        if (startStr is null || endStr is null)
            throw new LibvirtError(VirErrorCode.SystemError, VirErrorDomain.None,
                "Cannot convert socket address to string: ai_family not supported");

        if (start.Family != end.Family)
            throw Internal($"mismatch of address family in range {startStr} - {endStr}");

        if (network is { } net)
        {
            string netStr = net.Format()
                ?? throw new LibvirtError(VirErrorCode.SystemError, VirErrorDomain.None,
                    "Cannot convert socket address to string: ai_family not supported");
            if (start.Family != net.Family)
                throw Internal($"mismatch of address family in range {startStr} - {endStr} for network {netStr}");

            SocketAddr netmask = prefix < 0 ? default : PrefixToNetmask(prefix, net.Family);
            if (!netmask.IsValid)
                throw Internal(string.Create(CultureInfo.InvariantCulture,
                    $"bad prefix {prefix} for network {netStr} when checking range {startStr} - {endStr}"));

            if (CheckNetmask(start, net, netmask) <= 0 || CheckNetmask(end, net, netmask) <= 0)
                throw Internal(string.Create(CultureInfo.InvariantCulture,
                    $"range {startStr} - {endStr} is not entirely within network {netStr}/{prefix}"));

            if (start.IsIPv4)
            {
                SocketAddr broadcast = net.Broadcast(netmask);
                SocketAddr netaddr = net.Mask(netmask);
                if (start == netaddr)
                    throw Internal(string.Create(CultureInfo.InvariantCulture,
                        $"start of range {startStr} - {endStr} in network {netStr}/{prefix} is the network address"));
                if (end == broadcast)
                    throw Internal(string.Create(CultureInfo.InvariantCulture,
                        $"end of range {startStr} - {endStr} in network {netStr}/{prefix} is the broadcast address"));
            }
        }

        if (start.IsIPv4)
        {
            uint s = start.ToIPv4UInt32();
            uint e = end.ToIPv4UInt32();
            if (e < s) throw Internal($"range {startStr} - {endStr} is reversed ");
            if (e - s > 65535) throw Internal($"range {startStr} - {endStr} is too large (> 65535)");
            return (int)(e - s + 1);
        }
        if (start.IsIPv6)
        {
            ReadOnlySpan<byte> a = start._bytes, b = end._bytes;
            if (!a[..14].SequenceEqual(b[..14]))
                throw Internal($"range {startStr} - {endStr} is too large (> 65535)");
            int r = ((b[14] << 8) | b[15]) - ((a[14] << 8) | a[15]);
            if (r < 0) throw Internal($"range {startStr} - {endStr} start larger than end");
            return r + 1;
        }
        throw Internal($"unsupported address family for range {startStr} - {endStr}, must be ipv4 or ipv6");
    }

    private static LibvirtError Internal(string detail) =>
        new(VirErrorCode.InternalError, VirErrorDomain.None, detail);
}
