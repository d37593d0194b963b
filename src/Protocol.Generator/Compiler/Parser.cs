using System.Collections.Generic;

namespace VirtNetworkd.Protocol.Generator.Compiler
{
    /// <summary>
    /// Recursive-descent parser for RFC 4506 XDR with the rpcgen extensions libvirt uses
    /// (bare <c>unsigned</c>, <c>char</c>/<c>short</c>, enum members without values,
    /// <c>typedef struct {…} name;</c>) and RFC 5531 program/version blocks. A syntax error is
    /// reported and the parser resumes at the next top-level definition.
    /// </summary>
    internal sealed class Parser
    {
        private readonly List<Token> _tokens;
        private readonly string _file;
        private readonly DiagnosticBag _diagnostics;
        private int _pos;

        public Parser(string file, List<Token> tokens, DiagnosticBag diagnostics)
        {
            _file = file;
            _tokens = tokens;
            _diagnostics = diagnostics;
        }

        private Token Current => _tokens[_pos];

        public XdrFile ParseFile()
        {
            var defs = new List<Definition>();
            while (Current.Kind != TokenKind.End)
            {
                int start = _pos;
                try
                {
                    defs.Add(ParseDefinition());
                }
                catch (XdrCompileAbort)
                {
                    Recover(start);
                }
            }
            return new XdrFile(_file, defs);
        }

        private void Recover(int start)
        {
            // count the braces the broken definition already opened, so that its own closing
            // '}' and ';' are skipped with it rather than parsed as a definition of their own
            int depth = 0;
            for (int i = start; i < _pos; i++)
            {
                if (_tokens[i].Is("{")) depth++;
                else if (_tokens[i].Is("}")) depth--;
            }
            if (_pos == start) _pos++;
            while (Current.Kind != TokenKind.End)
            {
                // a definition keyword opening a line at top level: the ';' before it was missing
                if (depth <= 0 && IsDefinitionKeyword(Current) && _tokens[_pos - 1].At.Line < Current.At.Line) return;
                if (Current.Is("{")) depth++;
                else if (Current.Is("}")) depth--;
                else if (Current.Is(";") && depth <= 0)
                {
                    _pos++;
                    return;
                }
                _pos++;
            }
        }

        private static bool IsDefinitionKeyword(Token t) =>
            t.Kind == TokenKind.Identifier && (t.Text == "const" || t.Text == "typedef" || t.Text == "enum"
                || t.Text == "struct" || t.Text == "union" || t.Text == "program");

        private Definition ParseDefinition()
        {
            var t = Current;
            switch (t.Kind == TokenKind.Identifier ? t.Text : "")
            {
                case "const":
                {
                    _pos++;
                    var name = ExpectIdentifier();
                    Expect("=");
                    var value = ParseValue();
                    Expect(";");
                    return new ConstDef(name.Text, value, name.At, _file);
                }
                case "typedef":
                {
                    _pos++;
                    var decl = ParseDeclaration(allowInlineNamed: true, out var inline);
                    Expect(";");
                    if (inline != null) return inline;
                    if (decl.Name == null) throw Error(t.At, "a typedef needs a name");
                    return new TypedefDef(decl.Name, decl, decl.At, _file);
                }
                case "enum":
                {
                    _pos++;
                    var name = ExpectIdentifier();
                    var members = ParseEnumBody();
                    Expect(";");
                    return new EnumDef(name.Text, members, name.At, _file);
                }
                case "struct":
                {
                    _pos++;
                    var name = ExpectIdentifier();
                    var fields = ParseStructBody();
                    Expect(";");
                    return new StructDef(name.Text, fields, name.At, _file);
                }
                case "union":
                {
                    _pos++;
                    var name = ExpectIdentifier();
                    var u = ParseUnionBody(name.Text, name.At);
                    Expect(";");
                    return u;
                }
                case "program":
                    return ParseProgram();
                default:
                    throw Error(t.At, "expected a definition (const, typedef, enum, struct, union or program) but found " + t);
            }
        }

        private List<EnumMember> ParseEnumBody()
        {
            Expect("{");
            var members = new List<EnumMember>();
            EnumMember? previous = null;
            do
            {
                var name = ExpectIdentifier();
                ValueRef value;
                if (Accept("="))
                {
                    value = ParseValue();
                }
                else if (previous == null)
                {
                    value = new ValueRef(0, null, name.At);
                }
                else
                {
                    // rpcgen: a member without a value follows the previous one
                    value = new ValueRef(null, "+1:" + previous.Name, name.At);
                }
                previous = new EnumMember(name.Text, value, name.Doc, name.At);
                members.Add(previous);
            }
            while (Accept(",") && !Current.Is("}"));
            Expect("}");
            return members;
        }

        private List<Declaration> ParseStructBody()
        {
            Expect("{");
            var fields = new List<Declaration>();
            while (!Current.Is("}"))
            {
                fields.Add(ParseDeclaration(allowInlineNamed: false, out _));
                Expect(";");
            }
            Expect("}");
            if (fields.Count == 0) throw Error(Current.At, "a struct needs at least one member");
            return fields;
        }

