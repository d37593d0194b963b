using VirtNetworkd.Protocol.Generator.Compiler;

namespace VirtNetworkd.Protocol.Generator.Tests;

/// <summary>
/// Every class of error: its stable id, its message and its exact file:line:col, with nothing
/// else reported (no cascade), and no C# emitted from a broken unit.
/// </summary>
public sealed class DiagnosticsTests
{
    private static XdrCompilationResult Compile(string x, string file = "bad.x") =>
        XdrCompiler.Compile(new[] { new XdrSource(file, x) }, RoslynCompile.NextNamespace());

    private static TestCaseData Case(string name, string source, params string[] expected) =>
        new TestCaseData(source, expected).SetName("{m}(" + name + ")");

    private static IEnumerable<TestCaseData> Cases()
    {
        // lexer
        yield return Case("UnexpectedCharacter", "const A = 1;\nconst B = $2;\n",
            "bad.x:2:11: error XDR0001: unexpected character '$'");
        yield return Case("UnterminatedComment", "const A = 1;\n/* never closed\nconst B = 2;\n",
            "bad.x:2:1: error XDR0002: unterminated comment");
        yield return Case("BadNumber_EmptyHex", "const A = 0x;\n",
            "bad.x:1:11: error XDR0003: invalid number '0x'");
        yield return Case("BadNumber_OctalDigit", "const A = 09;\n",
            "bad.x:1:11: error XDR0003: invalid number '09'");

        // parser
        yield return Case("MissingSemicolon", "struct a {\n    int x\n    int y;\n};\n",
            "bad.x:3:5: error XDR0101: expected ';' but found 'int'");
        yield return Case("NotADefinition", "const A = 1;\nfoo bar;\nconst B = 2;\n",
            "bad.x:2:1: error XDR0101: expected a definition (const, typedef, enum, struct, union or program) but found 'foo'");
        yield return Case("EmptyStruct", "struct a { };\n",
            "bad.x:1:13: error XDR0101: a struct needs at least one member");
        yield return Case("StringWithFixedSize", "struct a { string s[4]; };\n",
            "bad.x:1:19: error XDR0101: a string takes a maximum <N>, not a fixed size [N]");
        yield return Case("AnonymousInlineStruct", "struct s {\n    struct { int a; } inner;\n};\n",
            "bad.x:2:5: error XDR0102: anonymous inline struct types are not supported; give the type a name");
        yield return Case("AnonymousInlineUnionArm", "union u switch (int d) {\ncase 0:\n    enum { X, Y } e;\n};\n",
            "bad.x:3:5: error XDR0102: anonymous inline enum types are not supported; give the type a name");
        yield return Case("Quadruple", "struct a { quadruple q; };\n",
            "bad.x:1:12: error XDR0102: quadruple is not supported (no 128-bit float in .NET's XDR mapping)");

        // binder: names
        yield return Case("UndefinedType", "struct a {\n    int x;\n    foo_t y;\n};\n",
            "bad.x:3:5: error XDR0202: undefined type 'foo_t'");
        yield return Case("UndefinedConstant", "typedef string name<NAME_MAX>;\n",
            "bad.x:1:21: error XDR0202: undefined constant 'NAME_MAX'");
        yield return Case("TypeUsedAsConstant", "struct s { int a; };\ntypedef opaque o[s];\n",
            "bad.x:2:18: error XDR0203: 's' is a type, not a constant");
        yield return Case("ConstantUsedAsType", "const N = 1;\nstruct s { N x; };\n",
            "bad.x:2:12: error XDR0204: 'N' is a constant, not a type");
        yield return Case("DuplicateDefinition", "struct a { int x; };\nstruct a { int y; };\n",
            "bad.x:2:8: error XDR0201: 'a' is already defined at bad.x:1:8");
        yield return Case("DuplicateOfEnumMember", "enum e { A = 1 };\nconst A = 2;\n",
            "bad.x:2:7: error XDR0201: 'A' is already defined");
        yield return Case("DuplicateOfPreludeConstant", "const VIR_UUID_BUFLEN = 16;\n",
            "bad.x:1:7: error XDR0201: 'VIR_UUID_BUFLEN' is already defined");
        yield return Case("DuplicateStructMember", "struct a {\n    int x;\n    hyper x;\n};\n",
            "bad.x:3:11: error XDR0201: member 'x' is declared twice");
        yield return Case("DuplicateEnumValue", "enum e { A = 1, B = 1 };\n",
            "bad.x:1:17: error XDR0201: enum value 1 of 'B' is already used by 'A'");
        yield return Case("DuplicateUnionArmName", "union u switch (int d) { case 1: int a; case 2: int a; };\n",
            "bad.x:1:53: error XDR0201: arm 'a' is declared twice");

        // binder: unions
        yield return Case("DuplicateUnionCase", "union u switch (int d) {\ncase 1:\n    int a;\ncase 2:\ncase 1:\n    int b;\n};\n",
            "bad.x:5:6: error XDR0207: case 1 appears twice");
        yield return Case("DuplicateUnionCase_ThroughAConstant", "const ONE = 1;\nunion u switch (int d) { case 1: int a; case ONE: int b; };\n",
            "bad.x:2:46: error XDR0207: case ONE appears twice");
        yield return Case("DiscriminantOfWrongType", "union u switch (hyper h) { case 1: void; };\n",
            "bad.x:1:23: error XDR0206: a union discriminant must be int, unsigned int, bool or an enum");
        yield return Case("DiscriminantNotScalar", "union u switch (string s<>) { case 1: void; };\n",
            "bad.x:1:24: error XDR0206: a union discriminant must be a plain int, unsigned int, bool or enum");
        yield return Case("DiscriminantStruct", "struct p { int a; };\nunion u switch (p d) { case 1: void; };\n",
            "bad.x:2:19: error XDR0206: a union discriminant must be int, unsigned int, bool or an enum");
        yield return Case("CaseNotInEnum", "enum color { RED = 1, GREEN = 2 };\nunion u switch (color c) {\ncase RED:\n    int a;\ncase 3:\n    void;\n};\n",
            "bad.x:5:6: error XDR0206: case 3 is not a value of enum 'color'");
        yield return Case("CaseOutOfIntRange", "union u switch (int d) { case 0x80000000: void; };\n",
            "bad.x:1:31: error XDR0206: case 2147483648 is out of range for a discriminant of type int");
        yield return Case("CaseOutOfUnsignedRange", "union u switch (unsigned d) { case -1: void; };\n",
            "bad.x:1:36: error XDR0206: case -1 is out of range for a discriminant of type unsigned int");
        yield return Case("CaseOutOfBoolRange", "const TWO = 2;\nunion u switch (bool b) { case TWO: void; };\n",
            "bad.x:2:32: error XDR0206: case TWO (2) is out of range for a discriminant of type bool");

        // binder: values and shapes
        yield return Case("CircularConstants", "const A = B;\nconst B = A;\n",
            "bad.x:2:11: error XDR0209: constant 'A' depends on itself",
            "bad.x:1:11: error XDR0209: constant 'B' depends on itself");
        yield return Case("SelfReferentialConstant", "const A = A;\n",
            "bad.x:1:11: error XDR0209: constant 'A' depends on itself");
        // X = Y and Y = X + 1 (a member without a value follows the one before it); the cycle
        // is reported from each side
        yield return Case("CircularEnumMember", "enum e { X = Y, Y };\n",
            "bad.x:1:17: error XDR0209: constant 'X' depends on itself",
            "bad.x:1:14: error XDR0209: constant 'Y' depends on itself");
        yield return Case("RecursiveStructByValue", "struct node {\n    int v;\n    node next;\n};\n",
            "bad.x:1:8: error XDR0208: type 'node' contains itself by value; only arrays may refer back to it");
        yield return Case("RecursiveStructThroughOptional", "struct node { int v; node *next; };\n",
            "bad.x:1:8: error XDR0208: type 'node' contains itself by value; only arrays may refer back to it");
        yield return Case("MutuallyRecursiveStructs", "struct a { b x; };\nstruct b { a y; };\n",
            "bad.x:1:8: error XDR0208: type 'a' contains itself by value; only arrays may refer back to it");
        yield return Case("RecursiveThroughUnionArm", "struct s { u x; };\nunion u switch (int d) { case 0: s back; default: void; };\n",
            "bad.x:1:8: error XDR0208: type 's' contains itself by value; only arrays may refer back to it");
        yield return Case("SelfReferentialTypedef", "typedef loop_t loop_t;\n",
            "bad.x:1:9: error XDR0208: typedef 'loop_t' refers to itself");
        yield return Case("ZeroFixedSize", "struct a { opaque o[0]; };\n",
            "bad.x:1:21: error XDR0205: array size 0 must be between 1 and 2147483647");
        yield return Case("NegativeFixedSize", "struct a { int x[-4]; };\n",
            "bad.x:1:18: error XDR0205: array size -4 must be between 1 and 2147483647");
        yield return Case("NegativeFixedSize_ThroughAConstant", "const N = -1;\ntypedef opaque o[N];\n",
            "bad.x:2:18: error XDR0205: array size -1 must be between 1 and 2147483647");
        yield return Case("NegativeMaximum", "typedef string s<-1>;\n",
            "bad.x:1:18: error XDR0205: maximum -1 must be between 0 and 4294967295");
        yield return Case("EnumValueOver32Bits", "enum e { A = 0x100000000 };\n",
            "bad.x:1:10: error XDR0205: enum value 4294967296 of 'A' does not fit in 32 bits");
        yield return Case("VoidStructMember", "struct a { int x; void; };\n",
            "bad.x:1:19: error XDR0101: a struct member cannot be void");

        // binder: C# names
        yield return Case("NameClash_PrefixStripped", "struct remote_foo { int a; };\nstruct foo { int b; };\n",
            "bad.x:2:8: error XDR0210: 'foo' and 'remote_foo' both become C# name 'Foo'");
        yield return Case("NameClash_CamelPrefix", "struct virNetThing { int a; };\ntypedef int thing;\n",
            "bad.x:2:13: error XDR0210: 'thing' and 'virNetThing' both become C# name 'Thing'");
        yield return Case("NameClash_EnumCodec", "enum color { C_RED };\nstruct color_xdr { int a; };\n",
            "bad.x:1:6: error XDR0210: 'color (codec)' and 'color_xdr' both become C# name 'ColorXdr'");
        yield return Case("NameClash_ConstantsClass", "struct constants { int a; };\n",
            "bad.x:1:1: error XDR0210: '(constants class)' and 'constants' both become C# name 'Constants'");
        yield return Case("NameClash_Constants", "const REMOTE_MAX = 1;\nconst MAX = 2;\n",
            "bad.x:2:7: error XDR0210: 'MAX' and 'REMOTE_MAX' both become C# name 'Max'");
        yield return Case("NameClash_ConstantNamedConstants", "const REMOTE_CONSTANTS = 1;\n",
            "bad.x:1:7: error XDR0210: 'REMOTE_CONSTANTS' and '(constants class)' both become C# name 'Constants'");
        yield return Case("NameClash_StructNamedEncode", "struct encode { int a; };\n",
            "bad.x:1:8: error XDR0210: 'encode' becomes C# type 'Encode', the name of its own codec method");
        yield return Case("NameClash_TypedefNamedDecode", "typedef int remote_decode;\n",
            "bad.x:1:13: error XDR0210: 'remote_decode' becomes C# type 'Decode', the name of its own codec method");
        yield return Case("NameClash_StructMembers", "struct s { int a_b; int aB; };\n",
            "bad.x:1:25: error XDR0210: members 'aB' and 'a_b' both become C# name 'AB'");
        yield return Case("NameClash_MemberSuffix", "struct s { int encode; int encode_value; };\n",
            "bad.x:1:28: error XDR0210: members 'encode_value' and 'encode' both become C# name 'EncodeValue'");
        yield return Case("NameClash_UnionArmAndDiscriminant", "union u switch (int kind_x) { case 1: int kindX; };\n",
            "bad.x:1:43: error XDR0210: members 'kindX' and 'kind_x' both become C# name 'KindX'");

        // programs
        yield return Case("ProcedureOutsideItsPrefix",
            "const P_PROGRAM = 1;\nconst P_PROTOCOL_VERSION = 1;\nenum p_procedure { P_PROC_A = 1, Q_OTHER = 2 };\n",
            "bad.x:3:6: error XDR0211: procedure 'Q_OTHER' does not start with P_PROC_");
        yield return Case("ProgramBlock_DuplicateProcedureNumber",
            "program P {\n    version V {\n        void A(void) = 1;\n        void B(void) = 1;\n    } = 1;\n} = 5;\n",
            "bad.x:4:14: error XDR0201: procedure number 1 is used twice in V");
        yield return Case("ProgramBlock_UndefinedArgument",
            "program P {\n    version V {\n        void A(nothing_t) = 1;\n    } = 1;\n} = 5;\n",
            "bad.x:3:16: error XDR0202: undefined type 'nothing_t'");
        yield return Case("ProgramBlock_PrimitiveResult",
            "program P {\n    version V {\n        int A(void) = 1;\n    } = 1;\n} = 5;\n",
            "bad.x:3:9: error XDR0102: procedure arguments and results must be void or a named type");
        yield return Case("ProgramNumberOutOfRange",
            "const P_PROGRAM = -1;\nconst P_PROTOCOL_VERSION = 1;\nenum p_procedure { P_PROC_A = 1 };\n",
            "bad.x:1:7: error XDR0211: program number -1 must be between 0 and 4294967295");
        yield return Case("NegativeProcedureNumber",
            "const P_PROGRAM = 1;\nconst P_PROTOCOL_VERSION = 1;\nenum p_procedure {\n    P_PROC_A = 1,\n    P_PROC_B = -3\n};\n",
            "bad.x:5:5: error XDR0211: procedure 'P_PROC_B' has the negative number -3");
        yield return Case("ProgramBlock_ProcedureNumberOutOfRange", "program P { version V { void A(void) = 0x80000000; } = 1; } = 7;\n",
            "bad.x:1:40: error XDR0211: procedure number 2147483648 must be between 0 and 2147483647");
        yield return Case("ProgramBlock_VersionOutOfRange", "program P { version V { void A(void) = 1; } = -1; } = 7;\n",
            "bad.x:1:47: error XDR0211: version -1 must be between 0 and 4294967295");
        yield return Case("ProgramBlock_WithoutVersion", "program P { } = 5;\n",
            "bad.x:1:9: error XDR0101: a program needs at least one version");
    }

