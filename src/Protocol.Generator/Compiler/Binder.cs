using System.Collections.Generic;

namespace VirtNetworkd.Protocol.Generator.Compiler
{
    /// <summary>
    /// Resolves the parsed files as one unit: constants (with cycle detection), typedef chains,
    /// bounds, union discriminants and cases, C# names and their clashes, by-value recursion,
    /// and the procedure tables of each program.
    /// </summary>
    internal sealed class Binder
    {
        private readonly DiagnosticBag _diagnostics;
        private readonly Dictionary<string, Definition> _definitions = new Dictionary<string, Definition>();
        private readonly Dictionary<string, EnumMember> _enumMembers = new Dictionary<string, EnumMember>();
        private readonly Dictionary<EnumMember, EnumDef> _memberOwner = new Dictionary<EnumMember, EnumDef>();
        private readonly Dictionary<string, long> _constValues = new Dictionary<string, long>();
        private readonly HashSet<string> _resolving = new HashSet<string>();
        private readonly Dictionary<string, TypeSymbol> _types = new Dictionary<string, TypeSymbol>();
        private readonly Dictionary<string, FileScope> _scopeByFile = new Dictionary<string, FileScope>();
        private readonly string _rootNamespace;

        public Binder(string rootNamespace, DiagnosticBag diagnostics)
        {
            _rootNamespace = rootNamespace;
            _diagnostics = diagnostics;
            foreach (var kv in Prelude.Constants) _constValues[kv.Key] = kv.Value;
        }

        public List<FileScope> Bind(IList<XdrFile> files)
        {
            var scopes = new List<FileScope>();
            foreach (var f in files)
            {
                var scope = new FileScope(f.Path, _rootNamespace + "." + Naming.FileNamespace(f.Path));
                _scopeByFile[f.Path] = scope;
                scopes.Add(scope);
                foreach (var d in f.Definitions) Declare(d);
            }
            // type symbols first, so fields can refer to types defined later or in other files
            foreach (var f in files)
            {
                foreach (var d in f.Definitions) CreateTypeSymbol(d, _scopeByFile[f.Path]);
            }
            // enums before the rest: union cases are checked against their discriminant's members
            foreach (var f in files)
            {
                foreach (var d in f.Definitions)
                {
                    if (d is EnumDef) BindDefinition(d, _scopeByFile[f.Path]);
                }
            }
            foreach (var f in files)
            {
                var scope = _scopeByFile[f.Path];
                foreach (var d in f.Definitions)
                {
                    if (d is EnumDef) continue;
                    try
                    {
                        BindDefinition(d, scope);
                    }
                    catch (XdrCompileAbort)
                    {
                    }
                }
            }
            CheckRecursion();
            ComputeSizes();
            foreach (var f in files) BindPrograms(f, _scopeByFile[f.Path]);
            CheckNameClashes(scopes);
            return scopes;
        }

        private void Declare(Definition d)
        {
            if (_definitions.TryGetValue(d.Name, out var previous) || _enumMembers.ContainsKey(d.Name) || IsPreludeName(d.Name))
            {
                Report(DiagnosticIds.Duplicate, "'" + d.Name + "' is already defined" + (previous != null ? " at " + previous.At : ""), d.At);
                return;
            }
            _definitions[d.Name] = d;
            if (d is EnumDef e)
            {
                foreach (var m in e.Members)
                {
                    if (_definitions.ContainsKey(m.Name) || _enumMembers.ContainsKey(m.Name) || IsPreludeName(m.Name))
                    {
                        Report(DiagnosticIds.Duplicate, "'" + m.Name + "' is already defined", m.At);
                        continue;
                    }
                    _enumMembers[m.Name] = m;
                    _memberOwner[m] = e;
                }
            }
        }

        private static bool IsPreludeName(string name)
        {
            foreach (var kv in Prelude.Constants)
            {
                if (kv.Key == name) return true;
            }
            return false;
        }

