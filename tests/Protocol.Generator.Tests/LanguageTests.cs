using System.Reflection;
using VirtNetworkd.Protocol.Generator.Compiler;
using VirtNetworkd.Protocol.Xdr;
using static VirtNetworkd.Protocol.Generator.Tests.RoslynCompile;

namespace VirtNetworkd.Protocol.Generator.Tests;

/// <summary>
/// The XDR language as libvirt's .x files (and RFC 4506/5531) use it, each construct compiled
/// from a small inline source, its C# compiled with Roslyn, and where the wire format matters
/// the generated codec run against hand-computed XDR bytes.
/// </summary>
public sealed class LanguageTests
{
    /// <summary>A compiled and loaded .x source; its types live in <c>{Ns}.Test</c>.</summary>
    private sealed class Loaded
    {
        public Loaded(string x)
        {
            Ns = NextNamespace();
            Assembly = CompileAndLoad(x, "test.x", Ns);
        }

        public string Ns { get; }
        public Assembly Assembly { get; }
        public Type Type(string name) => TypeIn(Assembly, Ns + ".Test." + name);
        public object New(string name, params (string, object?)[] fields) => Set(Activator.CreateInstance(Type(name))!, fields);
        public object Enum(string name, int value) => System.Enum.ToObject(Type(name), value);

        public object Constant(string name) =>
            (Type("Constants").GetField(name) ?? throw new AssertionException("no constant " + name)).GetValue(null)!;

        public Programs.ProcedureTable Table(string program) =>
            (Programs.ProcedureTable)Type(program).GetProperty("Procedures")!.GetValue(null)!;
    }

    private static XdrCompilationResult Compile(string x) => XdrCompiler.Compile(new[] { new XdrSource("test.x", x) }, NextNamespace());

    private static void AssertRoundTrip(object value, byte[] expected)
    {
        var bytes = Encode(value);
        Assert.That(Convert.ToHexString(bytes), Is.EqualTo(Convert.ToHexString(expected)), "encoding of " + value.GetType().Name);
        var back = Decode(value.GetType(), bytes);
        Assert.That(Encode(back), Is.EqualTo(expected), "re-encoding the decoded " + value.GetType().Name);
    }

    [Test]
    public void RoslynHelper_SeesWarnings()
    {
        // the "no warning" assertions mean something only if a warning would be seen
        var c = Create(new[] { new GeneratedFile("w.cs", "#nullable enable\npublic class W { public string S = null; }\n") });
        Assert.That(Problems(c), Has.Some.Contains("CS8625"));
    }

    [Test]
    public void PassthroughAndPreprocessorLines_AreSkipped()
    {
        var l = new Loaded("%#include <libvirt/libvirt.h>\n"
            + "  %extern int x;\n"
            + "#define FOO 1\n"
            + "%\n"
            + "const A = 1; /* comment */ // line comment\n");
        Assert.That(l.Constant("A"), Is.EqualTo(1));
    }

    [Test]
    public void Percent_NotAtLineStart_IsAnUnexpectedCharacter()
    {
        var r = Compile("const A = 1 %;\n");
        Assert.That(r.Diagnostics.Select(d => d.ToString()), Is.EqualTo(new[] { "test.x:1:13: error XDR0001: unexpected character '%'" }));
    }

