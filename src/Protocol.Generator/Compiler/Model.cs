using System.Collections.Generic;

namespace VirtNetworkd.Protocol.Generator.Compiler
{
    /// <summary>The wire shape of a declaration once typedefs and constants are resolved.</summary>
    internal abstract class Shape
    {
        /// <summary>The fewest bytes a value of this shape occupies on the wire.</summary>
        public abstract long MinWireSize { get; }
    }

    internal sealed class PrimitiveShape : Shape
    {
        public PrimitiveShape(BaseKind kind) => Kind = kind;
        public BaseKind Kind { get; }
        public override long MinWireSize => Kind == BaseKind.Hyper || Kind == BaseKind.UHyper || Kind == BaseKind.Double ? 8 : 4;
    }

    internal sealed class StringShape : Shape
    {
        public StringShape(uint max) => Max = max;
        public uint Max { get; }
        public override long MinWireSize => 4;
    }

    internal sealed class OpaqueShape : Shape
    {
        public OpaqueShape(bool isFixed, uint size)
        {
            IsFixed = isFixed;
            Size = size;
        }

        public bool IsFixed { get; }
        /// <summary>Exact size when fixed, maximum otherwise.</summary>
        public uint Size { get; }
        public override long MinWireSize => IsFixed ? ((long)Size + 3) & ~3L : 4;
    }

    internal sealed class ArrayShape : Shape
    {
        public ArrayShape(Shape element, bool isFixed, uint size)
        {
            Element = element;
            IsFixed = isFixed;
            Size = size;
        }

        public Shape Element { get; }
        public bool IsFixed { get; }
        public uint Size { get; }
        public override long MinWireSize => IsFixed ? Size * Element.MinWireSize : 4;
    }

    internal sealed class OptionalShape : Shape
    {
        public OptionalShape(Shape element) => Element = element;
        public Shape Element { get; }
        public override long MinWireSize => 4;
    }

    internal sealed class NamedShape : Shape
    {
        public NamedShape(TypeSymbol symbol) => Symbol = symbol;
        public TypeSymbol Symbol { get; }
        public override long MinWireSize => Symbol.MinWireSize;
    }

    /// <summary>A program's namespace: one per .x file.</summary>
    internal sealed class FileScope
    {
        public FileScope(string path, string namespaceName)
        {
            Path = path;
            Namespace = namespaceName;
        }

        public string Path { get; }
        public string Namespace { get; }
        public List<ConstSymbol> Constants { get; } = new List<ConstSymbol>();
        public List<TypeSymbol> Types { get; } = new List<TypeSymbol>();
        public List<ProgramSymbol> Programs { get; } = new List<ProgramSymbol>();
    }

    internal sealed class ConstSymbol
    {
        public ConstSymbol(string name, string csName, long value, SourceLocation at)
        {
            Name = name;
            CsName = csName;
            Value = value;
            At = at;
        }

        public string Name { get; }
        public string CsName { get; }
        public long Value { get; }
        public SourceLocation At { get; }
    }

    internal abstract class TypeSymbol
    {
        protected TypeSymbol(string name, string csName, FileScope scope, SourceLocation at)
        {
            Name = name;
            CsName = csName;
            Scope = scope;
            At = at;
        }

        public string Name { get; }
        public string CsName { get; }
        public FileScope Scope { get; }
        public SourceLocation At { get; }
        public string QualifiedName => "global::" + Scope.Namespace + "." + CsName;
        public long MinWireSize { get; set; } = 4;
    }

    internal sealed class EnumSymbol : TypeSymbol
    {
        public EnumSymbol(string name, string csName, FileScope scope, SourceLocation at) : base(name, csName, scope, at) { }
        public List<EnumMemberSymbol> Members { get; } = new List<EnumMemberSymbol>();
    }

    internal sealed class EnumMemberSymbol
    {
        public EnumMemberSymbol(string name, string csName, long value, string? doc)
        {
            Name = name;
            CsName = csName;
            Value = value;
            Doc = doc;
        }

        public string Name { get; }
        public string CsName { get; }
        public long Value { get; }
        public string? Doc { get; }
    }

    internal sealed class FieldSymbol
    {
        public FieldSymbol(string name, string csName, Shape shape)
        {
            Name = name;
            CsName = csName;
            Shape = shape;
        }

        public string Name { get; }
        public string CsName { get; }
        public Shape Shape { get; }
    }

    internal sealed class StructSymbol : TypeSymbol
    {
        public StructSymbol(string name, string csName, FileScope scope, SourceLocation at) : base(name, csName, scope, at) { }
        public List<FieldSymbol> Fields { get; } = new List<FieldSymbol>();
    }

    internal sealed class UnionArmSymbol
    {
        public UnionArmSymbol(List<long> values, FieldSymbol? field)
        {
            Values = values;
            Field = field;
        }

        /// <summary>Case values; empty for the default arm.</summary>
        public List<long> Values { get; }
        /// <summary>Null for a void arm.</summary>
        public FieldSymbol? Field { get; }
    }

    internal sealed class UnionSymbol : TypeSymbol
    {
        public UnionSymbol(string name, string csName, FileScope scope, SourceLocation at) : base(name, csName, scope, at) { }
        public FieldSymbol Discriminant { get; set; } = null!;
        public List<UnionArmSymbol> Arms { get; } = new List<UnionArmSymbol>();
        public UnionArmSymbol? Default { get; set; }
    }

    internal sealed class TypedefSymbol : TypeSymbol
    {
        public TypedefSymbol(string name, string csName, FileScope scope, SourceLocation at) : base(name, csName, scope, at) { }
        public Shape Shape { get; set; } = null!;
    }

    internal sealed class ProcedureSymbol
    {
        public ProcedureSymbol(string name, string csName, long number)
        {
            Name = name;
            CsName = csName;
            Number = number;
        }

        public string Name { get; }
        public string CsName { get; }
        public long Number { get; }
        public string? ApiName { get; set; }
        public bool HighPriority { get; set; }
        public bool ReadOnly { get; set; }
        public bool Stream { get; set; }
        public List<string> Acl { get; } = new List<string>();
        public TypeSymbol? Args { get; set; }
        public TypeSymbol? Ret { get; set; }
        public TypeSymbol? Msg { get; set; }
    }

    internal sealed class ProgramSymbol
    {
        public ProgramSymbol(string csName, string label, long number, long version)
        {
            CsName = csName;
            Label = label;
            Number = number;
            Version = version;
        }

        public string CsName { get; }
        /// <summary>Where it came from, for the doc comment.</summary>
        public string Label { get; }
        public long Number { get; }
        public long Version { get; }
        /// <summary>The C# enum of the procedure numbers (from the .x enum), if any.</summary>
        public EnumSymbol? ProcedureEnum { get; set; }
        public List<ProcedureSymbol> Procedures { get; } = new List<ProcedureSymbol>();
    }
}
