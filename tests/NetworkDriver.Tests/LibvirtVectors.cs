using System.Text.RegularExpressions;
using VirtNetworkd.Tests.Shared;

namespace VirtNetworkd.NetworkDriver.Tests;

/// <summary>
/// Where libvirt's test vectors are, and the case tables of libvirt's test programs, read from
/// the .c files themselves so that no case is forgotten.
/// </summary>
internal static partial class LibvirtVectors
{
    /// <summary>libvirt 9.0's tests/ folder (the vectors that hold for 10.8 formatting).</summary>
    public static string Tests90 => Path.Combine(RepoPaths.LibvirtSource(), "tests");

    /// <summary>libvirt 11.3's tests/ folder: used only for cases whose 10.8 behaviour differs from 9.0.</summary>
    public static string Tests113 => Path.Combine(RepoPaths.LibvirtSource("trixie"), "tests");

    public static string Read(string path) => File.ReadAllText(path);

    /// <summary>The C source with comments removed.</summary>
    public static string ReadC(string path)
    {
        string src = File.ReadAllText(path);
        src = BlockComment().Replace(src, " ");
        return LineComment().Replace(src, "");
    }

    [GeneratedRegex(@"/\*.*?\*/", RegexOptions.Singleline)]
    private static partial Regex BlockComment();

    [GeneratedRegex(@"//[^\n]*")]
    private static partial Regex LineComment();

    /// <summary>Top-level macro invocations NAME(args) in order, args split on commas outside quotes/parens.</summary>
    public static IEnumerable<(string Macro, List<string> Args, int Position)> Invocations(string src, IReadOnlyCollection<string> macros)
    {
        var rx = new Regex(@"\b(" + string.Join("|", macros.Select(Regex.Escape)) + @")\s*\(");
        foreach (Match m in rx.Matches(src))
        {
            // skip the #define lines
            int lineStart = src.LastIndexOf('\n', m.Index) + 1;
            if (src.AsSpan(lineStart, m.Index - lineStart).Trim().StartsWith("#define", StringComparison.Ordinal)) continue;
            int i = m.Index + m.Length;
            int depth = 1;
            var args = new List<string>();
            var cur = new System.Text.StringBuilder();
            bool inStr = false;
            for (; i < src.Length && depth > 0; i++)
            {
                char c = src[i];
                if (inStr)
                {
                    if (c == '\\') { cur.Append(c).Append(src[++i]); continue; }
                    if (c == '"') inStr = false;
                    cur.Append(c);
                    continue;
                }
                switch (c)
                {
                    case '"': inStr = true; cur.Append(c); break;
                    case '(': depth++; cur.Append(c); break;
                    case ')':
                        depth--;
                        if (depth > 0) cur.Append(c);
                        break;
                    case ',' when depth == 1:
                        args.Add(cur.ToString().Trim());
                        cur.Clear();
                        break;
                    default: cur.Append(c); break;
                }
            }
            args.Add(cur.ToString().Trim());
            yield return (m.Groups[1].Value, args, m.Index);
        }
    }

    /// <summary>A C string literal (possibly several adjacent ones) as text.</summary>
    public static string Str(string arg)
    {
        var parts = Regex.Matches(arg, "\"((?:[^\"\\\\]|\\\\.)*)\"");
        return string.Concat(parts.Select(p => p.Groups[1].Value));
    }
}