    [TestCaseSource(nameof(Cases))]
    public void Reports(string source, string[] expected)
    {
        var result = Compile(source);
        Assert.That(result.Diagnostics.Select(d => d.ToString()), Is.EqualTo(expected));
        Assert.That(result.Success, Is.False);
        Assert.That(result.Files, Is.Empty, "nothing is emitted from a broken unit");
    }

    [Test]
    public void Diagnostic_CarriesIdMessageAndLocation()
    {
        var d = Compile("struct a {\n    int x;\n    foo_t y;\n};\n", "dir/some file.x").Diagnostics.Single();
        Assert.Multiple(() =>
        {
            Assert.That(d.Id, Is.EqualTo(DiagnosticIds.UndefinedName));
            Assert.That(d.Message, Is.EqualTo("undefined type 'foo_t'"));
            Assert.That(d.Location.File, Is.EqualTo("dir/some file.x"));
            Assert.That(d.Location.Line, Is.EqualTo(3));
            Assert.That(d.Location.Column, Is.EqualTo(5));
            Assert.That(d.ToString(), Is.EqualTo("dir/some file.x:3:5: error XDR0202: undefined type 'foo_t'"));
        });
    }

    [Test]
    public void Columns_CountTabsAsOneCharacter()
    {
        var d = Compile("struct a {\n\tint x;\n\tfoo_t y;\n};\n").Diagnostics.Single();
        Assert.That(d.ToString(), Is.EqualTo("bad.x:3:2: error XDR0202: undefined type 'foo_t'"));
    }