        private void CreateTypeSymbol(Definition d, FileScope scope)
        {
            if (!_definitions.TryGetValue(d.Name, out var owner) || owner != d) return; // a duplicate
            TypeSymbol? sym = null;
            switch (d)
            {
                case EnumDef _: sym = new EnumSymbol(d.Name, Naming.TypeName(d.Name), scope, d.At); break;
                case StructDef _: sym = new StructSymbol(d.Name, Naming.TypeName(d.Name), scope, d.At); break;
                case UnionDef _: sym = new UnionSymbol(d.Name, Naming.TypeName(d.Name), scope, d.At); break;
                case TypedefDef _: sym = new TypedefSymbol(d.Name, Naming.TypeName(d.Name), scope, d.At); break;
            }
            if (sym != null)
            {
                _types[d.Name] = sym;
                scope.Types.Add(sym);
            }
        }

        private void BindDefinition(Definition d, FileScope scope)
        {
            if (!_definitions.TryGetValue(d.Name, out var owner) || owner != d) return;
            switch (d)
            {
                case ConstDef c:
                    scope.Constants.Add(new ConstSymbol(c.Name, Naming.ConstName(c.Name), ResolveConst(c.Name, c.At), c.At));
                    break;
                case EnumDef e:
                    BindEnum(e, (EnumSymbol)_types[e.Name]);
                    break;
                case StructDef s:
                {
                    var sym = (StructSymbol)_types[s.Name];
                    var seen = new HashSet<string>();
                    var csNames = new Dictionary<string, string>();
                    foreach (var f in s.Fields)
                    {
                        if (f.Kind == DeclKind.Void) { Report(DiagnosticIds.Syntax, "a struct member cannot be void", f.At); continue; }
                        if (!seen.Add(f.Name!)) { Report(DiagnosticIds.Duplicate, "member '" + f.Name + "' is declared twice", f.At); continue; }
                        string csName = MemberName(f.Name!, sym.CsName);
                        if (!ClaimMember(csNames, csName, f.Name!, f.At)) continue;
                        var shape = TryShape(f);
                        if (shape != null) sym.Fields.Add(new FieldSymbol(f.Name!, csName, shape));
                    }
                    break;
                }
                case UnionDef u:
                    BindUnion(u, (UnionSymbol)_types[u.Name]);
                    break;
                case TypedefDef t:
                {
                    var sym = (TypedefSymbol)_types[t.Name];
                    if (t.Declaration.Kind == DeclKind.Void) throw Fail(DiagnosticIds.Syntax, "a typedef cannot be void", t.At);
                    sym.Shape = ShapeOf(t.Declaration);
                    break;
                }
            }
        }

        private static string MemberName(string xdrName, string typeCsName)
        {
            string n = Naming.FieldName(xdrName);
            return n == typeCsName || n == "Encode" || n == "Decode" ? n + "Value" : n;
        }

        private void BindEnum(EnumDef e, EnumSymbol sym)
        {
            var names = new List<string>();
            foreach (var m in e.Members) names.Add(m.Name);
            var csNames = Naming.EnumMemberNames(names);
            var values = new Dictionary<long, string>();
            for (int i = 0; i < e.Members.Count; i++)
            {
                var m = e.Members[i];
                if (!_enumMembers.TryGetValue(m.Name, out var owned) || owned != m) continue;
                long v;
                try
                {
                    v = ResolveConst(m.Name, m.At);
                }
                catch (XdrCompileAbort)
                {
                    continue;
                }
                if (v < int.MinValue || v > int.MaxValue)
                {
                    Report(DiagnosticIds.BadBound, "enum value " + v + " of '" + m.Name + "' does not fit in 32 bits", m.At);
                    continue;
                }
                if (values.TryGetValue(v, out var other))
                {
                    Report(DiagnosticIds.Duplicate, "enum value " + v + " of '" + m.Name + "' is already used by '" + other + "'", m.At);
                    continue;
                }
                values[v] = m.Name;
                sym.Members.Add(new EnumMemberSymbol(m.Name, csNames[i], v, m.Doc));
            }
        }

