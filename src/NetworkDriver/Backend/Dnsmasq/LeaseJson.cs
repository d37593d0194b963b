using System.Globalization;
using System.Text;

namespace VirtNetworkd.NetworkDriver.Backend.Dnsmasq;

/// <summary>The kinds of <see cref="LeaseJson"/> values (virJSONType).</summary>
public enum LeaseJsonKind { Null, Boolean, Number, String, Array, Object }

/// <summary>
/// One JSON value as libvirt holds it (virJSONValue) after json-c parsed it: numbers keep their
/// text, objects keep their key order (a repeated key keeps its first place and its last value),
/// strings end at their first NUL (libvirt copies them as C strings).
/// </summary>
public sealed class LeaseJson
{
    private LeaseJson(LeaseJsonKind kind) => Kind = kind;

    public LeaseJsonKind Kind { get; }

    /// <summary>A string's value, a number's text, "true"/"false"; null otherwise.</summary>
    public string? Text { get; private init; }

    /// <summary>An array's items; empty otherwise.</summary>
    public List<LeaseJson> Items { get; } = [];

    /// <summary>An object's members in order; empty otherwise.</summary>
    public List<KeyValuePair<string, LeaseJson>> Members { get; } = [];

    public static LeaseJson Null() => new(LeaseJsonKind.Null);
    public static LeaseJson String(string? value) => value is null ? Null() : new(LeaseJsonKind.String) { Text = value };
    public static LeaseJson Number(long value) => new(LeaseJsonKind.Number) { Text = value.ToString(CultureInfo.InvariantCulture) };
    public static LeaseJson NumberText(string text) => new(LeaseJsonKind.Number) { Text = text };
    public static LeaseJson Boolean(bool value) => new(LeaseJsonKind.Boolean) { Text = value ? "true" : "false" };
    public static LeaseJson Array() => new(LeaseJsonKind.Array);
    public static LeaseJson Object() => new(LeaseJsonKind.Object);

    /// <summary>virJSONValueObjectGet: the member's value; null when absent or this is no object.</summary>
    public LeaseJson? Get(string key)
    {
        if (Kind != LeaseJsonKind.Object) return null;
        foreach (var m in Members)
            if (m.Key == key) return m.Value;
        return null;
    }

    /// <summary>virJSONValueObjectGetString: the member's value when it is a string, else null.</summary>
    public string? GetString(string key) => Get(key) is { Kind: LeaseJsonKind.String } v ? v.Text : null;

    /// <summary>virJSONValueObjectGetNumberLong: a number whose text is a whole long long (strtoll, base 10).</summary>
    public bool TryGetLong(string key, out long value)
    {
        value = 0;
        return Get(key) is { Kind: LeaseJsonKind.Number, Text: { } t } && LeaseJsonText.TryParseLongLong(t, out value);
    }

    /// <summary>virJSONValueObjectAppend: adds a member; false when the key is there already (libvirt's "duplicate key").</summary>
    public bool Append(string key, LeaseJson value)
    {
        if (Get(key) is not null) return false;
        Members.Add(new(key, value));
        return true;
    }
}

/// <summary>A status file that is not JSON as json-c (strict, UTF-8 validated) reads it; the message is json-c's.</summary>
public sealed class LeaseJsonException(string message) : Exception(message);

/// <summary>
/// JSON text as libvirt 10.8 reads and writes it: parsed like json-c's tokener with
/// JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8 (libvirt's virJSONValueFromString) and
/// printed like json_object_to_json_string_ext with PRETTY | SPACED | NOSLASHESCAPE plus a final
/// newline (virJSONValueToString(…, true)), json-c 0.18 as Debian 13 links it. Hand-written because
/// json-c's grammar is not RFC 8259's (NaN, Infinity, "1." are numbers; lone surrogates become
/// U+FFFD; 32 levels at most) and its output must come back byte for byte.
/// </summary>
public static class LeaseJsonText
{
    /// <summary>json-c's JSON_TOKENER_DEFAULT_DEPTH.</summary>
    public const int MaxDepth = 32;

