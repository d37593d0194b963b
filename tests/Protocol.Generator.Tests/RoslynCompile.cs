using System.Buffers;
using System.Collections.Immutable;
using System.Reflection;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using VirtNetworkd.Protocol.Generator.Compiler;
using VirtNetworkd.Protocol.Xdr;

namespace VirtNetworkd.Protocol.Generator.Tests;

/// <summary>
/// Compiles the C# the .x compiler emits with Roslyn, against the framework and the
/// VirtNetworkd.Protocol runtime, the way the real build does (nullable on, every warning on),
/// and loads it when a test needs to run the generated codecs.
/// </summary>
internal static class RoslynCompile
{
    private static int _counter;

    private static readonly Lazy<ImmutableArray<MetadataReference>> LazyReferences = new(LoadReferences);

    public static ImmutableArray<MetadataReference> References => LazyReferences.Value;

    /// <summary>The framework assemblies of the trusted platform list, the runtime the generated
    /// code calls and the assemblies that runtime references.</summary>
    private static ImmutableArray<MetadataReference> LoadReferences()
    {
        var tpa = AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES") as string
            ?? throw new InvalidOperationException("TRUSTED_PLATFORM_ASSEMBLIES is not set");
        var paths = tpa.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries);
        string frameworkDir = Path.GetDirectoryName(typeof(object).Assembly.Location)!;
        var runtime = typeof(XdrWriter).Assembly;
        var wanted = new HashSet<string>(StringComparer.OrdinalIgnoreCase) { runtime.GetName().Name! };
        foreach (var r in runtime.GetReferencedAssemblies()) wanted.Add(r.Name!);
        var refs = ImmutableArray.CreateBuilder<MetadataReference>();
        foreach (var p in paths)
        {
            if (string.Equals(Path.GetDirectoryName(p), frameworkDir, StringComparison.Ordinal)
                || wanted.Contains(Path.GetFileNameWithoutExtension(p)))
            {
                refs.Add(MetadataReference.CreateFromFile(p));
            }
        }
        return refs.ToImmutable();
    }

    public static CSharpCompilation Create(IEnumerable<GeneratedFile> files, string? assemblyName = null)
    {
        var parse = new CSharpParseOptions(LanguageVersion.Latest, DocumentationMode.Diagnose);
        var trees = files.Select(f => CSharpSyntaxTree.ParseText(f.Text, parse, path: f.HintName)).ToList();
        var options = new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary,
            nullableContextOptions: NullableContextOptions.Enable,
            warningLevel: 9999,
            optimizationLevel: OptimizationLevel.Release,
            concurrentBuild: true);
        return CSharpCompilation.Create(assemblyName ?? "XdrGenerated" + Interlocked.Increment(ref _counter), trees, References, options);
    }

    /// <summary>Every error and warning of compiling <paramref name="files"/> (hidden and info
    /// diagnostics left out), formatted for a failure message.</summary>
    public static List<string> Problems(CSharpCompilation compilation) =>
        compilation.GetDiagnostics()
            .Where(d => d.Severity >= DiagnosticSeverity.Warning)
            .Select(d => d.ToString())
            .ToList();

    /// <summary>Compiles the .x compiler's output and asserts it has no error and no warning.</summary>
    public static CSharpCompilation AssertClean(XdrCompilationResult result)
    {
        Assert.That(result.Diagnostics.Select(d => d.ToString()), Is.Empty, "the .x compiler reported diagnostics");
        Assert.That(result.Files, Is.Not.Empty, "the .x compiler emitted no file");
        var compilation = Create(result.Files);
        var problems = Problems(compilation);
        Assert.That(problems, Is.Empty, "Roslyn errors/warnings in the generated C#:\n" + string.Join("\n", problems.Take(50)));
        return compilation;
    }

    /// <summary>Compiles a small .x source to C#, checks it compiles cleanly and loads it.</summary>
    public static Assembly CompileAndLoad(string xSource, string file = "test.x", string? rootNamespace = null)
    {
        var result = XdrCompiler.Compile(new[] { new XdrSource(file, xSource) }, rootNamespace ?? NextNamespace());
        var compilation = AssertClean(result);
        using var ms = new MemoryStream();
        var emit = compilation.Emit(ms);
        Assert.That(emit.Success, Is.True, string.Join("\n", emit.Diagnostics));
        return Assembly.Load(ms.ToArray());
    }

    /// <summary>A root namespace no other test uses, so loaded assemblies never share type names.</summary>
    public static string NextNamespace() => "Gen" + Interlocked.Increment(ref _counter);

    public static Type TypeIn(Assembly assembly, string fullName) =>
        assembly.GetType(fullName) ?? throw new AssertionException("the generated assembly has no type " + fullName
            + "; it has: " + string.Join(", ", assembly.GetTypes().Select(t => t.FullName)));

    /// <summary>Encodes a boxed generated value with its own Encode (XdrCodec.Encode&lt;T&gt;).</summary>
    public static byte[] Encode(object value)
    {
        var m = typeof(RoslynCompile).GetMethod(nameof(EncodeGeneric), BindingFlags.NonPublic | BindingFlags.Static)!;
        try
        {
            return (byte[])m.MakeGenericMethod(value.GetType()).Invoke(null, new[] { value })!;
        }
        catch (TargetInvocationException e) when (e.InnerException is not null)
        {
            throw e.InnerException;
        }
    }

    /// <summary>Decodes a whole message body as generated type <paramref name="type"/>.</summary>
    public static object Decode(Type type, byte[] data)
    {
        var m = typeof(RoslynCompile).GetMethod(nameof(DecodeGeneric), BindingFlags.NonPublic | BindingFlags.Static)!;
        try
        {
            return m.MakeGenericMethod(type).Invoke(null, new object[] { data })!;
        }
        catch (TargetInvocationException e) when (e.InnerException is not null)
        {
            throw e.InnerException;
        }
    }

    private static byte[] EncodeGeneric<T>(T value) where T : IXdrType<T>
    {
        var buffer = new ArrayBufferWriter<byte>();
        XdrCodec.Encode(buffer, value);
        return buffer.WrittenSpan.ToArray();
    }

    private static T DecodeGeneric<T>(byte[] data) where T : IXdrType<T> => XdrCodec.Decode<T>(data);

    /// <summary>Sets public fields of a boxed struct: <c>Set(box, ("A", 1), ("S", "x"))</c>.</summary>
    public static object Set(object boxed, params (string Field, object? Value)[] fields)
    {
        foreach (var (name, value) in fields)
        {
            var f = boxed.GetType().GetField(name) ?? throw new AssertionException(boxed.GetType() + " has no field " + name);
            f.SetValue(boxed, value);
        }
        return boxed;
    }

    public static object? Get(object boxed, string field) =>
        (boxed.GetType().GetField(field) ?? throw new AssertionException(boxed.GetType() + " has no field " + field)).GetValue(boxed);

    /// <summary>Big-endian XDR words, for writing expected bytes by hand.</summary>
    public static byte[] Words(params uint[] words)
    {
        var b = new byte[words.Length * 4];
        for (int i = 0; i < words.Length; i++) System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(i * 4), words[i]);
        return b;
    }
}
