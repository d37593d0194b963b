namespace VirtNetworkd.NetworkDriver.Xml.Net;

/// <summary>
/// Number parsing with the semantics of glib's g_ascii_strtoull and libvirt's virStrToLong_*
/// wrappers, which the XML parsers use: leading ASCII white space and an optional sign are
/// accepted, base 0 selects hex for "0x", octal for a leading "0", and the whole string must be
/// consumed.
/// </summary>
public static class CNumber
{
    private static bool IsSpace(char c) => c is ' ' or '\t' or '\n' or '\v' or '\f' or '\r';

    private static int DigitValue(char c) => c switch
    {
        >= '0' and <= '9' => c - '0',
        >= 'a' and <= 'z' => c - 'a' + 10,
        >= 'A' and <= 'Z' => c - 'A' + 10,
        _ => 99,
    };

    /// <summary>
    /// g_ascii_strtoull: returns the value (negated modulo 2^64 after a '-'), the index just past
    /// the digits (0 when nothing was converted), whether a '-' was seen and whether it overflowed.
    /// </summary>
    public static ulong StrToULL(string s, int start, int numberBase, out int end, out bool negative, out bool overflow)
    {
        negative = false;
        overflow = false;
        int i = start;
        while (i < s.Length && IsSpace(s[i])) i++;
        if (i < s.Length && (s[i] == '-' || s[i] == '+'))
        {
            negative = s[i] == '-';
            i++;
        }
        int b = numberBase;
        if ((b == 0 || b == 16) && i + 1 < s.Length && s[i] == '0' && (s[i + 1] == 'x' || s[i + 1] == 'X'))
        {
            // "0x" is only a prefix when a hex digit follows; otherwise the "0" is the number.
            if (i + 2 < s.Length && DigitValue(s[i + 2]) < 16)
            {
                i += 2;
                b = 16;
            }
            else if (b == 0)
            {
                b = 8;
            }
        }
        else if (b == 0)
        {
            b = i < s.Length && s[i] == '0' ? 8 : 10;
        }

        int digitsStart = i;
        ulong value = 0;
        while (i < s.Length)
        {
            int d = DigitValue(s[i]);
            if (d >= b) break;
            if (!overflow)
            {
                ulong next = unchecked(value * (ulong)b + (ulong)d);
                if (value > (ulong.MaxValue - (ulong)d) / (ulong)b) overflow = true;
                else value = next;
            }
            i++;
        }
        if (i == digitsStart)
        {
            end = start;
            negative = false;
            return 0;
        }
        end = i;
        if (overflow) return ulong.MaxValue;
        return negative ? unchecked(0UL - value) : value;
    }

    /// <summary>virStrToLong_uip: unsigned int, no sign allowed, whole string.</summary>
    public static bool TryParseUIntP(string s, int numberBase, out uint result)
    {
        result = 0;
        ulong v = StrToULL(s, 0, numberBase, out int end, out bool neg, out bool ovf);
        if (neg || ovf || end == 0 || end != s.Length || v > uint.MaxValue) return false;
        result = (uint)v;
        return true;
    }

    /// <summary>virStrToLong_ui: unsigned int, "-N" wraps when N fits, whole string.</summary>
    public static bool TryParseUInt(string s, int numberBase, out uint result)
    {
        result = 0;
        ulong v = StrToULL(s, 0, numberBase, out int end, out bool neg, out bool ovf);
        if (ovf || end == 0 || end != s.Length) return false;
        if (neg)
        {
            ulong magnitude = unchecked(0UL - v);
            if (magnitude > uint.MaxValue) return false;
            v &= uint.MaxValue;
        }
        if (v > uint.MaxValue) return false;
        result = (uint)v;
        return true;
    }

    /// <summary>virStrToLong_ullp: unsigned long long, no sign allowed, whole string.</summary>
    public static bool TryParseULongP(string s, int numberBase, out ulong result)
    {
        result = 0;
        ulong v = StrToULL(s, 0, numberBase, out int end, out bool neg, out bool ovf);
        if (neg || ovf || end == 0 || end != s.Length) return false;
        result = v;
        return true;
    }

    /// <summary>virStrToLong_ulp on a 64-bit host: same as <see cref="TryParseULongP"/>.</summary>
    public static bool TryParseULP(string s, int numberBase, out ulong result) => TryParseULongP(s, numberBase, out result);
}