        private void BindUnion(UnionDef u, UnionSymbol sym)
        {
            var disc = u.Discriminant;
            if (disc.Kind != DeclKind.Scalar || disc.Name == null)
                throw Fail(DiagnosticIds.BadDiscriminant, "a union discriminant must be a plain int, unsigned int, bool or enum", disc.At);
            var discShape = ShapeOf(disc);
            EnumSymbol? discEnum = null;
            if (discShape is NamedShape ns && ns.Symbol is EnumSymbol es) discEnum = es;
            else if (!(discShape is PrimitiveShape ps && (ps.Kind == BaseKind.Int || ps.Kind == BaseKind.UInt || ps.Kind == BaseKind.Bool)))
                throw Fail(DiagnosticIds.BadDiscriminant, "a union discriminant must be int, unsigned int, bool or an enum", disc.At);
            sym.Discriminant = new FieldSymbol(disc.Name, MemberName(disc.Name, sym.CsName), discShape);

            var seenValues = new HashSet<long>();
            var seenNames = new HashSet<string> { disc.Name };
            var csNames = new Dictionary<string, string> { [sym.Discriminant.CsName] = disc.Name };
            foreach (var c in u.Cases)
            {
                var values = new List<long>();
                foreach (var v in c.Values)
                {
                    long value;
                    try
                    {
                        value = ResolveValue(v);
                    }
                    catch (XdrCompileAbort)
                    {
                        continue;
                    }
                    if (discEnum != null && !discEnum.Members.Exists(m => m.Value == value))
                        Report(DiagnosticIds.BadDiscriminant, "case " + v + " is not a value of enum '" + discEnum.Name + "'", v.At);
                    else if (discShape is PrimitiveShape dp && !FitsDiscriminant(dp.Kind, value))
                        Report(DiagnosticIds.BadDiscriminant, "case " + v + (v.Name != null ? " (" + value + ")" : "") + " is out of range for a discriminant of type " + (dp.Kind == BaseKind.UInt ? "unsigned int" : dp.Kind.ToString().ToLowerInvariant()), v.At);
                    if (!seenValues.Add(value)) Report(DiagnosticIds.DuplicateCase, "case " + v + " appears twice", v.At);
                    values.Add(value);
                }
                sym.Arms.Add(new UnionArmSymbol(values, ArmField(c.Arm, sym, seenNames, csNames)));
            }
            if (u.DefaultArm != null) sym.Default = new UnionArmSymbol(new List<long>(), ArmField(u.DefaultArm, sym, seenNames, csNames));
        }

        private static bool FitsDiscriminant(BaseKind kind, long value)
        {
            switch (kind)
            {
                case BaseKind.Int: return value >= int.MinValue && value <= int.MaxValue;
                case BaseKind.UInt: return value >= 0 && value <= uint.MaxValue;
                case BaseKind.Bool: return value == 0 || value == 1;
                default: return true;
            }
        }

        private FieldSymbol? ArmField(Declaration arm, UnionSymbol sym, HashSet<string> seenNames, Dictionary<string, string> csNames)
        {
            if (arm.Kind == DeclKind.Void) return null;
            if (!seenNames.Add(arm.Name!)) throw Fail(DiagnosticIds.Duplicate, "arm '" + arm.Name + "' is declared twice", arm.At);
            string csName = MemberName(arm.Name!, sym.CsName);
            if (!ClaimMember(csNames, csName, arm.Name!, arm.At)) throw new XdrCompileAbort();
            return new FieldSymbol(arm.Name!, csName, ShapeOf(arm));
        }

        /// <summary>Two members of one struct or union must not become one C# field
        /// (<c>a_b</c> and <c>aB</c> are both <c>AB</c>).</summary>
        private bool ClaimMember(Dictionary<string, string> csNames, string csName, string xdrName, SourceLocation at)
        {
            if (csNames.TryGetValue(csName, out var other))
            {
                Report(DiagnosticIds.NameClash, "members '" + xdrName + "' and '" + other + "' both become C# name '" + csName + "'", at);
                return false;
            }
            csNames[csName] = xdrName;
            return true;
        }

        private Shape? TryShape(Declaration d)
        {
            try
            {
                return ShapeOf(d);
            }
            catch (XdrCompileAbort)
            {
                return null;
            }
        }

        /// <summary>The wire shape of a declaration, typedefs resolved.</summary>
        private Shape ShapeOf(Declaration d)
        {
            switch (d.Type.Kind)
            {
                case BaseKind.String:
                    return new StringShape(Bound(d, isFixed: false));
                case BaseKind.Opaque:
                    return new OpaqueShape(d.Kind == DeclKind.FixedArray, Bound(d, d.Kind == DeclKind.FixedArray));
            }
            Shape element = BaseShape(d.Type);
            switch (d.Kind)
            {
                case DeclKind.Scalar: return element;
                case DeclKind.Optional:
                    if (element is OptionalShape) throw Fail(DiagnosticIds.Unsupported, "optional data of optional data is not supported", d.At);
                    return new OptionalShape(element);
                case DeclKind.FixedArray: return new ArrayShape(element, true, Bound(d, true));
                case DeclKind.VarArray: return new ArrayShape(element, false, Bound(d, false));
                default: throw Fail(DiagnosticIds.Syntax, "void is not allowed here", d.At);
            }
        }

