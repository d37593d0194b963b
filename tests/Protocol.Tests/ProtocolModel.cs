using VirtNetworkd.Protocol.Generator.Compiler;
using VirtNetworkd.Tests.Shared;

namespace VirtNetworkd.Protocol.Tests;

/// <summary>
/// protocol-defs/*.x as the compiler resolves them (bounds, arms, enum members): the oracle
/// for generating values of every generated type, matched to the runtime types by name.
/// </summary>
internal static class ProtocolModel
{
    private static readonly Lazy<List<FileScope>> ScopesLazy = new(() =>
    {
        var sources = Directory.GetFiles(RepoPaths.ProtocolDefs, "*.x").Select(f => new XdrSource(f, File.ReadAllText(f)));
        var diagnostics = new DiagnosticBag();
        var scopes = XdrCompiler.Bind(sources, XdrCompiler.DefaultNamespace, diagnostics);
        if (diagnostics.Items.Count > 0) throw new InvalidOperationException(string.Join("\n", diagnostics.Items));
        return scopes;
    });

    public static IEnumerable<TypeSymbol> WireTypes =>
        ScopesLazy.Value.SelectMany(s => s.Types).Where(t => t is StructSymbol or UnionSymbol);

    public static Type RuntimeType(TypeSymbol t) =>
        typeof(Remote.RemoteProgram).Assembly.GetType(t.Scope.Namespace + "." + t.CsName, throwOnError: true)!;
}