    [Test]
    public void Primitives_HaveTheirCSharpTypes_AndWireForm()
    {
        var l = new Loaded(@"
struct prims {
    unsigned u;
    unsigned int ui;
    unsigned hyper uh;
    hyper h;
    int i;
    unsigned char uc;
    unsigned short us;
    char c;
    short s;
    bool b;
    float f;
    double d;
    long lg;
    unsigned long ul;
};");
        var t = l.Type("Prims");
        var expected = new Dictionary<string, Type>
        {
            ["U"] = typeof(uint), ["Ui"] = typeof(uint), ["Uh"] = typeof(ulong), ["H"] = typeof(long), ["I"] = typeof(int),
            ["Uc"] = typeof(byte), ["Us"] = typeof(ushort), ["C"] = typeof(sbyte), ["S"] = typeof(short), ["B"] = typeof(bool),
            ["F"] = typeof(float), ["D"] = typeof(double), ["Lg"] = typeof(int), ["Ul"] = typeof(uint),
        };
        Assert.That(t.GetFields().ToDictionary(f => f.Name, f => f.FieldType), Is.EquivalentTo(expected));
        Assert.That(typeof(IXdrType<>).MakeGenericType(t).IsAssignableFrom(t), Is.True);

        var v = l.New("Prims", ("U", 0xFFFFFFFFu), ("Ui", 2u), ("Uh", 0x0102030405060708ul), ("H", -2L), ("I", -3),
            ("Uc", (byte)200), ("Us", (ushort)65535), ("C", (sbyte)-1), ("S", (short)-2), ("B", true),
            ("F", 1.0f), ("D", -2.0), ("Lg", 5), ("Ul", 6u));
        AssertRoundTrip(v, Words(0xFFFFFFFF, 2, 0x01020304, 0x05060708, 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD,
            200, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFE, 1, 0x3F800000, 0xC0000000, 0, 5, 6));
    }

    [Test]
    public void CharArrays_AreOneWordPerElement()
    {
        // rpcgen: char x[N] is a vector of xdr_char, 4 bytes each (unlike opaque)
        var l = new Loaded("const N = 3;\nstruct chars { char x[N]; unsigned char y[2]; };\n");
        var t = l.Type("Chars");
        Assert.That(t.GetField("X")!.FieldType, Is.EqualTo(typeof(sbyte[])));
        Assert.That(t.GetField("Y")!.FieldType, Is.EqualTo(typeof(byte[])));
        var v = l.New("Chars", ("X", new sbyte[] { 1, -1, 2 }), ("Y", new byte[] { 255, 0 }));
        AssertRoundTrip(v, Words(1, 0xFFFFFFFF, 2, 255, 0));
        Set(v, ("X", new sbyte[] { 1, 2 }));
        Assert.That(() => Encode(v), Throws.TypeOf<XdrEncodeException>(), "a fixed array of the wrong length");
    }

    [Test]
    public void StringAndOpaque_ExactBytesWithZeroPadding()
    {
        var l = new Loaded("struct s { int a; string s<5>; opaque o[3]; opaque v<8>; string u<>; };");
        var t = l.Type("S");
        Assert.Multiple(() =>
        {
            Assert.That(t.GetField("A")!.FieldType, Is.EqualTo(typeof(int)));
            Assert.That(t.GetField("SValue")!.FieldType, Is.EqualTo(typeof(string)), "a member named like its struct gets a Value suffix");
            Assert.That(t.GetField("O")!.FieldType, Is.EqualTo(typeof(byte[])));
            Assert.That(t.GetField("V")!.FieldType, Is.EqualTo(typeof(byte[])));
            Assert.That(t.GetField("U")!.FieldType, Is.EqualTo(typeof(string)));
        });
        var v = l.New("S", ("A", 7), ("SValue", "abc"), ("O", new byte[] { 1, 2, 3 }), ("V", new byte[] { 9 }), ("U", "hello"));
        AssertRoundTrip(v, Words(7, 3, 0x61626300, 0x01020300, 1, 0x09000000, 5, 0x68656c6c, 0x6f000000));

        Set(v, ("SValue", "abcdef"));
        Assert.That(() => Encode(v), Throws.TypeOf<XdrEncodeException>().With.Message.Contains("s.s"), "string<5> holding 6 bytes");
        Set(v, ("SValue", "abc"), ("O", new byte[] { 1, 2 }));
        Assert.That(() => Encode(v), Throws.TypeOf<XdrEncodeException>(), "opaque[3] holding 2 bytes");
        // a string of length 6 on the wire is over the maximum 5
        var tooLong = Words(7, 6, 0x61626364, 0x65660000, 0x01020300, 0, 0);
        Assert.That(() => Decode(t, tooLong), Throws.TypeOf<XdrDecodeException>());
        // non-zero padding after "abc"
        var badPad = Words(7, 3, 0x61626301, 0x01020300, 0, 0);
        Assert.That(() => Decode(t, badPad), Throws.TypeOf<XdrDecodeException>());
    }

    [Test]
    public void OptionalData_IsABoolThenTheValue()
    {
        var l = new Loaded("typedef string str<10>;\nstruct item { int n; };\nstruct opt { int *p; str *s; item *it; };\n");
        var t = l.Type("Opt");
        Assert.That(t.GetField("P")!.FieldType, Is.EqualTo(typeof(int?)));
        Assert.That(t.GetField("S")!.FieldType, Is.EqualTo(typeof(string)));
        Assert.That(t.GetField("It")!.FieldType, Is.EqualTo(typeof(Nullable<>).MakeGenericType(l.Type("Item"))));
        var present = l.New("Opt", ("P", 5), ("S", "x"), ("It", l.New("Item", ("N", 3))));
        AssertRoundTrip(present, Words(1, 5, 1, 1, 0x78000000, 1, 3));
        var absent = l.New("Opt");
        AssertRoundTrip(absent, Words(0, 0, 0));
        Assert.That(Decode(t, Words(0, 0, 0)), Is.EqualTo(absent));
        Assert.That(() => Decode(t, Words(2, 0, 0)), Throws.TypeOf<XdrDecodeException>(), "an optional flag of 2");
    }

    [Test]
    public void Union_EnumDiscriminant_WithVoidArmAndDefault()
    {
        var l = new Loaded(@"
enum kind { KIND_NONE = 0, KIND_INT = 1, KIND_STR = 2, KIND_OTHER = 3 };
union value switch (kind k) {
case KIND_INT:
    int i;
case KIND_STR:
    string s<10>;
case KIND_NONE:
    void;
default:
    hyper other;
};");
        var t = l.Type("Value");
        Assert.That(t.GetFields().Select(f => f.Name), Is.EquivalentTo(new[] { "K", "I", "S", "Other" }));
        AssertRoundTrip(l.New("Value", ("K", l.Enum("Kind", 1)), ("I", 5)), Words(1, 5));
        AssertRoundTrip(l.New("Value", ("K", l.Enum("Kind", 2)), ("S", "ab")), Words(2, 2, 0x61620000));
        AssertRoundTrip(l.New("Value", ("K", l.Enum("Kind", 0))), Words(0));
        AssertRoundTrip(l.New("Value", ("K", l.Enum("Kind", 3)), ("Other", 7L)), Words(3, 0, 7));
        Assert.That(() => Decode(t, Words(4, 0, 0)), Throws.TypeOf<XdrDecodeException>().With.Message.Contains("kind"), "4 is no kind");
        Assert.That(() => Encode(l.New("Value", ("K", l.Enum("Kind", 9)))), Throws.TypeOf<XdrEncodeException>());
    }

    [Test]
    public void Union_BoolDiscriminant()
    {
        var l = new Loaded("union maybe switch (bool present) { case TRUE: int v; case FALSE: void; };");
        var t = l.Type("Maybe");
        Assert.That(t.GetField("Present")!.FieldType, Is.EqualTo(typeof(bool)));
        AssertRoundTrip(l.New("Maybe", ("Present", true), ("V", 9)), Words(1, 9));
        AssertRoundTrip(l.New("Maybe", ("Present", false)), Words(0));
        Assert.That(() => Decode(t, Words(2)), Throws.TypeOf<XdrDecodeException>());
    }

    [Test]
    public void Union_IntDiscriminant_SharedArms_NoDefault()
    {
        var l = new Loaded("union u switch (int d) { case 1: case 2: int x; case -1: void; };");
        var t = l.Type("U");
        AssertRoundTrip(l.New("U", ("D", 1), ("X", 4)), Words(1, 4));
        AssertRoundTrip(l.New("U", ("D", 2), ("X", 5)), Words(2, 5));
        AssertRoundTrip(l.New("U", ("D", -1)), Words(0xFFFFFFFF));
        Assert.That(() => Decode(t, Words(3, 0)), Throws.TypeOf<XdrDecodeException>().With.Message.Contains("discriminant 3"));
        Assert.That(() => Encode(l.New("U", ("D", 3))), Throws.TypeOf<XdrEncodeException>());
    }

    [Test]
    public void Union_UnsignedDiscriminant_TakesTheFullRange()
    {
        var l = new Loaded("const TOP = 0xFFFFFFFF;\nunion w switch (unsigned int d) { case TOP: int x; case 0: void; default: void; };");
        Assert.That(l.Type("W").GetField("D")!.FieldType, Is.EqualTo(typeof(uint)));
        AssertRoundTrip(l.New("W", ("D", 0xFFFFFFFFu), ("X", 1)), Words(0xFFFFFFFF, 1));
        AssertRoundTrip(l.New("W", ("D", 12u)), Words(12));
    }

    [Test]
    public void TypedefChains_ResolveToTheirBaseShape()
    {
        var l = new Loaded(@"
typedef string name_t<4>;
typedef name_t alias_t;
typedef alias_t *opt_alias_t;
typedef opt_alias_t opt_again_t;
struct holder { alias_t a; opt_again_t b; alias_t many<3>; };");
        var t = l.Type("Holder");
        Assert.That(t.GetField("A")!.FieldType, Is.EqualTo(typeof(string)));
        Assert.That(t.GetField("B")!.FieldType, Is.EqualTo(typeof(string)));
        Assert.That(t.GetField("Many")!.FieldType, Is.EqualTo(typeof(string[])));
        // every typedef gets a static codec class
        Assert.That(new[] { "NameT", "AliasT", "OptAliasT", "OptAgainT" }.Select(n => l.Type(n).IsAbstract && l.Type(n).IsSealed), Is.All.True);
        var v = l.New("Holder", ("A", "x"), ("B", null), ("Many", new[] { "p" }));
        AssertRoundTrip(v, Words(1, 0x78000000, 0, 1, 1, 0x70000000));
        // the bound of name_t holds through the chain
        Set(v, ("A", "abcde"));
        Assert.That(() => Encode(v), Throws.TypeOf<XdrEncodeException>());
        Set(v, ("A", "x"), ("Many", new[] { "a", "b", "c", "d" }));
        Assert.That(() => Encode(v), Throws.TypeOf<XdrEncodeException>(), "alias_t many<3> with 4 elements");
    }

    [Test]
    public void OptionalOfOptional_IsUnsupported()
    {
        var r = Compile("typedef int *oi;\nstruct s { oi *x; };\n");
        Assert.That(r.Diagnostics.Select(d => d.ToString()), Is.EqualTo(new[] { "test.x:2:16: error XDR0102: optional data of optional data is not supported" }));
    }

    [Test]
    public void Constants_NamePreludeConstants_AndTakeEveryLiteralForm()
    {
        var l = new Loaded(@"
const UUID_LEN = VIR_UUID_BUFLEN;
const MODEL = VIR_SECURITY_MODEL_BUFLEN;
const LABEL = VIR_SECURITY_LABEL_BUFLEN;
const DOI = VIR_SECURITY_DOI_BUFLEN;
const PARAM_STRING = VIR_TYPED_PARAM_STRING;
const HEX = 0x10;
const OCT = 010;
const NEG = -5;
const TOP = 0xFFFFFFFF;
const BIG = 0x100000000;
const ALIAS = HEX;
typedef opaque uuid_t[UUID_LEN];
struct has_uuid { uuid_t id; };");
        Assert.Multiple(() =>
        {
            Assert.That(l.Constant("UuidLen"), Is.EqualTo(16));
            Assert.That(l.Constant("Model"), Is.EqualTo(257));
            Assert.That(l.Constant("Label"), Is.EqualTo(4097));
            Assert.That(l.Constant("Doi"), Is.EqualTo(257));
            Assert.That(l.Constant("ParamString"), Is.EqualTo(7));
            Assert.That(l.Constant("Hex"), Is.EqualTo(16));
            Assert.That(l.Constant("Oct"), Is.EqualTo(8));
            Assert.That(l.Constant("Neg"), Is.EqualTo(-5));
            Assert.That(l.Constant("Top"), Is.EqualTo(0xFFFFFFFFu), "fits uint only: emitted as uint");
            Assert.That(l.Constant("Big"), Is.EqualTo(0x100000000L), "fits no 32-bit type: emitted as long");
            Assert.That(l.Constant("Alias"), Is.EqualTo(16));
        });
        var v = l.New("HasUuid", ("Id", Enumerable.Range(1, 16).Select(i => (byte)i).ToArray()));
        AssertRoundTrip(v, Words(0x01020304, 0x05060708, 0x090a0b0c, 0x0d0e0f10));
    }

    [Test]
    public void EnumMembers_WithoutValues_AndReferringToConstants()
    {
        var l = new Loaded(@"
const BASE = 10;
enum e { E_A = BASE, E_B, E_C = 0x20, E_D };
enum f { F_X, F_Y, F_Z, };
const FROM_ENUM = E_B;
struct uses { e x; f y; };");
        var e = l.Type("E");
        var f = l.Type("F");
        Assert.That(e.IsEnum && f.IsEnum, Is.True);
        Assert.That(Enum.GetNames(e).Zip(Enum.GetValues(e).Cast<int>(), (n, v) => n + "=" + v), Is.EqualTo(new[] { "A=10", "B=11", "C=32", "D=33" }));
        Assert.That(Enum.GetNames(f).Zip(Enum.GetValues(f).Cast<int>(), (n, v) => n + "=" + v), Is.EqualTo(new[] { "X=0", "Y=1", "Z=2" }));
        Assert.That(l.Constant("FromEnum"), Is.EqualTo(11));
        AssertRoundTrip(l.New("Uses", ("X", l.Enum("E", 33)), ("Y", l.Enum("F", 2))), Words(33, 2));
        // E's values are 10, 11, 32, 33: 12 is none of them
        Assert.That(() => Decode(l.Type("Uses"), Words(12, 0)), Throws.TypeOf<XdrDecodeException>());
        var isDefined = l.Type("EXdr").GetMethod("IsDefined")!;
        Assert.That(new[] { 9, 10, 11, 12, 31, 32, 33, 34 }.Select(i => (bool)isDefined.Invoke(null, new object[] { i })!),
            Is.EqualTo(new[] { false, true, true, false, false, true, true, false }));
    }

    [Test]
    public void TypedefOfInlineStructEnumAndUnion_DefinesNamedTypes()
    {
        var l = new Loaded(@"
typedef struct { int a; hyper b; } pair_t;
typedef enum { COLOR_RED = 1, COLOR_GREEN = 2 } color_t;
typedef union switch (color_t c) { case COLOR_RED: pair_t p; case COLOR_GREEN: void; } paint_t;
struct wall { paint_t paint; };");
        Assert.That(l.Type("PairT").IsValueType && !l.Type("PairT").IsEnum, Is.True);
        Assert.That(l.Type("ColorT").IsEnum, Is.True);
        Assert.That(Enum.GetNames(l.Type("ColorT")), Is.EqualTo(new[] { "Red", "Green" }));
        var pair = l.New("PairT", ("A", 1), ("B", 2L));
        var paint = l.New("PaintT", ("C", l.Enum("ColorT", 1)), ("P", pair));
        AssertRoundTrip(l.New("Wall", ("Paint", paint)), Words(1, 1, 0, 2));
        AssertRoundTrip(l.New("Wall", ("Paint", l.New("PaintT", ("C", l.Enum("ColorT", 2))))), Words(2));
    }

    [Test]
    public void ArraysOfStructsAndNestedArrays()
    {
        var l = new Loaded(@"
struct item { int v; };
typedef int row[2];
typedef opaque uuid[4];
struct bag { item items<4>; item pair[2]; row grid<>; uuid ids<2>; };");
        var t = l.Type("Bag");
        var item = l.Type("Item");
        Assert.That(t.GetField("Items")!.FieldType, Is.EqualTo(item.MakeArrayType()));
        Assert.That(t.GetField("Grid")!.FieldType, Is.EqualTo(typeof(int[][])));
        Assert.That(t.GetField("Ids")!.FieldType, Is.EqualTo(typeof(byte[][])));
        Array Items(params int[] vs)
        {
            var a = Array.CreateInstance(item, vs.Length);
            for (int i = 0; i < vs.Length; i++) a.SetValue(l.New("Item", ("V", vs[i])), i);
            return a;
        }
        var v = l.New("Bag", ("Items", Items(1, 2, 3)), ("Pair", Items(4, 5)),
            ("Grid", new[] { new[] { 6, 7 }, new[] { 8, 9 } }), ("Ids", new[] { new byte[] { 1, 2, 3, 4 } }));
        AssertRoundTrip(v, Words(3, 1, 2, 3, 4, 5, 2, 6, 7, 8, 9, 1, 0x01020304));
        Set(v, ("Items", Items(1, 2, 3, 4, 5)));
        Assert.That(() => Encode(v), Throws.TypeOf<XdrEncodeException>(), "items<4> holding 5");
        Assert.That(() => Decode(t, Words(5, 1, 2, 3, 4, 5, 4, 5, 0, 0)), Throws.TypeOf<XdrDecodeException>(), "items<4> of length 5 on the wire");
    }

    [Test]
    public void Rfc5531Program_ProducesAProcedureTablePerVersion()
    {
        var l = new Loaded(@"
struct ping_args { int n; };
struct ping_ret { int n; };
program PING_PROG {
    version PING_V1 {
        /** @api: pingNull @priority: high @acl: connect:getattr */
        void PING_NULL(void) = 0;
        ping_ret PING_ECHO(ping_args) = 1;
    } = 1;
    version PING_V2 {
        ping_ret PING_ECHO2(ping_args) = 1;
    } = 2;
} = 0x20000001;");
        var v1 = l.Table("PingV1Program");
        var v2 = l.Table("PingV2Program");
        Assert.Multiple(() =>
        {
            Assert.That(v1.Program, Is.EqualTo(0x20000001u));
            Assert.That(v1.Version, Is.EqualTo(1u));
            Assert.That(v1.Name, Is.EqualTo("program PING_PROG version PING_V1"));
            Assert.That(v2.Version, Is.EqualTo(2u));
            Assert.That(v1.All.Select(p => (p.Number, p.Name)), Is.EqualTo(new[] { (0, "PING_NULL"), (1, "PING_ECHO") }));
            Assert.That(v1.TryGet(0, out var nul), Is.True);
            Assert.That(nul.ApiName, Is.EqualTo("pingNull"));
            Assert.That(nul.HighPriority, Is.True);
            Assert.That(nul.ReadOnly, Is.True);
            Assert.That(nul.ArgsType, Is.Null);
            Assert.That(nul.RetType, Is.Null);
            Assert.That(v1.TryGet(1, out var echo), Is.True);
            Assert.That(echo.ArgsType, Is.EqualTo(l.Type("PingArgs")));
            Assert.That(echo.RetType, Is.EqualTo(l.Type("PingRet")));
            Assert.That(echo.ApiName, Is.Null);
            Assert.That(echo.HighPriority, Is.False);
            Assert.That(echo.ReadOnly, Is.False, "no @acl: not allowed read-only");
            Assert.That(v2.All.Single().Name, Is.EqualTo("PING_ECHO2"));
        });
        var number = l.Type("PingV1Program").GetField("Number")!;
        Assert.That(number.IsLiteral && number.GetRawConstantValue() is uint u && u == 0x20000001u, Is.True);
    }

    private const string LibvirtStyleProgram = @"
const DEMO_PROGRAM = 0x44454d4f;
const DEMO_PROTOCOL_VERSION = 3;
struct demo_thing_get_args { int id; };
struct demo_thing_get_ret { string name<>; };
struct demo_thing_set_args { int id; string name<>; };
struct demo_thing_event_msg { int id; };
enum demo_procedure {
    /* an ordinary comment: not an annotation */

    /** @api: demoThingGet @priority: high @acl: thing:read */
    DEMO_PROC_THING_GET = 1,

    /**
     * @generate: both
     * @api: demoThingSet
     * @acl: thing:write
     * @acl: thing:save:DEMO_FLAG
     */
    DEMO_PROC_THING_SET = 2,

    /** @acl: none */
    DEMO_PROC_THING_EVENT = 3,

    /**
     * @readstream: 1
     * @priority: low
     * @acl: thing:read
     * @acl: thing:read_secure:DEMO_SECURE
     * @aclfilter: thing:getattr
     */
    DEMO_PROC_THING_DOWNLOAD = 4,

    DEMO_PROC_THING_NO_DOC = 5
};";

    [Test]
    public void LibvirtProcedureEnum_ProducesProcedureInfo()
    {
        var l = new Loaded(LibvirtStyleProgram);
        var table = l.Table("DemoProgram");
        Assert.That(table.Program, Is.EqualTo(0x44454d4fu));
        Assert.That(table.Version, Is.EqualTo(3u));
        Assert.That(table.Name, Is.EqualTo("demo_procedure"));
        Assert.That(table.All.Select(p => p.Name), Is.EqualTo(new[]
        {
            "DEMO_PROC_THING_GET", "DEMO_PROC_THING_SET", "DEMO_PROC_THING_EVENT", "DEMO_PROC_THING_DOWNLOAD", "DEMO_PROC_THING_NO_DOC",
        }));
        Assert.That(Enum.GetNames(l.Type("DemoProcedure")), Is.EqualTo(new[] { "Get", "Set", "Event", "Download", "NoDoc" }),
            "every leading word the members share (DEMO_PROC_THING_) is dropped");
        var get = table.All[0];
        var set = table.All[1];
        var evt = table.All[2];
        var download = table.All[3];
        var nodoc = table.All[4];
        Assert.Multiple(() =>
        {
            // one-line form
            Assert.That(get.ApiName, Is.EqualTo("demoThingGet"));
            Assert.That(get.HighPriority, Is.True);
            Assert.That(get.ReadOnly, Is.True);
            Assert.That(get.Acl, Is.EqualTo(new[] { "thing:read" }));
            Assert.That(get.ArgsType, Is.EqualTo(l.Type("DemoThingGetArgs")));
            Assert.That(get.RetType, Is.EqualTo(l.Type("DemoThingGetRet")));
            Assert.That(get.MsgType, Is.Null);
            Assert.That(get.Stream, Is.False);
            // multi-line form
            Assert.That(set.ApiName, Is.EqualTo("demoThingSet"));
            Assert.That(set.HighPriority, Is.False);
            Assert.That(set.ReadOnly, Is.False);
            Assert.That(set.Acl, Is.EqualTo(new[] { "thing:write", "thing:save:DEMO_FLAG" }));
            Assert.That(set.ArgsType, Is.EqualTo(l.Type("DemoThingSetArgs")));
            Assert.That(set.RetType, Is.Null);
            // a pure message
            Assert.That(evt.ApiName, Is.Null);
            Assert.That(evt.ReadOnly, Is.True, "@acl: none");
            Assert.That(evt.MsgType, Is.EqualTo(l.Type("DemoThingEventMsg")));
            Assert.That(evt.ArgsType, Is.Null);
            // streams, flag-conditional permissions and filters
            Assert.That(download.Stream, Is.True);
            Assert.That(download.HighPriority, Is.False);
            Assert.That(download.ReadOnly, Is.True, "a permission needed only with a flag is left to the handler");
            Assert.That(download.Acl, Is.EqualTo(new[] { "thing:read", "thing:read_secure:DEMO_SECURE" }));
            // no doc comment: nothing known, so not read-only
            Assert.That(nodoc.ApiName, Is.Null);
            Assert.That(nodoc.Acl, Is.Empty);
            Assert.That(nodoc.ReadOnly, Is.False);
        });
    }

    [TestCase(new string[0], false)]
    [TestCase(new[] { "none" }, true)]
    [TestCase(new[] { "connect:getattr" }, true)]
    [TestCase(new[] { "network:read" }, true)]
    [TestCase(new[] { "connect:search_networks" }, true)]
    [TestCase(new[] { "network:write" }, false)]
    [TestCase(new[] { "network:getattr", "network:write" }, false)]
    [TestCase(new[] { "network:read", "network:read_secure:VIR_NETWORK_XML_INACTIVE" }, true)]
    [TestCase(new[] { "connect:read", "connect:write::type:1" }, true)]
    [TestCase(new[] { "bogus" }, false)]
    public void ReadOnlyRule(string[] acl, bool readOnly)
    {
        Assert.That(Compiler.Binder.IsReadOnlyAcl(acl.ToList()), Is.EqualTo(readOnly));
    }

    [Test]
    public void ProcedureEnum_WithoutProgramConstant_IsAnError()
    {
        var r = Compile("enum demo_procedure { DEMO_PROC_A = 1 };");
        Assert.That(r.Diagnostics.Select(d => d.Id + " " + d.Message), Is.EqualTo(new[] { "XDR0202 undefined constant 'DEMO_PROGRAM'" }));
    }

    [Test]
    public void EnumMerelyEndingInProcedure_IsNoProgram()
    {
        var r = Compile("enum step_procedure { FIRST = 1, SECOND = 2 };");
        Assert.That(r.Success, Is.True);
        Assert.That(r.Files.Single().Text, Does.Not.Contain("ProcedureTable"));
    }

    [Test]
    public void CrossFileReferences_UseQualifiedNames()
    {
        var result = XdrCompiler.Compile(new[]
        {
            new XdrSource("dir/a_protocol.x", "const A_MAX = 4;\nstruct a_thing { string s<A_MAX>; };\n"),
            new XdrSource("dir/b_protocol.x", "struct b_holder { a_thing t; a_thing list<A_MAX>; };\n"),
        }, "Cross");
        AssertClean(result);
        var b = result.Files.Single(f => f.HintName == "B.g.cs").Text;
        Assert.That(b, Does.Contain("namespace Cross.B"));
        Assert.That(b, Does.Contain("public global::Cross.A.AThing T;"));
        Assert.That(b, Does.Contain("4u"), "the other file's constant is resolved to its value");
    }

    [Test]
    public void AwkwardNames_CompileCleanly()
    {
        // C# could trip over each of these; the emitted code must not
        var l = new Loaded(@"
enum color { COLOR_RED, COLOR };
enum encode { ENC_A = -2147483648, ENC_B = 2147483647 };
struct system { int a; };
struct object { system sys; string string<>; color color; };
union u switch (int u) { case 1: int value; default: void; };
struct s { int s_x; int s; };");
        Assert.That(Enum.GetNames(l.Type("Color")), Is.EqualTo(new[] { "ColorRed", "Color" }));
        Assert.That(l.Type("Object").GetFields().Select(f => f.Name), Is.EquivalentTo(new[] { "Sys", "String", "Color" }));
        Assert.That(l.Type("U").GetFields().Select(f => f.Name), Is.EquivalentTo(new[] { "UValue", "Value" }));
        Assert.That(l.Type("S").GetFields().Select(f => f.Name), Is.EquivalentTo(new[] { "SX", "SValue" }));
        var enc = l.New("Object", ("Sys", l.New("System", ("A", 1))), ("String", "q"), ("Color", l.Enum("Color", 1)));
        AssertRoundTrip(enc, Words(1, 1, 0x71000000, 1));
        var isDefined = l.Type("EncodeXdr").GetMethod("IsDefined")!;
        Assert.That(isDefined.Invoke(null, new object[] { int.MinValue }), Is.True);
        Assert.That(isDefined.Invoke(null, new object[] { 0 }), Is.False);
    }

    [Test]
    public void GeneratedText_IsMarkedGenerated_AndNamesItsSource()
    {
        var r = XdrCompiler.Compile(new[] { new XdrSource("/some/dir/thing_protocol.x", "const A = 1;") }, "Label", "my-generator");
        var text = r.Files.Single().Text;
        Assert.That(r.Files.Single().HintName, Is.EqualTo("Thing.g.cs"));
        Assert.That(text, Does.StartWith("// <auto-generated>\n// Generated by my-generator from thing_protocol.x. Do not edit.\n"));
        Assert.That(text, Does.Contain("#nullable enable"));
    }
}
