using System.Collections.Generic;
using System.Linq;

namespace VirtNetworkd.Protocol.Generator.Compiler
{
    public sealed class XdrSource
    {
        public XdrSource(string path, string text)
        {
            Path = path;
            Text = text;
        }

        public string Path { get; }
        public string Text { get; }
    }

    /// <summary>One emitted C# file; compared by value so the incremental generator can cache.</summary>
    public sealed class GeneratedFile : System.IEquatable<GeneratedFile>
    {
        public GeneratedFile(string hintName, string text)
        {
            HintName = hintName;
            Text = text;
        }

        public string HintName { get; }
        public string Text { get; }

        public bool Equals(GeneratedFile? other) => other != null && other.HintName == HintName && other.Text == Text;
        public override bool Equals(object? obj) => Equals(obj as GeneratedFile);
        public override int GetHashCode() => HintName.GetHashCode() ^ Text.Length;
    }

    public sealed class XdrCompilationResult : System.IEquatable<XdrCompilationResult>
    {
        public XdrCompilationResult(IReadOnlyList<XdrDiagnostic> diagnostics, IReadOnlyList<GeneratedFile> files)
        {
            Diagnostics = diagnostics;
            Files = files;
        }

        public IReadOnlyList<XdrDiagnostic> Diagnostics { get; }
        /// <summary>Empty when there are diagnostics: nothing is emitted from a broken unit.</summary>
        public IReadOnlyList<GeneratedFile> Files { get; }
        public bool Success => Diagnostics.Count == 0;

        public bool Equals(XdrCompilationResult? other) =>
            other != null
            && other.Files.SequenceEqual(Files)
            && other.Diagnostics.Select(d => d.ToString()).SequenceEqual(Diagnostics.Select(d => d.ToString()));

        public override bool Equals(object? obj) => Equals(obj as XdrCompilationResult);
        public override int GetHashCode() => Files.Count * 31 + Diagnostics.Count;
    }

    /// <summary>
    /// The .x compiler: lex → parse → bind → emit. All sources form one unit, so one file may use
    /// another's types (as qemu_protocol.x uses remote_protocol.x's).
    /// </summary>
    public static class XdrCompiler
    {
        public const string DefaultNamespace = "VirtNetworkd.Protocol";

        public static XdrCompilationResult Compile(IEnumerable<XdrSource> sources, string rootNamespace = DefaultNamespace, string generatorLabel = "VirtNetworkd.Protocol.Generator")
        {
            var diagnostics = new DiagnosticBag();
            var scopes = Bind(sources, rootNamespace, diagnostics);
            var sameNamespace = scopes.GroupBy(s => s.Namespace).FirstOrDefault(g => g.Count() > 1);
            if (sameNamespace != null)
            {
                diagnostics.Add(DiagnosticIds.NameClash, "files " + string.Join(" and ", sameNamespace.Select(s => s.Path).ToArray()) + " map to the same namespace " + sameNamespace.Key, new SourceLocation(sameNamespace.Last().Path, 1, 1));
            }
            if (diagnostics.Items.Count > 0)
                return new XdrCompilationResult(diagnostics.Items, new GeneratedFile[0]);
            var output = new List<GeneratedFile>();
            foreach (var scope in scopes)
            {
                string leaf = scope.Namespace.Substring(scope.Namespace.LastIndexOf('.') + 1);
                output.Add(new GeneratedFile(leaf + ".g.cs", CSharpEmitter.Emit(scope, generatorLabel)));
            }
            return new XdrCompilationResult(diagnostics.Items, output);
        }

        /// <summary>Lex, parse and bind: the resolved model the emitter (and tests) work from.</summary>
        internal static List<FileScope> Bind(IEnumerable<XdrSource> sources, string rootNamespace, DiagnosticBag diagnostics)
        {
            var files = new List<XdrFile>();
            foreach (var s in sources.OrderBy(s => s.Path, System.StringComparer.Ordinal))
            {
                var tokens = new Lexer(s.Path, s.Text, diagnostics).Tokenize();
                files.Add(new Parser(s.Path, tokens, diagnostics).ParseFile());
            }
            return new Binder(rootNamespace, diagnostics).Bind(files);
        }
    }
}
