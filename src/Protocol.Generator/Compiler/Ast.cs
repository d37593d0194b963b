using System.Collections.Generic;

namespace VirtNetworkd.Protocol.Generator.Compiler
{
    /// <summary>A constant or a reference to one (a named constant or enum member).</summary>
    internal sealed class ValueRef
    {
        public ValueRef(long? literal, string? name, SourceLocation at)
        {
            Literal = literal;
            Name = name;
            At = at;
        }

        public long? Literal { get; }
        public string? Name { get; }
        public SourceLocation At { get; }
        public override string ToString() => Name ?? (Literal.HasValue ? Literal.Value.ToString(System.Globalization.CultureInfo.InvariantCulture) : "");
    }

    internal enum BaseKind
    {
        Int, UInt, Hyper, UHyper, Char, UChar, Short, UShort, Float, Double, Bool,
        String, Opaque, Named, Void,
    }

    internal enum DeclKind
    {
        Scalar,
        FixedArray,
        VarArray,
        Optional,
        Void,
    }

    /// <summary>A type specifier: a base type or a reference to a named definition.</summary>
    internal sealed class TypeSpec
    {
        public TypeSpec(BaseKind kind, string? name, SourceLocation at)
        {
            Kind = kind;
            Name = name;
            At = at;
        }

        public BaseKind Kind { get; }
        public string? Name { get; }
        public SourceLocation At { get; }
    }

    /// <summary>One declaration: <c>type name</c>, <c>type name[N]</c>, <c>type name&lt;N&gt;</c>,
    /// <c>type *name</c>, <c>string name&lt;N&gt;</c>, <c>opaque name[N]</c> or <c>void</c>.</summary>
    internal sealed class Declaration
    {
        public Declaration(TypeSpec type, string? name, DeclKind kind, ValueRef? bound, SourceLocation at)
        {
            Type = type;
            Name = name;
            Kind = kind;
            Bound = bound;
            At = at;
        }

        public TypeSpec Type { get; }
        public string? Name { get; }
        public DeclKind Kind { get; }
        /// <summary>Array size (fixed) or maximum (variable); null means unbounded <c>&lt;&gt;</c>.</summary>
        public ValueRef? Bound { get; }
        public SourceLocation At { get; }
    }

    internal abstract class Definition
    {
        protected Definition(string name, SourceLocation at, string file)
        {
            Name = name;
            At = at;
            File = file;
        }

        public string Name { get; }
        public SourceLocation At { get; }
        public string File { get; }
    }

    internal sealed class ConstDef : Definition
    {
        public ConstDef(string name, ValueRef value, SourceLocation at, string file) : base(name, at, file) => Value = value;
        public ValueRef Value { get; }
    }

    internal sealed class EnumMember
    {
        public EnumMember(string name, ValueRef value, string? doc, SourceLocation at)
        {
            Name = name;
            Value = value;
            Doc = doc;
            At = at;
        }

        public string Name { get; }
        public ValueRef Value { get; }
        public string? Doc { get; }
        public SourceLocation At { get; }
    }

    internal sealed class EnumDef : Definition
    {
        public EnumDef(string name, List<EnumMember> members, SourceLocation at, string file) : base(name, at, file) => Members = members;
        public List<EnumMember> Members { get; }
    }

    internal sealed class StructDef : Definition
    {
        public StructDef(string name, List<Declaration> fields, SourceLocation at, string file) : base(name, at, file) => Fields = fields;
        public List<Declaration> Fields { get; }
    }

    internal sealed class UnionCase
    {
        public UnionCase(List<ValueRef> values, Declaration arm)
        {
            Values = values;
            Arm = arm;
        }

        public List<ValueRef> Values { get; }
        public Declaration Arm { get; }
    }

    internal sealed class UnionDef : Definition
    {
        public UnionDef(string name, Declaration discriminant, List<UnionCase> cases, Declaration? defaultArm, SourceLocation at, string file)
            : base(name, at, file)
        {
            Discriminant = discriminant;
            Cases = cases;
            DefaultArm = defaultArm;
        }

        public Declaration Discriminant { get; }
        public List<UnionCase> Cases { get; }
        public Declaration? DefaultArm { get; }
    }

    internal sealed class TypedefDef : Definition
    {
        public TypedefDef(string name, Declaration declaration, SourceLocation at, string file) : base(name, at, file) => Declaration = declaration;
        public Declaration Declaration { get; }
    }

    internal sealed class ProcedureDef
    {
        public ProcedureDef(string name, TypeSpec result, List<TypeSpec> args, ValueRef number, string? doc, SourceLocation at)
        {
            Name = name;
            Result = result;
            Args = args;
            Number = number;
            Doc = doc;
            At = at;
        }

        public string Name { get; }
        public TypeSpec Result { get; }
        public List<TypeSpec> Args { get; }
        public ValueRef Number { get; }
        public string? Doc { get; }
        public SourceLocation At { get; }
    }

    internal sealed class VersionDef
    {
        public VersionDef(string name, List<ProcedureDef> procedures, ValueRef number, SourceLocation at)
        {
            Name = name;
            Procedures = procedures;
            Number = number;
            At = at;
        }

        public string Name { get; }
        public List<ProcedureDef> Procedures { get; }
        public ValueRef Number { get; }
        public SourceLocation At { get; }
    }

    internal sealed class ProgramDef : Definition
    {
        public ProgramDef(string name, List<VersionDef> versions, ValueRef number, SourceLocation at, string file) : base(name, at, file)
        {
            Versions = versions;
            Number = number;
        }

        public List<VersionDef> Versions { get; }
        public ValueRef Number { get; }
    }

    /// <summary>One parsed .x file.</summary>
    internal sealed class XdrFile
    {
        public XdrFile(string path, List<Definition> definitions)
        {
            Path = path;
            Definitions = definitions;
        }

        public string Path { get; }
        public List<Definition> Definitions { get; }
    }
}