        private UnionDef ParseUnionBody(string name, SourceLocation at)
        {
            Expect("switch");
            Expect("(");
            var disc = ParseDeclaration(allowInlineNamed: false, out _);
            Expect(")");
            Expect("{");
            var cases = new List<UnionCase>();
            Declaration? defaultArm = null;
            while (!Current.Is("}"))
            {
                if (Accept("default"))
                {
                    Expect(":");
                    if (defaultArm != null) throw Error(Current.At, "a union has one default arm at most");
                    defaultArm = ParseDeclaration(allowInlineNamed: false, out _);
                    Expect(";");
                    continue;
                }
                var values = new List<ValueRef>();
                while (Accept("case"))
                {
                    values.Add(ParseValue());
                    Expect(":");
                }
                if (values.Count == 0) throw Error(Current.At, "expected 'case', 'default' or '}' but found " + Current);
                var arm = ParseDeclaration(allowInlineNamed: false, out _);
                Expect(";");
                cases.Add(new UnionCase(values, arm));
            }
            Expect("}");
            return new UnionDef(name, disc, cases, defaultArm, at, _file);
        }

        private ProgramDef ParseProgram()
        {
            Expect("program");
            var name = ExpectIdentifier();
            Expect("{");
            var versions = new List<VersionDef>();
            while (Accept("version"))
            {
                var vname = ExpectIdentifier();
                Expect("{");
                var procs = new List<ProcedureDef>();
                while (!Current.Is("}"))
                {
                    var doc = Current.Doc;
                    var result = ParseTypeSpecifier(allowVoid: true);
                    var pname = ExpectIdentifier();
                    Expect("(");
                    var args = new List<TypeSpec> { ParseTypeSpecifier(allowVoid: true) };
                    while (Accept(",")) args.Add(ParseTypeSpecifier(allowVoid: false));
                    Expect(")");
                    Expect("=");
                    var number = ParseValue();
                    Expect(";");
                    procs.Add(new ProcedureDef(pname.Text, result, args, number, doc, pname.At));
                }
                Expect("}");
                Expect("=");
                var vnum = ParseValue();
                Expect(";");
                versions.Add(new VersionDef(vname.Text, procs, vnum, vname.At));
            }
            Expect("}");
            Expect("=");
            var pnum = ParseValue();
            Expect(";");
            if (versions.Count == 0) throw Error(name.At, "a program needs at least one version");
            return new ProgramDef(name.Text, versions, pnum, name.At, _file);
        }

        /// <summary>Parses a declaration. In a typedef, <c>typedef struct {…} name;</c> (and enum,
        /// union) defines a named type, returned in <paramref name="inline"/>.</summary>
        private Declaration ParseDeclaration(bool allowInlineNamed, out Definition? inline)
        {
            inline = null;
            var start = Current;
            if (Accept("void")) return new Declaration(new TypeSpec(BaseKind.Void, null, start.At), null, DeclKind.Void, null, start.At);

            if (Current.Is("struct") || Current.Is("enum") || Current.Is("union"))
            {
                var next = _tokens[_pos + 1];
                if (next.Is("{") || next.Is("switch"))
                {
                    if (!allowInlineNamed) throw Unsupported(start.At, "anonymous inline " + start.Text + " types are not supported; give the type a name");
                    string kw = start.Text;
                    _pos++;
                    if (kw == "struct")
                    {
                        var fields = ParseStructBody();
                        var n = ExpectIdentifier();
                        inline = new StructDef(n.Text, fields, n.At, _file);
                    }
                    else if (kw == "enum")
                    {
                        var members = ParseEnumBody();
                        var n = ExpectIdentifier();
                        inline = new EnumDef(n.Text, members, n.At, _file);
                    }
                    else
                    {
                        var u = ParseUnionBody("", start.At);
                        var n = ExpectIdentifier();
                        inline = new UnionDef(n.Text, u.Discriminant, u.Cases, u.DefaultArm, n.At, _file);
                    }
                    return new Declaration(new TypeSpec(BaseKind.Named, inline.Name, inline.At), inline.Name, DeclKind.Scalar, null, inline.At);
                }
            }

            if (Current.Is("opaque") || Current.Is("string"))
            {
                var kwTok = Current;
                _pos++;
                var kind = kwTok.Text == "opaque" ? BaseKind.Opaque : BaseKind.String;
                var n = ExpectIdentifier();
                var spec = new TypeSpec(kind, null, kwTok.At);
                if (Accept("["))
                {
                    if (kind == BaseKind.String) throw Error(n.At, "a string takes a maximum <N>, not a fixed size [N]");
                    var size = ParseValue();
                    Expect("]");
                    return new Declaration(spec, n.Text, DeclKind.FixedArray, size, n.At);
                }
                Expect("<");
                ValueRef? max = Current.Is(">") ? null : ParseValue();
                Expect(">");
                return new Declaration(spec, n.Text, DeclKind.VarArray, max, n.At);
            }

            var type = ParseTypeSpecifier(allowVoid: false);
            if (Accept("*"))
            {
                var n = ExpectIdentifier();
                return new Declaration(type, n.Text, DeclKind.Optional, null, n.At);
            }
            var id = ExpectIdentifier();
            if (Accept("["))
            {
                var size = ParseValue();
                Expect("]");
                return new Declaration(type, id.Text, DeclKind.FixedArray, size, id.At);
            }
            if (Accept("<"))
            {
                ValueRef? max = Current.Is(">") ? null : ParseValue();
                Expect(">");
                return new Declaration(type, id.Text, DeclKind.VarArray, max, id.At);
            }
            return new Declaration(type, id.Text, DeclKind.Scalar, null, id.At);
        }

