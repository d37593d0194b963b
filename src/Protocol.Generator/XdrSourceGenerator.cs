using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;
using VirtNetworkd.Protocol.Generator.Compiler;

namespace VirtNetworkd.Protocol.Generator
{
    /// <summary>
    /// Compiles every <c>.x</c> AdditionalFile of a project as one unit and adds the C#.
    /// Stages (each cached on equal input): read files → compile → add sources / report.
    /// </summary>
    [Generator(LanguageNames.CSharp)]
    public sealed class XdrSourceGenerator : IIncrementalGenerator
    {
        public const string ReadStep = "XdrRead";
        public const string CompileStep = "XdrCompile";

        public void Initialize(IncrementalGeneratorInitializationContext context)
        {
            var sources = context.AdditionalTextsProvider
                .Where(t => t.Path.EndsWith(".x", System.StringComparison.OrdinalIgnoreCase))
                .Select((t, ct) => new SourceText(t.Path, t.GetText(ct)?.ToString() ?? ""))
                .WithTrackingName(ReadStep)
                .Collect();

            var compiled = sources
                .Select((files, _) => XdrCompiler.Compile(files.Select(f => new XdrSource(f.Path, f.Text))))
                .WithTrackingName(CompileStep);

            context.RegisterSourceOutput(compiled, (spc, result) =>
            {
                foreach (var d in result.Diagnostics)
                {
                    var loc = Location.Create(d.Location.File, default,
                        new LinePositionSpan(new LinePosition(d.Location.Line - 1, d.Location.Column - 1), new LinePosition(d.Location.Line - 1, d.Location.Column - 1)));
                    spc.ReportDiagnostic(Diagnostic.Create(
                        new DiagnosticDescriptor(d.Id, "XDR compile error", "{0}", "XDR", DiagnosticSeverity.Error, true), loc, d.Message));
                }
                foreach (var f in result.Files) spc.AddSource(f.HintName, f.Text);
            });
        }

        /// <summary>A .x file's path and text, compared by value.</summary>
        private sealed class SourceText : System.IEquatable<SourceText>
        {
            public SourceText(string path, string text)
            {
                Path = path;
                Text = text;
            }

            public string Path { get; }
            public string Text { get; }
            public bool Equals(SourceText? other) => other != null && other.Path == Path && other.Text == Text;
            public override bool Equals(object? obj) => Equals(obj as SourceText);
            public override int GetHashCode() => Path.GetHashCode();
        }
    }
}
