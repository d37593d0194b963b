using System.Globalization;
using System.Text;

namespace VirtNetworkd.NetworkDriver.Xml.Dom;

/// <summary>
/// Finds the first fatal error libxml2 (2.9–2.12, as in libvirt 9.0 to 11.3) reports for a
/// malformed document, with libxml2's own words and the parser's position at that moment, for
/// the errors people make: unclosed and mismatched tags, attribute syntax, bad entity and
/// character references, content before or after the root, empty input. Used only once the
/// document is known to be malformed; returns null for anything it does not model, and the
/// caller then keeps its generic message.
/// </summary>
internal static class LibxmlDiagnosis
{
    /// <summary>The first fatal error: libxml2's message (without its newline) and the offset of ctxt->input->cur.</summary>
    public readonly record struct Finding(string Message, int Offset);

    private sealed class Stop(Finding f) : Exception
    {
        public Finding Finding { get; } = f;
    }

    public static Finding? Find(string xml)
    {
        try
        {
            new Scanner(xml).Document();
            return null;
        }
        catch (Stop s)
        {
            return s.Finding.Message is null ? null : s.Finding;
        }
    }

    /// <summary>
    /// catchXMLError of libvirt 10.8 (11.3's src/util/virxml.c) for a string document:
    /// "at line N: MESSAGE\nCONTEXT\n----^", CONTEXT the line holding the parser's position (at
    /// the end of input, the last non-empty line before it), the caret under that position.
    /// Without a context line (empty input, blank lines only) the message stands alone, ending
    /// in libxml2's newline: 9.0 printed "(null)\n^" there, and the fix for the crash in that
    /// search (CVE-2026-61478, backported to the maintained branches; seen on the 11.3
    /// reference daemon, Debian 11.3.0-3+deb13u3) reports the message alone.
    /// </summary>
    public static string Format(string xml, Finding f)
    {
        byte[] b = Encoding.UTF8.GetBytes(xml);
        int end = Encoding.UTF8.GetByteCount(xml.AsSpan(0, Math.Min(f.Offset, xml.Length)));
        int line = 1;
        for (int i = 0; i < end; i++) if (b[i] == '\n') line++;
        int At(int i) => i < b.Length ? b[i] : 0;

        int cur = end;
        if (cur > 0 && At(cur) == 0) cur--;
        while (cur > 0 && At(cur) is '\n' or '\r') cur--;
        while (cur > 0 && At(cur) is not ('\n' or '\r')) cur--;
        if (At(cur) is '\n' or '\r') cur++;
        int col = end - cur;
        int stop = cur;
        while (At(stop) is not (0 or '\n' or '\r')) stop++;
        string context = Encoding.UTF8.GetString(b, cur, stop - cur);

        var pointer = new StringBuilder();
        for (int n = 0; n < col && n < stop - cur; n++) pointer.Append(b[cur + n] == '\t' ? '\t' : '-');
        pointer.Append('^');
        if (context.Length == 0)
            return string.Create(CultureInfo.InvariantCulture, $"at line {line}: {f.Message}\n");
        return string.Create(CultureInfo.InvariantCulture, $"at line {line}: {f.Message}\n{context}\n{pointer}");
    }

    /// <summary>A recursive-descent walk in libxml2's order (xmlParseDocument and friends).</summary>
    private sealed class Scanner(string s)
    {
        private int _p;
        private readonly Stack<(string Name, int Line)> _open = new();

        private char C(int k = 0) => _p + k < s.Length ? s[_p + k] : '\0';
        private bool At(string t) => string.CompareOrdinal(s, _p, t, 0, t.Length) == 0;
        private static bool Blank(char c) => c is ' ' or '\t' or '\n' or '\r';
        private int LineAt(int pos) { int l = 1; for (int i = 0; i < pos; i++) if (s[i] == '\n') l++; return l; }
        private Stop Fail(string msg) => new(new Finding(msg, _p));

        private bool SkipBlanks() { int st = _p; while (Blank(C())) _p++; return _p > st; }

        private static bool NameStart(char c) => char.IsLetter(c) || c is '_' or ':' || c > 0x7f && !char.IsWhiteSpace(c);
        private static bool NameChar(char c) => NameStart(c) || char.IsDigit(c) || c is '-' or '.' || c == '\u00b7';

        private string? Name()
        {
            if (!NameStart(C())) return null;
            int st = _p;
            while (NameChar(C())) _p++;
            return s[st.._p];
        }

        public void Document()
        {
            if (C() == '\ufeff') _p++;
            if (_p >= s.Length) throw Fail("Document is empty");
            if (At("<?xml") && Blank(C(5))) SkipPi();
            Misc(allowDoctype: true);
            if (C() != '<' || _p >= s.Length) throw Fail("Start tag expected, '<' not found");
            Element();
            Misc(allowDoctype: false);
            if (_p < s.Length) throw Fail("Extra content at the end of the document");
        }

        private void Misc(bool allowDoctype)
        {
            while (true)
            {
                SkipBlanks();
                if (At("<?")) SkipPi();
                else if (At("<!--")) Comment();
                else if (allowDoctype && At("<!DOCTYPE")) { SkipDoctype(); allowDoctype = false; }
                else return;
            }
        }

