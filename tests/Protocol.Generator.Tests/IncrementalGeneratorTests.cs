extern alias GeneratorAssembly;
using System.Collections.Immutable;
using System.Text;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Text;
using XdrSourceGenerator = GeneratorAssembly::VirtNetworkd.Protocol.Generator.XdrSourceGenerator;

namespace VirtNetworkd.Protocol.Generator.Tests;

/// <summary>An AdditionalText held in memory, as the IDE or MSBuild would hand one to a generator.</summary>
internal sealed class InMemoryAdditionalText : AdditionalText
{
    private readonly SourceText _text;

    public InMemoryAdditionalText(string path, string text)
    {
        Path = path;
        _text = SourceText.From(text, Encoding.UTF8);
    }

    public override string Path { get; }

    public override SourceText GetText(CancellationToken cancellationToken = default) => _text;
}

/// <summary>
/// The Roslyn generator over .x AdditionalFiles: it adds the C#, reports .x errors as Roslyn
/// diagnostics at their line, and its compile step is cached when nothing it reads changed.
/// </summary>
public sealed class IncrementalGeneratorTests
{
    private const string DemoX = "const DEMO_MAX = 8;\nstruct demo_item { int id; string name<DEMO_MAX>; };\n";
    private const string DemoPath = "/defs/demo.x";

