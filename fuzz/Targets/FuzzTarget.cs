using System.Text;

namespace VirtNetworkd.Fuzz;

/// <summary>Where generated seeds come from: the golden packets and libvirt's source tree (both optional).</summary>
public sealed record SeedSources(string? GoldenDir, string? LibvirtSource)
{
    /// <summary>The packets of the golden *.hex files whose name ends with <paramref name="suffix"/>.</summary>
    public IEnumerable<(string Name, byte[] Packet)> Golden(string suffix)
    {
        if (GoldenDir is null || !Directory.Exists(GoldenDir)) yield break;
        foreach (var file in Directory.GetFiles(GoldenDir, "*" + suffix).Order(StringComparer.Ordinal))
            yield return (Path.GetFileName(file)[..^suffix.Length], Hex.ReadFile(file));
    }

    /// <summary>The files of a folder of libvirt's tests/ (e.g. networkxml2xmlin), when the tree is there.</summary>
    public IEnumerable<(string Name, string Text)> LibvirtTests(string folder, string pattern = "*.xml")
    {
        if (LibvirtSource is null) yield break;
        string dir = Path.Combine(LibvirtSource, "tests", folder);
        if (!Directory.Exists(dir)) yield break;
        foreach (var file in Directory.GetFiles(dir, pattern).Order(StringComparer.Ordinal))
            yield return (Path.GetFileName(file), File.ReadAllText(file));
    }
}

/// <summary>Hex dumps as the golden vectors keep them: '#' comment lines, then hex bytes.</summary>
public static class Hex
{
    public static byte[] ReadFile(string path) => Parse(File.ReadAllLines(path).Where(l => !l.StartsWith('#')));

    public static byte[] Parse(IEnumerable<string> lines)
    {
        var hex = new StringBuilder();
        foreach (var line in lines)
            foreach (char c in line)
                if (Uri.IsHexDigit(c)) hex.Append(c);
        return Convert.FromHexString(hex.ToString());
    }
}

/// <summary>A defect the oracle found: not one of the documented failures.</summary>
public sealed class FuzzFinding(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>One fuzzing target: an untrusted input of the daemon, its oracle and its seeds.</summary>
public abstract class FuzzTarget
{
    public abstract string Name { get; }

    /// <summary>One line: what is fed and what is checked.</summary>
    public abstract string Summary { get; }

    /// <summary>Once per process, before the first input.</summary>
    public virtual void Setup()
    {
    }

    /// <summary>Runs one input. A documented failure is caught inside; anything that escapes is a finding.</summary>
    public abstract void Run(ReadOnlySpan<byte> input);

    /// <summary>The generated seed corpus: (file name, bytes).</summary>
    public abstract IEnumerable<(string Name, byte[] Data)> Seeds(SeedSources sources);

    /// <summary>AFL dictionary tokens.</summary>
    public abstract IEnumerable<byte[]> Dictionary();

    protected static readonly UTF8Encoding StrictUtf8 = new(false, throwOnInvalidBytes: true);

    /// <summary>Text as the daemon receives it (an XDR string is valid UTF-8), or null.</summary>
    protected static string? Text(ReadOnlySpan<byte> input)
    {
        try
        {
            return StrictUtf8.GetString(input);
        }
        catch (DecoderFallbackException)
        {
            return null;
        }
    }

    protected static byte[] Utf8(string s) => Encoding.UTF8.GetBytes(s);

    protected static byte[] Prefix(ReadOnlySpan<byte> prefix, string text) => [.. prefix, .. Encoding.UTF8.GetBytes(text)];
}

/// <summary>The target list (issue 15's numbering in fuzz/README.md).</summary>
public static class FuzzTargets
{
    public static readonly FuzzTarget[] All =
    [
        new RpcTarget(),
        new XdrTarget(),
        new NetXmlTarget(),
        new NetUpdateTarget(),
        new PortXmlTarget(),
        new ConfTarget(),
        new LogSpecTarget(),
        new DnsmasqConfTarget(),
        new LeasesTarget(),
        new NetlinkTarget(),
    ];

    public static FuzzTarget? Find(string name) => All.FirstOrDefault(t => t.Name == name);
}