    [Test]
    public void Recovery_ReportsEveryIndependentError_AndNothingElse()
    {
        const string source =
            "const A = 1\n" +                              // ';' missing before the next definition
            "const B = 2;\n" +
            "struct s {\n" +
            "    int x\n" +                                // ';' missing inside a struct
            "    int y;\n" +
            "};\n" +
            "struct t { int arr[B]; undefined_t z; };\n" + // B is still defined; the type is not
            "const C = $3;\n";                             // a lexer error
        var result = Compile(source);
        Assert.That(result.Diagnostics.Select(d => d.ToString()), Is.EqualTo(new[]
        {
            "bad.x:8:11: error XDR0001: unexpected character '$'",
            "bad.x:2:1: error XDR0101: expected ';' but found 'const'",
            "bad.x:5:5: error XDR0101: expected ';' but found 'int'",
            "bad.x:7:24: error XDR0202: undefined type 'undefined_t'",
        }));
    }

    [Test]
    public void Recovery_TwoErrorsInOneFile_BothReported()
    {
        var result = Compile("struct a { int x; foo_t y; };\nunion u switch (int d) { case 1: int p; case 1: int q; };\n");
        Assert.That(result.Diagnostics.Select(d => d.Id), Is.EqualTo(new[] { DiagnosticIds.UndefinedName, DiagnosticIds.DuplicateCase }));
        Assert.That(result.Diagnostics.Select(d => d.Location.Line), Is.EqualTo(new[] { 1, 2 }));
    }