    private static CSharpCompilation HostCompilation() =>
        CSharpCompilation.Create("Host",
            new[] { CSharpSyntaxTree.ParseText("namespace Host { public static class Uses { public static int Id(VirtNetworkd.Protocol.Demo.DemoItem i) => i.Id; } }", Parse) },
            RoslynCompile.References,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));

    private static readonly CSharpParseOptions Parse = new(LanguageVersion.Latest);

    private static GeneratorDriver Driver(params AdditionalText[] texts) =>
        CSharpGeneratorDriver.Create(
            new[] { new XdrSourceGenerator().AsSourceGenerator() },
            texts,
            Parse,
            optionsProvider: null,
            driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: true));

    private static GeneratorRunResult Single(GeneratorDriver driver) => driver.GetRunResult().Results.Single();

    private static IncrementalStepRunReason[] Reasons(GeneratorRunResult run, string step)
    {
        Assert.That(run.TrackedSteps.ContainsKey(step), Is.True, "no tracked step " + step + "; have: " + string.Join(", ", run.TrackedSteps.Keys));
        return run.TrackedSteps[step].SelectMany(s => s.Outputs).Select(o => o.Reason).ToArray();
    }

    [Test]
    public void TrackingNames_AreTheDocumentedOnes()
    {
        Assert.That(XdrSourceGenerator.ReadStep, Is.EqualTo("XdrRead"));
        Assert.That(XdrSourceGenerator.CompileStep, Is.EqualTo("XdrCompile"));
    }

    [Test]
    public void Generates_TheCSharp_ThatTheHostCompilesAgainst()
    {
        var driver = Driver(new InMemoryAdditionalText(DemoPath, DemoX)).RunGeneratorsAndUpdateCompilation(HostCompilation(), out var output, out var diagnostics);
        Assert.That(diagnostics, Is.Empty);
        var run = Single(driver);
        Assert.That(run.Exception, Is.Null);
        Assert.That(run.GeneratedSources.Select(s => s.HintName), Is.EqualTo(new[] { "Demo.g.cs" }));
        Assert.That(run.GeneratedSources[0].SourceText.ToString(), Does.Contain("namespace VirtNetworkd.Protocol.Demo"));
        var problems = output.GetDiagnostics().Where(d => d.Severity >= DiagnosticSeverity.Warning).Select(d => d.ToString()).ToList();
        Assert.That(problems, Is.Empty);
    }

    [Test]
    public void OnlyDotXFiles_AreRead()
    {
        var driver = Driver(new InMemoryAdditionalText("/defs/notes.txt", "not xdr at all $$$"), new InMemoryAdditionalText("/defs/UPPER.X", DemoX))
            .RunGenerators(HostCompilation());
        var run = Single(driver);
        Assert.That(run.Diagnostics, Is.Empty, "the .txt file was compiled");
        Assert.That(run.GeneratedSources.Select(s => s.HintName), Is.EqualTo(new[] { "UPPER.g.cs" }));
        Assert.That(Reasons(run, XdrSourceGenerator.ReadStep), Has.Length.EqualTo(1));
    }

    [Test]
    public void CompileStep_IsCached_WhenAnUnrelatedSyntaxTreeIsAdded()
    {
        var compilation = HostCompilation();
        var driver = Driver(new InMemoryAdditionalText(DemoPath, DemoX)).RunGenerators(compilation);
        var first = Single(driver);
        Assert.That(Reasons(first, XdrSourceGenerator.ReadStep), Is.EqualTo(new[] { IncrementalStepRunReason.New }));
        Assert.That(Reasons(first, XdrSourceGenerator.CompileStep), Is.EqualTo(new[] { IncrementalStepRunReason.New }));

        driver = driver.RunGenerators(compilation.AddSyntaxTrees(CSharpSyntaxTree.ParseText("class Unrelated { }", Parse)));
        var second = Single(driver);
        Assert.That(Reasons(second, XdrSourceGenerator.ReadStep), Has.All.AnyOf(IncrementalStepRunReason.Cached, IncrementalStepRunReason.Unchanged));
        Assert.That(Reasons(second, XdrSourceGenerator.CompileStep), Is.Not.Empty.And.All.AnyOf(IncrementalStepRunReason.Cached, IncrementalStepRunReason.Unchanged));
        Assert.That(second.GeneratedSources.Select(s => s.SourceText.ToString()), Is.EqualTo(first.GeneratedSources.Select(s => s.SourceText.ToString())));
    }

    [Test]
    public void CompileStep_Reruns_WhenTheXTextChanges()
    {
        var original = new InMemoryAdditionalText(DemoPath, DemoX);
        var compilation = HostCompilation();
        var driver = Driver(original).RunGenerators(compilation);

        driver = driver.ReplaceAdditionalText(original, new InMemoryAdditionalText(DemoPath, DemoX.Replace("DEMO_MAX = 8", "DEMO_MAX = 9", StringComparison.Ordinal)));
        driver = driver.RunGenerators(compilation);
        var run = Single(driver);
        Assert.That(Reasons(run, XdrSourceGenerator.ReadStep), Has.Some.AnyOf(IncrementalStepRunReason.Modified, IncrementalStepRunReason.New));
        Assert.That(Reasons(run, XdrSourceGenerator.CompileStep), Is.Not.Empty.And.All.AnyOf(IncrementalStepRunReason.Modified, IncrementalStepRunReason.New));
        Assert.That(run.GeneratedSources.Single().SourceText.ToString(), Does.Contain("public const int DemoMax = 9;"));
    }

    [Test]
    public void CommentOnlyEdit_RecompilesToAnUnchangedResult()
    {
        var original = new InMemoryAdditionalText(DemoPath, DemoX);
        var compilation = HostCompilation();
        var driver = Driver(original).RunGenerators(compilation);
        driver = driver.ReplaceAdditionalText(original, new InMemoryAdditionalText(DemoPath, "/* a new comment */\n" + DemoX));
        var run = Single(driver.RunGenerators(compilation));
        Assert.That(Reasons(run, XdrSourceGenerator.ReadStep), Has.Some.EqualTo(IncrementalStepRunReason.Modified));
        // the .x text differs, the emitted C# does not: later stages see an unchanged value
        Assert.That(Reasons(run, XdrSourceGenerator.CompileStep), Is.EqualTo(new[] { IncrementalStepRunReason.Unchanged }));
    }

    [Test]
    public void AddingASecondXFile_RerunsTheCompile_AndAddsItsFile()
    {
        var compilation = HostCompilation();
        var driver = Driver(new InMemoryAdditionalText(DemoPath, DemoX)).RunGenerators(compilation);
        driver = driver.AddAdditionalTexts(ImmutableArray.Create<AdditionalText>(new InMemoryAdditionalText("/defs/other.x", "struct other_thing { demo_item item; };\n")));
        var run = Single(driver.RunGenerators(compilation));
        Assert.That(Reasons(run, XdrSourceGenerator.CompileStep), Is.EqualTo(new[] { IncrementalStepRunReason.Modified }));
        Assert.That(run.GeneratedSources.Select(s => s.HintName), Is.EquivalentTo(new[] { "Demo.g.cs", "Other.g.cs" }));
        Assert.That(run.GeneratedSources.Single(s => s.HintName == "Other.g.cs").SourceText.ToString(),
            Does.Contain("public global::VirtNetworkd.Protocol.Demo.DemoItem Item;"));
    }

    [Test]
    public void BadX_SurfacesAsARoslynError_AtItsLine()
    {
        const string bad = "const A = 1;\n\nstruct s {\n    int x;\n    nothing_t y;\n};\n";
        var driver = Driver(new InMemoryAdditionalText("/defs/broken.x", bad)).RunGeneratorsAndUpdateCompilation(HostCompilation(), out _, out var diagnostics);
        var run = Single(driver);
        Assert.That(run.GeneratedSources, Is.Empty, "nothing is emitted from a broken unit");
        var d = diagnostics.Single();
        Assert.Multiple(() =>
        {
            Assert.That(d.Id, Is.EqualTo("XDR0202"));
            Assert.That(d.Severity, Is.EqualTo(DiagnosticSeverity.Error));
            Assert.That(d.GetMessage(System.Globalization.CultureInfo.InvariantCulture), Is.EqualTo("undefined type 'nothing_t'"));
            var span = d.Location.GetLineSpan();
            Assert.That(span.Path, Is.EqualTo("/defs/broken.x"));
            Assert.That(span.StartLinePosition.Line, Is.EqualTo(4), "0-based line of .x line 5");
            Assert.That(span.StartLinePosition.Character, Is.EqualTo(4), "0-based column of .x column 5");
        });
    }

    [Test]
    public void FixingTheX_ClearsTheError()
    {
        var broken = new InMemoryAdditionalText(DemoPath, "struct a { b_t x; };\n");
        var compilation = HostCompilation();
        var driver = Driver(broken).RunGenerators(compilation);
        Assert.That(Single(driver).Diagnostics.Select(d => d.Id), Is.EqualTo(new[] { "XDR0202" }));
        driver = driver.ReplaceAdditionalText(broken, new InMemoryAdditionalText(DemoPath, DemoX)).RunGenerators(compilation);
        Assert.That(Single(driver).Diagnostics, Is.Empty);
        Assert.That(Single(driver).GeneratedSources, Has.Length.EqualTo(1));
    }
}
