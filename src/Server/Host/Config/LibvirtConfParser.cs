namespace VirtNetworkd.Server.Host.Config;

/// <summary>
/// Parses libvirt's configuration syntax (virconf): statements <c>name = value</c> separated by
/// newlines or ';'; names start with a letter and continue with letters, digits and '_';
/// values are integers (optionally signed), strings in double or single quotes (one line) or in
/// triple double quotes (may span lines), and lists <c>[ v, v, ]</c> that may span lines and
/// end with a comma; <c>#</c> starts a comment, on its own line or after a value.
/// Errors read <c>configuration file syntax error: FILE:LINE: what</c>, as libvirt's do.
/// </summary>
public static class LibvirtConfParser
{
    /// <summary>libvirt refuses config files over 10 MiB.</summary>
    public const int MaxFileSize = 10 * 1024 * 1024;

    /// <summary>Reads and parses a file.</summary>
    /// <exception cref="ConfException">
    /// <c>Failed to open file 'PATH': REASON</c>, or a syntax error.
    /// </exception>
    public static ConfFile ReadFile(string path)
    {
        string text;
        if (Directory.Exists(path))
            throw new ConfException($"Failed to read file '{path}': Is a directory", path, 0);
        try
        {
            using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            if (fs.Length > MaxFileSize)
                throw new ConfException($"Failed to read file '{path}': File too large", path, 0);
            using var reader = new StreamReader(fs);
            text = reader.ReadToEnd();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ConfException($"Failed to open file '{path}': {Reason(e)}", path, 0);
        }
        return Parse(text, path);
    }

    /// <summary>Parses conf text; <paramref name="fileName"/> names it in errors.</summary>
    public static ConfFile Parse(string text, string fileName)
    {
        ArgumentNullException.ThrowIfNull(text);
        var p = new Parser(text, fileName);
        return new ConfFile(fileName, p.ParseAll());
    }

    private static string Reason(Exception e) => e switch
    {
        FileNotFoundException or DirectoryNotFoundException => "No such file or directory",
        UnauthorizedAccessException => "Permission denied",
        _ => e.HResult is > 0 and < 4096 ? LibC.StrError(e.HResult) : e.Message,
    };

    private sealed class Parser(string text, string fileName)
    {
        private int _pos;
        private int _line = 1;

        private bool AtEnd => _pos >= text.Length;

        // libvirt reads past the end as a NUL byte; '\0' never matches anything it expects.
        private char Cur => _pos < text.Length ? text[_pos] : '\0';

        private static bool IsEol(char c) => c is '\n' or '\r';

        private static bool IsBlank(char c) => c is ' ' or '\t';

        private void Next()
        {
            if (_pos < text.Length)
                _pos++;
        }

        private void SkipBlanks()
        {
            while (!AtEnd && IsBlank(Cur))
                _pos++;
        }

        private void SkipBlanksAndEol()
        {
            while (!AtEnd && (IsBlank(Cur) || IsEol(Cur)))
            {
                if (Cur == '\n')
                    _line++;
                _pos++;
            }
        }

        private ConfException Error(string what) =>
            new($"configuration file syntax error: {fileName}:{_line}: {what}", fileName, _line);

        public List<ConfEntry> ParseAll()
        {
            var entries = new List<ConfEntry>();
            while (!AtEnd)
            {
                var e = ParseStatement();
                if (e is not null)
                    entries.Add(e);
                ParseSeparator();
            }
            return entries;
        }

        private ConfEntry? ParseStatement()
        {
            SkipBlanksAndEol();
            if (Cur == '#')
            {
                SkipComment();
                return null;
            }
            int line = _line;
            string name = ParseName();
            SkipBlanks();
            if (Cur != '=')
                throw Error("expecting an assignment");
            Next();
            SkipBlanks();
            var value = ParseValue();
            SkipBlanks();
            if (Cur == '#')
                SkipComment();
            return new ConfEntry(name, value, line);
        }

        private void SkipComment()
        {
            while (!AtEnd && !IsEol(Cur))
                _pos++;
        }

        private void ParseSeparator()
        {
            SkipBlanks();
            if (AtEnd)
                return;
            if (IsEol(Cur))
            {
                SkipBlanksAndEol();
            }
            else if (Cur == ';')
            {
                Next();
                SkipBlanksAndEol();
            }
            else
            {
                throw Error("expecting a separator");
            }
        }

        private string ParseName()
        {
            SkipBlanks();
            int start = _pos;
            if (!char.IsAsciiLetter(Cur))
                throw Error("expecting a name");
            while (!AtEnd && (char.IsAsciiLetterOrDigit(Cur) || Cur == '_'))
                _pos++;
            return text[start.._pos];
        }

        private ConfValue ParseValue()
        {
            SkipBlanks();
            if (AtEnd)
                throw Error("expecting a value");
            char c = Cur;
            if (c is '"' or '\'')
                return ConfValue.String(ParseString());
            if (c == '[')
                return ParseList();
            if (char.IsAsciiDigit(c) || c is '-' or '+')
            {
                bool signed = c == '-';
                return ConfValue.Integer(ParseNumber(), signed);
            }
            throw Error("expecting a value");
        }

        private ConfValue ParseList()
        {
            Next(); // '['
            var items = new List<ConfValue>();
            SkipBlanksAndEol();
            if (!AtEnd && Cur != ']')
            {
                items.Add(ParseValue());
                SkipBlanksAndEol();
            }
            while (!AtEnd && Cur != ']')
            {
                if (Cur != ',')
                    throw Error("expecting a separator in list");
                Next();
                SkipBlanksAndEol();
                if (Cur == ']')
                    break;
                items.Add(ParseValue());
                SkipBlanksAndEol();
            }
            if (Cur != ']')
                throw Error("list is not closed with ]");
            Next();
            return ConfValue.List(items);
        }

        private long ParseNumber()
        {
            bool neg = false;
            if (Cur == '-')
            {
                neg = true;
                Next();
            }
            else if (Cur == '+')
            {
                Next();
            }
            if (AtEnd || !char.IsAsciiDigit(Cur))
                throw Error("unterminated number");
            long v = 0;
            while (!AtEnd && char.IsAsciiDigit(Cur))
            {
                int d = Cur - '0';
                // libvirt does not check overflow; we saturate so range checks then report it.
                v = v > (long.MaxValue - d) / 10 ? long.MaxValue : v * 10 + d;
                Next();
            }
            return neg ? -v : v;
        }

        private string ParseString()
        {
            if (Cur == '\'')
                return ParseQuoted('\'');
            if (_pos + 6 < text.Length && string.CompareOrdinal(text, _pos, "\"\"\"", 0, 3) == 0)
            {
                _pos += 3;
                int start = _pos;
                while (_pos + 2 < text.Length && string.CompareOrdinal(text, _pos, "\"\"\"", 0, 3) != 0)
                {
                    if (Cur == '\n')
                        _line++;
                    Next();
                }
                if (string.CompareOrdinal(text, _pos, "\"\"\"", 0, 3) != 0)
                    throw Error("unterminated string");
                string s = text[start.._pos];
                _pos += 3;
                return s;
            }
            return ParseQuoted('"');
        }

        private string ParseQuoted(char quote)
        {
            Next();
            int start = _pos;
            while (!AtEnd && Cur != quote && !IsEol(Cur))
                Next();
            if (Cur != quote)
                throw Error("unterminated string");
            string s = text[start.._pos];
            Next();
            return s;
        }
    }
}