        private Shape BaseShape(TypeSpec t)
        {
            if (t.Kind != BaseKind.Named) return new PrimitiveShape(t.Kind);
            if (!_types.TryGetValue(t.Name!, out var sym))
            {
                if (_definitions.ContainsKey(t.Name!) || _enumMembers.ContainsKey(t.Name!) || _constValues.ContainsKey(t.Name!))
                    throw Fail(DiagnosticIds.NotAType, "'" + t.Name + "' is a constant, not a type", t.At);
                throw Fail(DiagnosticIds.UndefinedName, "undefined type '" + t.Name + "'", t.At);
            }
            if (sym is TypedefSymbol td)
            {
                if (td.Shape == null)
                {
                    // typedef used before its own definition was bound: bind it now
                    var def = (TypedefDef)_definitions[td.Name];
                    if (!_resolving.Add("typedef:" + td.Name)) throw Fail(DiagnosticIds.RecursiveType, "typedef '" + td.Name + "' refers to itself", t.At);
                    try
                    {
                        td.Shape = ShapeOf(def.Declaration);
                    }
                    finally
                    {
                        _resolving.Remove("typedef:" + td.Name);
                    }
                }
                return td.Shape;
            }
            return new NamedShape(sym);
        }

        private uint Bound(Declaration d, bool isFixed)
        {
            if (d.Bound == null)
            {
                if (isFixed) throw Fail(DiagnosticIds.BadBound, "a fixed-size array needs a size", d.At);
                return uint.MaxValue;
            }
            long v = ResolveValue(d.Bound);
            if (isFixed && (v <= 0 || v > int.MaxValue)) throw Fail(DiagnosticIds.BadBound, "array size " + v + " must be between 1 and " + int.MaxValue, d.Bound.At);
            if (!isFixed && (v < 0 || v > uint.MaxValue)) throw Fail(DiagnosticIds.BadBound, "maximum " + v + " must be between 0 and " + uint.MaxValue, d.Bound.At);
            return (uint)v;
        }

        private long ResolveValue(ValueRef v) => v.Literal ?? ResolveConst(v.Name!, v.At);

        private long ResolveConst(string name, SourceLocation at)
        {
            if (_constValues.TryGetValue(name, out long known)) return known;
            ValueRef? expr = null;
            if (_definitions.TryGetValue(name, out var def))
            {
                if (def is ConstDef c) expr = c.Value;
                else throw Fail(DiagnosticIds.NotAConstant, "'" + name + "' is a type, not a constant", at);
            }
            else if (_enumMembers.TryGetValue(name, out var m))
            {
                expr = m.Value;
            }
            if (expr == null) throw Fail(DiagnosticIds.UndefinedName, "undefined constant '" + name + "'", at);
            if (!_resolving.Add(name)) throw Fail(DiagnosticIds.CircularConstant, "constant '" + name + "' depends on itself", at);
            try
            {
                long value;
                if (expr.Name != null && expr.Name.StartsWith("+1:", System.StringComparison.Ordinal))
                    value = ResolveConst(expr.Name.Substring(3), expr.At) + 1;
                else
                    value = ResolveValue(expr);
                _constValues[name] = value;
                return value;
            }
            finally
            {
                _resolving.Remove(name);
            }
        }

        /// <summary>Generated structs are C# value types: a type that holds itself by value
        /// (directly, through a union arm or optional data) cannot be laid out.</summary>
        private void CheckRecursion()
        {
            var state = new Dictionary<TypeSymbol, int>();
            foreach (var t in _types.Values) Visit(t, state);
        }

        private void Visit(TypeSymbol t, Dictionary<TypeSymbol, int> state)
        {
            if (state.TryGetValue(t, out int s))
            {
                if (s == 1) Report(DiagnosticIds.RecursiveType, "type '" + t.Name + "' contains itself by value; only arrays may refer back to it", t.At);
                return;
            }
            state[t] = 1;
            foreach (var f in ByValueFields(t))
            {
                var inner = ByValueTarget(f.Shape);
                if (inner != null) Visit(inner, state);
            }
            state[t] = 2;
        }