    /// <summary>Parses <paramref name="text"/> up to its first NUL byte (libvirt hands json-c a C string).</summary>
    /// <exception cref="LeaseJsonException">Not JSON to json-c.</exception>
    public static LeaseJson Parse(ReadOnlySpan<byte> text)
    {
        int nul = text.IndexOf((byte)0);
        if (nul >= 0) text = text[..nul];
        var p = new Parser(text);
        p.SkipSpace();
        var value = p.Value(0, topLevel: true);
        p.SkipSpace();
        if (p.Pos < text.Length) throw new LeaseJsonException("unexpected character");
        return value;
    }

    /// <summary>virJSONValueToString(value, pretty: true).</summary>
    public static string Format(LeaseJson value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var sb = new StringBuilder();
        Write(sb, value, 0);
        sb.Append('\n');
        return sb.ToString();
    }

    /// <summary>virStrToLong_ll: strtoll in base 10 over the whole text, no overflow.</summary>
    public static bool TryParseLongLong(string text, out long value)
    {
        value = 0;
        ArgumentNullException.ThrowIfNull(text);
        var s = text.AsSpan();
        int i = 0;
        while (i < s.Length && IsCSpace(s[i])) i++;
        s = s[i..];
        // strtoll's own syntax, then .NET's range check
        int j = s.Length > 0 && s[0] is '+' or '-' ? 1 : 0;
        if (j == s.Length) return false;
        for (int k = j; k < s.Length; k++)
            if (!char.IsAsciiDigit(s[k])) return false;
        return long.TryParse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out value);
    }

    private static bool IsCSpace(char c) => c is ' ' or '\t' or '\n' or '\v' or '\f' or '\r';

    private static void Write(StringBuilder sb, LeaseJson v, int level)
    {
        switch (v.Kind)
        {
            case LeaseJsonKind.Null: sb.Append("null"); break;
            case LeaseJsonKind.Boolean:
            case LeaseJsonKind.Number: sb.Append(v.Text); break;
            case LeaseJsonKind.String: WriteString(sb, v.Text!); break;
            case LeaseJsonKind.Array:
                if (v.Items.Count == 0) { sb.Append("[]"); break; }
                sb.Append("[\n");
                for (int i = 0; i < v.Items.Count; i++)
                {
                    if (i > 0) sb.Append(",\n");
                    sb.Append(' ', 2 * (level + 1));
                    Write(sb, v.Items[i], level + 1);
                }
                sb.Append('\n').Append(' ', 2 * level).Append(']');
                break;
            case LeaseJsonKind.Object:
                if (v.Members.Count == 0) { sb.Append("{}"); break; }
                sb.Append("{\n");
                for (int i = 0; i < v.Members.Count; i++)
                {
                    if (i > 0) sb.Append(",\n");
                    sb.Append(' ', 2 * (level + 1));
                    WriteString(sb, v.Members[i].Key);
                    sb.Append(": ");
                    Write(sb, v.Members[i].Value, level + 1);
                }
                sb.Append('\n').Append(' ', 2 * level).Append('}');
                break;
        }
    }

    /// <summary>json-c's json_escape_str without slash escaping: the short escapes, other controls as \u00xx.</summary>
    private static void WriteString(StringBuilder sb, string s)
    {
        sb.Append('"');
        foreach (char c in s)
        {
            switch (c)
            {
                case '\b': sb.Append("\\b"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                case '\f': sb.Append("\\f"); break;
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                default:
                    if (c < ' ') sb.Append("\\u00").Append(((int)c).ToString("x2", CultureInfo.InvariantCulture));
                    else sb.Append(c);
                    break;
            }
        }
        sb.Append('"');
    }

    private ref struct Parser(ReadOnlySpan<byte> text)
    {
        private readonly ReadOnlySpan<byte> _s = text;
        public int Pos;

        public void SkipSpace()
        {
            while (Pos < _s.Length && _s[Pos] is (byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'\r') Pos++;
        }

        private readonly bool At(string word)
        {
            if (_s.Length - Pos < word.Length) return false;
            for (int i = 0; i < word.Length; i++)
                if (_s[Pos + i] != word[i]) return false;
            return true;
        }

        public LeaseJson Value(int depth, bool topLevel = false)
        {
            if (Pos >= _s.Length) throw new LeaseJsonException("continue");
            switch (_s[Pos])
            {
                case (byte)'{': return Object(depth + 1);
                case (byte)'[': return Array(depth + 1);
                case (byte)'"': return LeaseJson.String(String());
                case (byte)'t' or (byte)'T': return Word("true", LeaseJson.Boolean(true), "boolean expected");
                case (byte)'f' or (byte)'F': return Word("false", LeaseJson.Boolean(false), "boolean expected");
                case (byte)'n': return Word("null", LeaseJson.Null(), "null expected");
                case (byte)'N': return Word("NaN", LeaseJson.NumberText("NaN"), "unexpected character");
                case (byte)'I': return Word("Infinity", LeaseJson.NumberText("Infinity"), "unexpected character");
                case (byte)'-' or (>= (byte)'0' and <= (byte)'9'): return Number(topLevel);
                default: throw new LeaseJsonException("unexpected character");
            }
        }

        private LeaseJson Word(string word, LeaseJson value, string error)
        {
            if (!At(word)) throw new LeaseJsonException(error);
            Pos += word.Length;
            return value;
        }

        private LeaseJson Number(bool topLevel)
        {
            int start = Pos;
            if (_s[Pos] == '-')
            {
                Pos++;
                if (At("Infinity")) { Pos += 8; return LeaseJson.NumberText("-Infinity"); }
            }
            int intStart = Pos;
            while (Pos < _s.Length && _s[Pos] is >= (byte)'0' and <= (byte)'9') Pos++;
            int intDigits = Pos - intStart;
            if (intDigits == 0 || (intDigits > 1 && _s[intStart] == '0')) throw new LeaseJsonException("number expected");
            bool isDouble = false;
            if (Pos < _s.Length && _s[Pos] == '.')
            {
                isDouble = true;
                Pos++;
                while (Pos < _s.Length && _s[Pos] is >= (byte)'0' and <= (byte)'9') Pos++;
            }
            if (Pos < _s.Length && _s[Pos] is (byte)'e' or (byte)'E')
            {
                isDouble = true;
                Pos++;
                if (Pos < _s.Length && _s[Pos] is (byte)'+' or (byte)'-') Pos++;
                int expStart = Pos;
                while (Pos < _s.Length && _s[Pos] is >= (byte)'0' and <= (byte)'9') Pos++;
                if (Pos == expStart) throw new LeaseJsonException("number expected");
            }
            // json-c cannot tell a number is over before it sees what follows it
            if (topLevel && Pos == _s.Length) throw new LeaseJsonException("continue");
            string token = Encoding.ASCII.GetString(_s[start..Pos]);
            if (isDouble) return LeaseJson.NumberText(token);
            // an integer is kept as an int64 or uint64 and printed back from that
            if (long.TryParse(token, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long l))
                return LeaseJson.Number(l);
            if (ulong.TryParse(token, NumberStyles.None, CultureInfo.InvariantCulture, out ulong u))
                return LeaseJson.NumberText(u.ToString(CultureInfo.InvariantCulture));
            throw new LeaseJsonException("number expected");
        }

        private string String()
        {
            Pos++; // opening quote
            var sb = new StringBuilder();
            int pendingHigh = -1;
            while (true)
            {
                if (Pos >= _s.Length) throw new LeaseJsonException("continue");
                byte b = _s[Pos];
                if (b == '"')
                {
                    Pos++;
                    if (pendingHigh >= 0) sb.Append('\uFFFD');
                    break;
                }
                if (b == '\\')
                {
                    if (Pos + 1 >= _s.Length) throw new LeaseJsonException("continue");
                    byte e = _s[Pos + 1];
                    Pos += 2;
                    if (e == 'u')
                    {
                        int cu = Hex4();
                        if (pendingHigh >= 0)
                        {
                            if (cu is >= 0xDC00 and <= 0xDFFF)
                            {
                                sb.Append((char)pendingHigh).Append((char)cu);
                                pendingHigh = -1;
                                continue;
                            }
                            sb.Append('\uFFFD');
                            pendingHigh = -1;
                        }
                        if (cu is >= 0xD800 and <= 0xDBFF) pendingHigh = cu;
                        else if (cu is >= 0xDC00 and <= 0xDFFF) sb.Append('\uFFFD');
                        else sb.Append((char)cu);
                        continue;
                    }
                    if (pendingHigh >= 0) { sb.Append('\uFFFD'); pendingHigh = -1; }
                    sb.Append(e switch
                    {
                        (byte)'"' => '"',
                        (byte)'\\' => '\\',
                        (byte)'/' => '/',
                        (byte)'b' => '\b',
                        (byte)'f' => '\f',
                        (byte)'n' => '\n',
                        (byte)'r' => '\r',
                        (byte)'t' => '\t',
                        _ => throw new LeaseJsonException("invalid string sequence"),
                    });
                    continue;
                }
                if (pendingHigh >= 0) { sb.Append('\uFFFD'); pendingHigh = -1; }
                if (b < 0x20) throw new LeaseJsonException("invalid string sequence");
                if (b < 0x80)
                {
                    sb.Append((char)b);
                    Pos++;
                    continue;
                }
                if (System.Text.Rune.DecodeFromUtf8(_s[Pos..], out var rune, out int used) != System.Buffers.OperationStatus.Done)
                    throw new LeaseJsonException("invalid utf-8 string");
                sb.Append(rune.ToString());
                Pos += used;
            }
            string s = sb.ToString();
            int nul = s.IndexOf('\0', StringComparison.Ordinal);
            return nul >= 0 ? s[..nul] : s;
        }

        private int Hex4()
        {
            if (_s.Length - Pos < 4) throw new LeaseJsonException("continue");
            int v = 0;
            for (int i = 0; i < 4; i++)
            {
                int d = HexDigit(_s[Pos + i]);
                if (d < 0) throw new LeaseJsonException("invalid string sequence");
                v = (v << 4) | d;
            }
            Pos += 4;
            return v;
        }

        private static int HexDigit(byte b) => b switch
        {
            >= (byte)'0' and <= (byte)'9' => b - '0',
            >= (byte)'a' and <= (byte)'f' => b - 'a' + 10,
            >= (byte)'A' and <= (byte)'F' => b - 'A' + 10,
            _ => -1,
        };

        private LeaseJson Array(int depth)
        {
            if (depth > MaxDepth) throw new LeaseJsonException("nesting too deep");
            Pos++;
            var a = LeaseJson.Array();
            SkipSpace();
            if (Pos < _s.Length && _s[Pos] == ']') { Pos++; return a; }
            while (true)
            {
                SkipSpace();
                a.Items.Add(Value(depth));
                SkipSpace();
                if (Pos >= _s.Length) throw new LeaseJsonException("continue");
                if (_s[Pos] == ']') { Pos++; return a; }
                if (_s[Pos] != ',') throw new LeaseJsonException("array value separator ',' expected");
                Pos++;
                SkipSpace();
                if (Pos < _s.Length && _s[Pos] == ']') throw new LeaseJsonException("unexpected character");
            }
        }

        private LeaseJson Object(int depth)
        {
            if (depth > MaxDepth) throw new LeaseJsonException("nesting too deep");
            Pos++;
            var o = LeaseJson.Object();
            var index = new Dictionary<string, int>(StringComparer.Ordinal);
            SkipSpace();
            if (Pos < _s.Length && _s[Pos] == '}') { Pos++; return o; }
            while (true)
            {
                SkipSpace();
                if (Pos >= _s.Length) throw new LeaseJsonException("continue");
                if (_s[Pos] != '"') throw new LeaseJsonException("quoted object property name expected");
                string key = String();
                SkipSpace();
                if (Pos >= _s.Length) throw new LeaseJsonException("continue");
                if (_s[Pos] != ':') throw new LeaseJsonException("object property name separator ':' expected");
                Pos++;
                SkipSpace();
                var value = Value(depth);
                // json_object_object_add: a repeated key keeps its place and takes the new value
                if (index.TryGetValue(key, out int at)) o.Members[at] = new(key, value);
                else
                {
                    index[key] = o.Members.Count;
                    o.Members.Add(new(key, value));
                }
                SkipSpace();
                if (Pos >= _s.Length) throw new LeaseJsonException("continue");
                if (_s[Pos] == '}') { Pos++; return o; }
                if (_s[Pos] != ',') throw new LeaseJsonException("object value separator ',' expected");
                Pos++;
                SkipSpace();
                if (Pos < _s.Length && _s[Pos] == '}') throw new LeaseJsonException("unexpected character");
            }
        }
    }
}
