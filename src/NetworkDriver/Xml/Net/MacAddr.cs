using System.Globalization;

namespace VirtNetworkd.NetworkDriver.Xml.Net;

/// <summary>A 6-byte Ethernet address (libvirt's virMacAddr).</summary>
public readonly struct MacAddr : IEquatable<MacAddr>
{
    private readonly ulong _value; // 48 bits, first byte most significant

    private MacAddr(ulong value) => _value = value & 0xFFFF_FFFF_FFFFUL;

    public static MacAddr FromBytes(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length != 6) throw new ArgumentException("a MAC address has 6 bytes", nameof(bytes));
        ulong v = 0;
        foreach (byte b in bytes) v = (v << 8) | b;
        return new MacAddr(v);
    }

    public byte[] GetBytes()
    {
        var r = new byte[6];
        for (int i = 0; i < 6; i++) r[i] = (byte)(_value >> (40 - 8 * i));
        return r;
    }

    public byte this[int index] => index is >= 0 and < 6
        ? (byte)(_value >> (40 - 8 * index))
        : throw new ArgumentOutOfRangeException(nameof(index));

    /// <summary>virMacAddrIsMulticast: the low bit of the first byte.</summary>
    public bool IsMulticast => (this[0] & 1) != 0;
    public bool IsUnicast => !IsMulticast;

    private static int Hex(char c) => c switch
    {
        >= '0' and <= '9' => c - '0',
        >= 'a' and <= 'f' => c - 'a' + 10,
        >= 'A' and <= 'F' => c - 'A' + 10,
        _ => -1,
    };

    /// <summary>
    /// virMacAddrParse: six groups of one or two hex digits separated by ':'; after the sixth
    /// group the string may end or continue with a character &lt;= ' ' (or a non-ASCII byte, which
    /// is a negative char in C).
    /// </summary>
    public static bool TryParse(string? s, out MacAddr mac)
    {
        mac = default;
        if (s is null) return false;
        ulong v = 0;
        int i = 0;
        for (int group = 0; group < 6; group++)
        {
            if (i >= s.Length || Hex(s[i]) < 0) return false;
            // strtoul(base 16) would also take a "0x" prefix; that makes the group longer than
            // two characters, which libvirt rejects, so only plain digits matter here.
            int start = i;
            int val = 0;
            while (i < s.Length && Hex(s[i]) >= 0 && i - start < 3)
            {
                val = (val << 4) | Hex(s[i]);
                i++;
            }
            if (i - start > 2) return false;
            v = (v << 8) | (uint)val;
            if (group == 5)
            {
                if (i >= s.Length) break;
                char c = s[i];
                if (c <= ' ' || c >= 0x80) break;
                return false;
            }
            if (i >= s.Length || s[i] != ':') return false;
            i++;
        }
        mac = new MacAddr(v);
        return true;
    }

    public static MacAddr Parse(string s) =>
        TryParse(s, out MacAddr m) ? m : throw new FormatException($"invalid MAC address '{s}'");

    /// <summary>virMacAddrFormat: lower-case "xx:xx:xx:xx:xx:xx".</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"{this[0]:x2}:{this[1]:x2}:{this[2]:x2}:{this[3]:x2}:{this[4]:x2}:{this[5]:x2}");

    /// <summary>
    /// virMacAddrCompare on the text forms: leading zeros of each group are ignored and case is
    /// folded, so "00:16:3e:0a:..." equals "0:16:3E:a:...". Returns 0 when equal.
    /// </summary>
    public static int CompareStrings(string p, string q)
    {
        int i = 0, j = 0;
        char c, d;
        do
        {
            while (i < p.Length && p[i] == '0' && i + 1 < p.Length && Hex(p[i + 1]) >= 0) i++;
            while (j < q.Length && q[j] == '0' && j + 1 < q.Length && Hex(q[j + 1]) >= 0) j++;
            c = i < p.Length ? char.ToLowerInvariant(p[i]) : '\0';
            d = j < q.Length ? char.ToLowerInvariant(q[j]) : '\0';
            if (c == '\0' || d == '\0') break;
            i++;
            j++;
        } while (c == d);
        return c - d;
    }

    public bool Equals(MacAddr other) => _value == other._value;
    public override bool Equals(object? obj) => obj is MacAddr m && Equals(m);
    public override int GetHashCode() => _value.GetHashCode();
    public static bool operator ==(MacAddr a, MacAddr b) => a._value == b._value;
    public static bool operator !=(MacAddr a, MacAddr b) => a._value != b._value;
}