        private static IEnumerable<FieldSymbol> ByValueFields(TypeSymbol t)
        {
            if (t is StructSymbol s) return s.Fields;
            if (t is UnionSymbol u)
            {
                var list = new List<FieldSymbol>();
                foreach (var a in u.Arms) if (a.Field != null) list.Add(a.Field);
                if (u.Default?.Field != null) list.Add(u.Default.Field);
                return list;
            }
            return new FieldSymbol[0];
        }

        private static TypeSymbol? ByValueTarget(Shape shape)
        {
            if (shape is NamedShape n) return n.Symbol;
            if (shape is OptionalShape o) return ByValueTarget(o.Element);
            return null;
        }

        private void ComputeSizes()
        {
            var done = new HashSet<TypeSymbol>();
            foreach (var t in _types.Values) Size(t, done, 0);
        }

        private long Size(TypeSymbol t, HashSet<TypeSymbol> done, int depth)
        {
            if (done.Contains(t) || depth > 64) return t.MinWireSize;
            long size;
            switch (t)
            {
                case StructSymbol s:
                    size = 0;
                    foreach (var f in s.Fields) size += ShapeSize(f.Shape, done, depth);
                    break;
                case UnionSymbol u:
                {
                    long min = long.MaxValue;
                    foreach (var a in u.Arms) min = System.Math.Min(min, a.Field == null ? 0 : ShapeSize(a.Field.Shape, done, depth));
                    if (u.Default != null) min = System.Math.Min(min, u.Default.Field == null ? 0 : ShapeSize(u.Default.Field.Shape, done, depth));
                    size = 4 + (min == long.MaxValue ? 0 : min);
                    break;
                }
                case TypedefSymbol td:
                    size = td.Shape == null ? 4 : ShapeSize(td.Shape, done, depth);
                    break;
                default:
                    size = 4;
                    break;
            }
            t.MinWireSize = size;
            done.Add(t);
            return size;
        }

        private long ShapeSize(Shape shape, HashSet<TypeSymbol> done, int depth)
        {
            switch (shape)
            {
                case NamedShape n: return Size(n.Symbol, done, depth + 1);
                case ArrayShape a when a.IsFixed: return a.Size * ShapeSize(a.Element, done, depth + 1);
                default: return shape.MinWireSize;
            }
        }

        /// <summary>
        /// A program comes from either an RFC 5531 program block or libvirt's convention: an enum
        /// named *_procedure whose members are PREFIX_PROC_*, with constants PREFIX_PROGRAM and
        /// PREFIX_PROTOCOL_VERSION.
        /// </summary>
        private void BindPrograms(XdrFile file, FileScope scope)
        {
            foreach (var d in file.Definitions)
            {
                if (d is EnumDef e && e.Name.EndsWith("_procedure", System.StringComparison.Ordinal) && e.Members.Count > 0
                    && _types.TryGetValue(e.Name, out var es) && es is EnumSymbol enumSym)
                {
                    BindProcedureEnum(e, enumSym, scope);
                }
                else if (d is ProgramDef p && _definitions.TryGetValue(p.Name, out var owner) && owner == d)
                {
                    BindProgramBlock(p, scope);
                }
            }
        }