        private void SkipPi()
        {
            int e = s.IndexOf("?>", _p + 2, StringComparison.Ordinal);
            if (e < 0) throw new Stop(default); // not modelled
            _p = e + 2;
        }

        private void SkipDoctype()
        {
            int depth = 0;
            for (int i = _p; i < s.Length; i++)
            {
                char c = s[i];
                if (c == '[') depth++;
                else if (c == ']') depth--;
                else if (c == '>' && depth <= 0) { _p = i + 1; return; }
                else if (c is '\'' or '"') { int q = s.IndexOf(c, i + 1); if (q < 0) break; i = q; }
            }
            throw new Stop(default);
        }

        private void Comment()
        {
            int e = s.IndexOf("--", _p + 4, StringComparison.Ordinal);
            if (e < 0) { _p = s.Length; throw Fail("Comment not terminated"); }
            if (e + 2 >= s.Length || s[e + 2] != '>') throw new Stop(default); // "--" inside: not modelled
            _p = e + 3;
        }

        private void Element()
        {
            int startLine = LineAt(_p);
            _p++; // '<'
            string name = Name() ?? throw Fail("StartTag: invalid element name");
            SkipBlanks();
            var seen = new HashSet<string>(StringComparer.Ordinal);
            string? dup = null;
            while (C() != '>' && !(C() == '/' && C(1) == '>') && _p < s.Length)
            {
                string attr = Name() ?? throw Fail("error parsing attribute name");
                SkipBlanks();
                if (C() != '=') throw Fail($"Specification mandates value for attribute {attr}");
                _p++;
                SkipBlanks();
                AttValue();
                if (!seen.Add(attr)) dup ??= attr;
                if (C() == '>' || C() == '/' && C(1) == '>') break;
                if (!SkipBlanks()) throw Fail("attributes construct error");
            }
            if (dup is not null) throw Fail($"Attribute {dup} redefined");
            if (C() == '/' && C(1) == '>') { _p += 2; return; }
            if (C() != '>') throw Fail(string.Create(CultureInfo.InvariantCulture, $"Couldn't find end of Start Tag {name} line {startLine}"));
            _p++;
            _open.Push((name, startLine));
            Content();
        }

        private void AttValue()
        {
            char q = C();
            if (q is not ('\'' or '"')) throw Fail("AttValue: \" or ' expected");
            _p++;
            while (true)
            {
                char c = C();
                if (_p >= s.Length) throw Fail($"AttValue: {q} expected");
                if (c == q) { _p++; return; }
                if (c == '<') throw Fail("Unescaped '<' not allowed in attributes values");
                if (c < 0x20 && !Blank(c)) throw new Stop(default); // not modelled
                if (c == '&') Reference();
                else _p++;
            }
        }

        private void Content()
        {
            while (true)
            {
                if (_p >= s.Length)
                {
                    (string n, int l) = _open.Peek();
                    throw Fail(string.Create(CultureInfo.InvariantCulture, $"Premature end of data in tag {n} line {l}"));
                }
                char c = C();
                if (c == '<')
                {
                    if (C(1) == '/') { EndTag(); return; }
                    if (At("<!--")) Comment();
                    else if (At("<![CDATA["))
                    {
                        int e = s.IndexOf("]]>", _p, StringComparison.Ordinal);
                        if (e < 0) throw new Stop(default);
                        _p = e + 3;
                    }
                    else if (C(1) == '?') SkipPi();
                    else if (C(1) == '!') throw new Stop(default);
                    else Element();
                }
                else if (c == '&') Reference();
                else if (At("]]>")) throw Fail("Sequence ']]>' not allowed in content");
                else if (c < 0x20 && !Blank(c)) throw Fail(string.Create(CultureInfo.InvariantCulture, $"PCDATA invalid Char value {(int)c}"));
                else _p++;
            }
        }

        private void EndTag()
        {
            _p += 2;
            string? name = Name();
            SkipBlanks();
            if (C() != '>') throw Fail("expected '>'");
            _p++;
            (string open, int line) = _open.Pop();
            if (name != open)
                throw Fail(string.Create(CultureInfo.InvariantCulture, $"Opening and ending tag mismatch: {open} line {line} and {name}"));
        }

        private void Reference()
        {
            _p++; // '&'
            if (C() == '#')
            {
                _p++;
                bool hex = C() == 'x';
                if (hex) _p++;
                int st = _p;
                while (hex ? char.IsAsciiHexDigit(C()) : char.IsAsciiDigit(C())) _p++;
                if (_p == st || C() != ';') throw new Stop(default); // libxml2's CharRef errors: not modelled
                string digits = s[st.._p];
                _p++;
                bool ok = long.TryParse(digits, hex ? NumberStyles.HexNumber : NumberStyles.None, CultureInfo.InvariantCulture, out long v);
                if (!ok || v == 0 || v < 0x20 && v is not (9 or 10 or 13) || v is >= 0xd800 and <= 0xdfff or 0xfffe or 0xffff || v > 0x10ffff)
                    throw new Stop(default);
                return;
            }
            string name = Name() ?? throw Fail("xmlParseEntityRef: no name");
            if (C() != ';') throw Fail("EntityRef: expecting ';'");
            _p++;
            if (name is not ("lt" or "gt" or "amp" or "apos" or "quot"))
                throw Fail($"Entity '{name}' not defined");
        }
    }
}