        private TypeSpec ParseTypeSpecifier(bool allowVoid)
        {
            var t = Current;
            if (t.Kind != TokenKind.Identifier) throw Error(t.At, "expected a type but found " + t);
            _pos++;
            switch (t.Text)
            {
                case "void":
                    if (!allowVoid) throw Error(t.At, "void is not allowed here");
                    return new TypeSpec(BaseKind.Void, null, t.At);
                case "unsigned":
                    if (Accept("int") || Accept("long")) return new TypeSpec(BaseKind.UInt, null, t.At);
                    if (Accept("hyper")) return new TypeSpec(BaseKind.UHyper, null, t.At);
                    if (Accept("char")) return new TypeSpec(BaseKind.UChar, null, t.At);
                    if (Accept("short")) return new TypeSpec(BaseKind.UShort, null, t.At);
                    return new TypeSpec(BaseKind.UInt, null, t.At);
                case "int":
                case "long":
                    return new TypeSpec(BaseKind.Int, null, t.At);
                case "hyper": return new TypeSpec(BaseKind.Hyper, null, t.At);
                case "char": return new TypeSpec(BaseKind.Char, null, t.At);
                case "short": return new TypeSpec(BaseKind.Short, null, t.At);
                case "float": return new TypeSpec(BaseKind.Float, null, t.At);
                case "double": return new TypeSpec(BaseKind.Double, null, t.At);
                case "bool":
                case "bool_t":
                    return new TypeSpec(BaseKind.Bool, null, t.At);
                case "quadruple":
                    throw Unsupported(t.At, "quadruple is not supported (no 128-bit float in .NET's XDR mapping)");
                case "string":
                case "opaque":
                    throw Error(t.At, t.Text + " must be declared as '" + t.Text + " name<N>'");
                case "struct":
                case "enum":
                case "union":
                {
                    if (Current.Is("{") || Current.Is("switch"))
                        throw Unsupported(t.At, "anonymous inline " + t.Text + " types are not supported; give the type a name");
                    var n = ExpectIdentifier();
                    return new TypeSpec(BaseKind.Named, n.Text, n.At);
                }
                default:
                    if (IsKeyword(t.Text)) throw Error(t.At, "expected a type but found keyword '" + t.Text + "'");
                    return new TypeSpec(BaseKind.Named, t.Text, t.At);
            }
        }

        private static bool IsKeyword(string s)
        {
            switch (s)
            {
                case "const": case "typedef": case "switch": case "case": case "default":
                case "program": case "version":
                    return true;
                default:
                    return false;
            }
        }

        private ValueRef ParseValue()
        {
            var t = Current;
            if (t.Kind == TokenKind.Number)
            {
                _pos++;
                if (!Lexer.TryParseNumber(t.Text, out long v))
                {
                    _diagnostics.Add(DiagnosticIds.BadNumber, "invalid number '" + t.Text + "'", t.At);
                    throw new XdrCompileAbort();
                }
                return new ValueRef(v, null, t.At);
            }
            if (t.Kind == TokenKind.Identifier && !IsKeyword(t.Text))
            {
                _pos++;
                return new ValueRef(null, t.Text, t.At);
            }
            throw Error(t.At, "expected a number or constant name but found " + t);
        }

        private Token ExpectIdentifier()
        {
            var t = Current;
            if (t.Kind != TokenKind.Identifier || IsKeyword(t.Text)) throw Error(t.At, "expected a name but found " + t);
            _pos++;
            return t;
        }

        private void Expect(string text)
        {
            if (!Accept(text)) throw Error(Current.At, "expected '" + text + "' but found " + Current);
        }

        private bool Accept(string text)
        {
            if (Current.Is(text))
            {
                _pos++;
                return true;
            }
            return false;
        }

        private XdrCompileAbort Error(SourceLocation at, string message)
        {
            _diagnostics.Add(DiagnosticIds.Syntax, message, at);
            return new XdrCompileAbort();
        }

        private XdrCompileAbort Unsupported(SourceLocation at, string message)
        {
            _diagnostics.Add(DiagnosticIds.Unsupported, message, at);
            return new XdrCompileAbort();
        }
    }
}