    [Test]
    public void Errors_InSeveralFiles_NameTheirFile()
    {
        var result = XdrCompiler.Compile(new[]
        {
            new XdrSource("one.x", "struct a { b_t x; };\n"),
            new XdrSource("two.x", "const B = ;\n"),
        }, "Multi");
        Assert.That(result.Diagnostics.Select(d => d.ToString()), Is.EquivalentTo(new[]
        {
            "one.x:1:12: error XDR0202: undefined type 'b_t'",
            "two.x:1:11: error XDR0101: expected a number or constant name but found ';'",
        }));
    }

    [Test]
    public void TwoFiles_MappingToOneNamespace_Clash()
    {
        var result = XdrCompiler.Compile(new[]
        {
            new XdrSource("b/remote.x", "const B = 2;\n"),
            new XdrSource("a/remote_protocol.x", "const A = 1;\n"),
        }, "Ns");
        Assert.That(result.Diagnostics.Select(d => d.ToString()), Is.EqualTo(new[]
        {
            "b/remote.x:1:1: error XDR0210: files a/remote_protocol.x and b/remote.x map to the same namespace Ns.Remote",
        }));
    }

    [Test]
    public void DuplicateDefinition_AcrossFiles()
    {
        var result = XdrCompiler.Compile(new[]
        {
            new XdrSource("a.x", "const SHARED = 1;\n"),
            new XdrSource("b.x", "\nconst SHARED = 2;\n"),
        }, "Dup");
        Assert.That(result.Diagnostics.Select(d => d.ToString()), Is.EqualTo(new[] { "b.x:2:7: error XDR0201: 'SHARED' is already defined at a.x:1:7" }));
    }
}
