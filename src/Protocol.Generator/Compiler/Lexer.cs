using System.Collections.Generic;
using System.Text;

namespace VirtNetworkd.Protocol.Generator.Compiler
{
    internal enum TokenKind
    {
        Identifier,
        Number,
        Punct,
        End,
    }

    internal sealed class Token
    {
        public Token(TokenKind kind, string text, SourceLocation at, string? doc)
        {
            Kind = kind;
            Text = text;
            At = at;
            Doc = doc;
        }

        public TokenKind Kind { get; }
        public string Text { get; }
        public SourceLocation At { get; }
        /// <summary>The text of a <c>/** … */</c> comment right before this token, if any.</summary>
        public string? Doc { get; }

        public bool Is(string punctOrWord) => Text == punctOrWord && Kind != TokenKind.End;
        public override string ToString() => Kind == TokenKind.End ? "end of file" : "'" + Text + "'";
    }

    /// <summary>
    /// Splits a .x file into tokens. Comments are skipped except doc comments (<c>/** */</c>),
    /// which are attached to the next token; <c>%</c> passthrough lines and <c>#</c> preprocessor
    /// lines are skipped whole.
    /// </summary>
    internal sealed class Lexer
    {
        private readonly string _file;
        private readonly string _text;
        private readonly DiagnosticBag _diagnostics;
        private int _pos;
        private int _line = 1;
        private int _lineStart;

        public Lexer(string file, string text, DiagnosticBag diagnostics)
        {
            _file = file;
            _text = text;
            _diagnostics = diagnostics;
        }

        public List<Token> Tokenize()
        {
            var tokens = new List<Token>();
            string? doc = null;
            while (true)
            {
                SkipSpace();
                if (_pos >= _text.Length)
                {
                    tokens.Add(new Token(TokenKind.End, "", Here(), null));
                    return tokens;
                }
                char c = _text[_pos];
                bool atLineStart = IsLineStart();
                if ((c == '%' || c == '#') && atLineStart)
                {
                    SkipToEndOfLine();
                    continue;
                }
                if (c == '/' && Peek(1) == '*')
                {
                    var start = Here();
                    bool isDoc = Peek(2) == '*' && Peek(3) != '/';
                    int end = _text.IndexOf("*/", _pos + 2, System.StringComparison.Ordinal);
                    if (end < 0)
                    {
                        _diagnostics.Add(DiagnosticIds.UnterminatedComment, "unterminated comment", start);
                        tokens.Add(new Token(TokenKind.End, "", Here(), null));
                        return tokens;
                    }
                    string body = _text.Substring(_pos + 2, end - _pos - 2);
                    Advance(end + 2 - _pos);
                    doc = isDoc ? body : doc;
                    continue;
                }
                if (c == '/' && Peek(1) == '/')
                {
                    SkipToEndOfLine();
                    continue;
                }
                var at = Here();
                if (IsIdentStart(c))
                {
                    int s = _pos;
                    while (_pos < _text.Length && IsIdentPart(_text[_pos])) _pos++;
                    tokens.Add(new Token(TokenKind.Identifier, _text.Substring(s, _pos - s), at, doc));
                    doc = null;
                    continue;
                }
                if (char.IsDigit(c) || (c == '-' && char.IsDigit(Peek(1))))
                {
                    int s = _pos;
                    _pos++;
                    while (_pos < _text.Length && (char.IsLetterOrDigit(_text[_pos]))) _pos++;
                    tokens.Add(new Token(TokenKind.Number, _text.Substring(s, _pos - s), at, doc));
                    doc = null;
                    continue;
                }
                if ("{}()[]<>;,=*:".IndexOf(c) >= 0)
                {
                    _pos++;
                    tokens.Add(new Token(TokenKind.Punct, c.ToString(), at, doc));
                    doc = null;
                    continue;
                }
                _diagnostics.Add(DiagnosticIds.UnexpectedCharacter, "unexpected character '" + c + "'", at);
                _pos++;
            }
        }

        private bool IsLineStart()
        {
            for (int i = _lineStart; i < _pos; i++)
            {
                if (_text[i] != ' ' && _text[i] != '\t') return false;
            }
            return true;
        }

        private char Peek(int ahead) => _pos + ahead < _text.Length ? _text[_pos + ahead] : '\0';

        private SourceLocation Here() => new SourceLocation(_file, _line, _pos - _lineStart + 1);

        private void Advance(int count)
        {
            for (int i = 0; i < count && _pos < _text.Length; i++, _pos++)
            {
                if (_text[_pos] == '\n')
                {
                    _line++;
                    _lineStart = _pos + 1;
                }
            }
        }

        private void SkipSpace()
        {
            while (_pos < _text.Length && char.IsWhiteSpace(_text[_pos])) Advance(1);
        }

        private void SkipToEndOfLine()
        {
            while (_pos < _text.Length && _text[_pos] != '\n') _pos++;
        }

        private static bool IsIdentStart(char c) => (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
        private static bool IsIdentPart(char c) => IsIdentStart(c) || (c >= '0' && c <= '9');

        /// <summary>Parses an XDR integer literal: decimal, 0x hex or 0 octal, optionally negative.</summary>
        public static bool TryParseNumber(string text, out long value)
        {
            value = 0;
            bool negative = text.StartsWith("-", System.StringComparison.Ordinal);
            string t = negative ? text.Substring(1) : text;
            int radix = 10;
            if (t.StartsWith("0x", System.StringComparison.OrdinalIgnoreCase)) { radix = 16; t = t.Substring(2); }
            else if (t.Length > 1 && t[0] == '0') { radix = 8; t = t.Substring(1); }
            if (t.Length == 0) return false;
            long acc = 0;
            foreach (char ch in t)
            {
                int d = ch >= '0' && ch <= '9' ? ch - '0' : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : ch >= 'A' && ch <= 'F' ? ch - 'A' + 10 : 99;
                if (d >= radix) return false;
                if (acc > (long.MaxValue - d) / radix) return false;
                acc = acc * radix + d;
            }
            value = negative ? -acc : acc;
            return true;
        }
    }
}