        private void BindProcedureEnum(EnumDef e, EnumSymbol enumSym, FileScope scope)
        {
            string first = e.Members[0].Name;
            int at = first.IndexOf("_PROC_", System.StringComparison.Ordinal);
            if (at <= 0) return; // an enum that merely ends in _procedure
            string prefix = first.Substring(0, at);
            long number, version;
            try
            {
                number = ResolveConst(prefix + "_PROGRAM", e.At);
                version = ResolveConst(prefix + "_PROTOCOL_VERSION", e.At);
            }
            catch (XdrCompileAbort)
            {
                return;
            }
            if (!InProgramRange(number, "program number", DefinitionAt(prefix + "_PROGRAM", e.At))
                || !InProgramRange(version, "version", DefinitionAt(prefix + "_PROTOCOL_VERSION", e.At)))
                return;
            var program = new ProgramSymbol(Naming.TypeName(prefix.ToLowerInvariant()) + "Program", e.Name, number, version) { ProcedureEnum = enumSym };
            string typePrefix = prefix.ToLowerInvariant() + "_";
            foreach (var m in enumSym.Members)
            {
                if (!m.Name.StartsWith(prefix + "_PROC_", System.StringComparison.Ordinal))
                {
                    Report(DiagnosticIds.BadProgram, "procedure '" + m.Name + "' does not start with " + prefix + "_PROC_", e.At);
                    continue;
                }
                if (m.Value < 0)
                {
                    var member = e.Members.Find(x => x.Name == m.Name);
                    Report(DiagnosticIds.BadProgram, "procedure '" + m.Name + "' has the negative number " + m.Value, member != null ? member.At : e.At);
                    continue;
                }
                var proc = new ProcedureSymbol(m.Name, m.CsName, m.Value);
                string stem = typePrefix + m.Name.Substring(prefix.Length + "_PROC_".Length).ToLowerInvariant();
                proc.Args = LookupType(stem + "_args");
                proc.Ret = LookupType(stem + "_ret");
                proc.Msg = LookupType(stem + "_msg");
                ApplyAnnotations(proc, m.Doc);
                program.Procedures.Add(proc);
            }
            scope.Programs.Add(program);
        }

        /// <summary>Program and version numbers are unsigned 32-bit on the wire (RFC 5531).</summary>
        private bool InProgramRange(long value, string what, SourceLocation at)
        {
            if (value >= 0 && value <= uint.MaxValue) return true;
            Report(DiagnosticIds.BadProgram, what + " " + value + " must be between 0 and " + uint.MaxValue, at);
            return false;
        }

        private SourceLocation DefinitionAt(string name, SourceLocation fallback) =>
            _definitions.TryGetValue(name, out var d) ? d.At : fallback;

        private TypeSymbol? LookupType(string name) => _types.TryGetValue(name, out var t) ? t : null;

        private void BindProgramBlock(ProgramDef p, FileScope scope)
        {
            long number;
            try
            {
                number = ResolveValue(p.Number);
            }
            catch (XdrCompileAbort)
            {
                return;
            }
            if (!InProgramRange(number, "program number", p.Number.At)) return;
            foreach (var v in p.Versions)
            {
                long version;
                try
                {
                    version = ResolveValue(v.Number);
                }
                catch (XdrCompileAbort)
                {
                    continue;
                }
                if (!InProgramRange(version, "version", v.Number.At)) continue;
                var program = new ProgramSymbol(Naming.ConstName(v.Name) + "Program", "program " + p.Name + " version " + v.Name, number, version);
                var seen = new HashSet<long>();
                foreach (var proc in v.Procedures)
                {
                    long n;
                    try
                    {
                        n = ResolveValue(proc.Number);
                    }
                    catch (XdrCompileAbort)
                    {
                        continue;
                    }
                    if (n < 0 || n > int.MaxValue)
                    {
                        Report(DiagnosticIds.BadProgram, "procedure number " + n + " must be between 0 and " + int.MaxValue, proc.Number.At);
                        continue;
                    }
                    if (!seen.Add(n)) Report(DiagnosticIds.Duplicate, "procedure number " + n + " is used twice in " + v.Name, proc.At);
                    var sym = new ProcedureSymbol(proc.Name, Naming.ConstName(proc.Name), n);
                    if (proc.Args.Count > 1) Report(DiagnosticIds.Unsupported, "procedures with more than one argument are not supported", proc.At);
                    sym.Args = ProcType(proc.Args[0]);
                    sym.Ret = ProcType(proc.Result);
                    ApplyAnnotations(sym, proc.Doc);
                    program.Procedures.Add(sym);
                }
                scope.Programs.Add(program);
            }
        }

        private TypeSymbol? ProcType(TypeSpec t)
        {
            if (t.Kind == BaseKind.Void) return null;
            if (t.Kind != BaseKind.Named)
            {
                Report(DiagnosticIds.Unsupported, "procedure arguments and results must be void or a named type", t.At);
                return null;
            }
            if (!_types.TryGetValue(t.Name!, out var sym))
            {
                Report(DiagnosticIds.UndefinedName, "undefined type '" + t.Name + "'", t.At);
                return null;
            }
            return sym;
        }

