using VirtNetworkd.Protocol.Generator.Compiler;

namespace VirtNetworkd.Protocol.Generator;

/// <summary>
/// xdrgen [--out DIR] [--namespace NS] FILE.x...
/// Compiles the files as one unit. Exit 0 on success (C# written to DIR, or a summary when no
/// --out); exit 1 with file:line:col diagnostics on stderr; exit 2 on bad usage.
/// </summary>
public static class Program
{
    public static int Main(string[] args) => Run(args, Console.Out, Console.Error);

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        string? outDir = null;
        string ns = XdrCompiler.DefaultNamespace;
        var files = new List<string>();
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--out" when i + 1 < args.Length:
                    outDir = args[++i];
                    break;
                case "--namespace" when i + 1 < args.Length:
                    ns = args[++i];
                    break;
                case "-h":
                case "--help":
                    stdout.WriteLine("usage: xdrgen [--out DIR] [--namespace NS] FILE.x...");
                    stdout.WriteLine("Compiles XDR (.x) files as one unit into C# (one .g.cs per file).");
                    return 0;
                default:
                    if (args[i].StartsWith('-'))
                    {
                        stderr.WriteLine($"xdrgen: unknown option '{args[i]}'");
                        return 2;
                    }
                    files.Add(args[i]);
                    break;
            }
        }
        if (files.Count == 0)
        {
            stderr.WriteLine("usage: xdrgen [--out DIR] [--namespace NS] FILE.x...");
            return 2;
        }
        var sources = new List<XdrSource>();
        foreach (var f in files)
        {
            try
            {
                sources.Add(new XdrSource(f, File.ReadAllText(f)));
            }
            catch (IOException e)
            {
                stderr.WriteLine($"{f}: {e.Message}");
                return 1;
            }
            catch (UnauthorizedAccessException e)
            {
                stderr.WriteLine($"{f}: {e.Message}");
                return 1;
            }
        }
        var result = XdrCompiler.Compile(sources, ns, "xdrgen");
        foreach (var d in result.Diagnostics) stderr.WriteLine(d.ToString());
        if (!result.Success) return 1;
        if (outDir is not null)
        {
            Directory.CreateDirectory(outDir);
            foreach (var g in result.Files) File.WriteAllText(Path.Combine(outDir, g.HintName), g.Text);
        }
        foreach (var g in result.Files) stdout.WriteLine($"{g.HintName}: {g.Text.Length} chars");
        return 0;
    }
}