        /// <summary>Reads <c>@key: value</c> annotations (libvirt's multi-line form or our one-line form).</summary>
        private static void ApplyAnnotations(ProcedureSymbol proc, string? doc)
        {
            if (doc == null) return;
            int i = 0;
            while ((i = doc.IndexOf('@', i)) >= 0)
            {
                int k = i + 1;
                while (k < doc.Length && (char.IsLetterOrDigit(doc[k]) || doc[k] == '_')) k++;
                string key = doc.Substring(i + 1, k - i - 1);
                if (k < doc.Length && doc[k] == ':') k++;
                while (k < doc.Length && (doc[k] == ' ' || doc[k] == '\t')) k++;
                int vs = k;
                while (k < doc.Length && !char.IsWhiteSpace(doc[k]) && doc[k] != '@') k++;
                string value = doc.Substring(vs, k - vs).TrimEnd('*', '/');
                switch (key)
                {
                    case "api": if (value.Length > 0) proc.ApiName = value; break;
                    case "priority": proc.HighPriority = value == "high"; break;
                    case "acl": if (value.Length > 0) proc.Acl.Add(value); break;
                    case "readstream":
                    case "writestream":
                        proc.Stream = true;
                        break;
                }
                i = k;
            }
            proc.ReadOnly = IsReadOnlyAcl(proc.Acl);
        }

        /// <summary>
        /// A read-only (anonymous) client holds the permissions getattr, read and search_* (libvirt's
        /// viraccessperm.h marks exactly these @anonymous); a procedure is allowed on a read-only
        /// connection when every unconditional permission it needs is one of those.
        /// Permissions that depend on flags (object:perm:FLAG) are left to the handler.
        /// </summary>
        internal static bool IsReadOnlyAcl(List<string> acl)
        {
            if (acl.Count == 0) return false;
            foreach (var a in acl)
            {
                if (a == "none") continue;
                var parts = a.Split(':');
                if (parts.Length >= 3) continue;
                if (parts.Length < 2) return false;
                string perm = parts[1];
                if (perm != "getattr" && perm != "read" && !perm.StartsWith("search_", System.StringComparison.Ordinal)) return false;
            }
            return true;
        }

        private void CheckNameClashes(List<FileScope> scopes)
        {
            foreach (var s in scopes)
            {
                var names = new Dictionary<string, string>();
                foreach (var t in s.Types) Claim(names, t.CsName, t.Name, t.At);
                foreach (var t in s.Types)
                {
                    if (t is EnumSymbol e && !(t is TypedefSymbol)) Claim(names, e.CsName + "Xdr", e.Name + " (codec)", t.At);
                }
                foreach (var p in s.Programs) Claim(names, p.CsName, p.Label, new SourceLocation(s.Path, 1, 1));
                Claim(names, "Constants", "(constants class)", new SourceLocation(s.Path, 1, 1));
                foreach (var t in s.Types)
                {
                    // a struct, union or typedef carries static Encode and Decode methods: C# forbids
                    // a member named like its type (CS0542)
                    if (!(t is EnumSymbol) && (t.CsName == "Encode" || t.CsName == "Decode"))
                        Report(DiagnosticIds.NameClash, "'" + t.Name + "' becomes C# type '" + t.CsName + "', the name of its own codec method", t.At);
                }
                var consts = new Dictionary<string, string>();
                Claim(consts, "Constants", "(constants class)", new SourceLocation(s.Path, 1, 1));
                foreach (var c in s.Constants) Claim(consts, c.CsName, c.Name, c.At);
                foreach (var t in s.Types)
                {
                    if (t is EnumSymbol e)
                    {
                        var members = new Dictionary<string, string>();
                        foreach (var m in e.Members) Claim(members, m.CsName, m.Name, t.At);
                    }
                }
            }
        }

        private void Claim(Dictionary<string, string> names, string csName, string xdrName, SourceLocation at)
        {
            if (names.TryGetValue(csName, out var other))
            {
                Report(DiagnosticIds.NameClash, "'" + xdrName + "' and '" + other + "' both become C# name '" + csName + "'", at);
                return;
            }
            names[csName] = xdrName;
        }

        private void Report(string id, string message, SourceLocation at) => _diagnostics.Add(id, message, at);

        private XdrCompileAbort Fail(string id, string message, SourceLocation at)
        {
            Report(id, message, at);
            return new XdrCompileAbort();
        }
    }
}
