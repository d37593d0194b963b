using System.Text.RegularExpressions;

namespace VirtNetworkd.Integration.Tests;

/// <summary>
/// The same virsh command against our daemon and the reference libvirtd, compared on exit code,
/// stdout and stderr after the named normalisations of <see cref="Normalise"/> — and nothing else.
/// </summary>
public sealed class Differential(string oursUri, string theirsUri)
{
    public sealed record Pair(Tools.Result Ours, Tools.Result Theirs)
    {
        public override string ToString() => $"ours: {Ours}\ntheirs: {Theirs}";
    }

    public Pair Run(params string[] args) => new(Tools.Virsh(oursUri, args), Tools.Virsh(theirsUri, args));

    /// <summary>Runs <paramref name="args"/> on both and asserts they agree.</summary>
    public Pair Same(params string[] args)
    {
        var p = Run(args);
        AssertSame(p, "virsh " + string.Join(' ', args));
        return p;
    }

    /// <summary>net-list and friends: only the lines naming <paramref name="ours"/> count (see <see cref="Normalise.ForeignNetworks"/>).</summary>
    public Pair SameList(IReadOnlyCollection<string> ours, params string[] args)
    {
        var p = Run(args);
        string what = "virsh " + string.Join(' ', args);
        Assert.That(p.Ours.ExitCode, Is.EqualTo(p.Theirs.ExitCode), $"{what}: exit code\n{p}");
        Assert.That(Normalise.ForeignNetworks(p.Ours.Stdout, ours), Is.EqualTo(Normalise.ForeignNetworks(p.Theirs.Stdout, ours)), $"{what}: stdout\n{p}");
        Assert.That(p.Ours.Stderr, Is.EqualTo(p.Theirs.Stderr), $"{what}: stderr\n{p}");
        return p;
    }

    public static void AssertSame(Pair p, string what)
    {
        Assert.That(p.Ours.ExitCode, Is.EqualTo(p.Theirs.ExitCode), $"{what}: exit code\n{p}");
        Assert.That(Normalise.Ours(p.Ours.Stdout), Is.EqualTo(Normalise.Theirs(p.Theirs.Stdout)), $"{what}: stdout\n{p}");
        string theirs = Normalise.Theirs(p.Theirs.Stderr), ours = Normalise.Ours(p.Ours.Stderr);
        if (theirs.Contains(Normalise.EndOfInputContext, StringComparison.Ordinal)) ours = Normalise.XmlErrorContextAtEnd(ours);
        Assert.That(ours, Is.EqualTo(theirs), $"{what}: stderr\n{p}");
    }
}

/// <summary>
/// Every difference between our daemon and the reference that the differential tests accept,
/// each with its reason. There are two kinds: what only a real host backend produces (ours is
/// the in-process one, libvirtd really configures bridges, firewall and dnsmasq in its network
/// namespace), and what libvirt 10.8 (our target) does differently from the reference's 9.0
/// (../shared/docs/LIBVIRT-10.8-TARGET.md; where that doc is silent, libvirt 11.3's source,
/// `SUITE=trixie ../shared/reference/libvirt-source.sh`, is quoted).
/// </summary>
public static partial class Normalise
{
    /// <summary>Applied to our output.</summary>
    public static string Ours(string s) => RealBackendNatPorts(s);

    /// <summary>Applied to the reference's output.</summary>
    public static string Theirs(string s) => XmlErrorNullContext(XmlErrorWithoutUrl(RealBackendNatPorts(s)));

    /// <summary>
    /// 9.0 → 10.8: for an XML error at the end of the input, 9.0's catchXMLError shows the empty
    /// "line" after the last one, printed as "(null)" with the caret at column 0; later libvirt
    /// steps back to the last line of the document and puts the caret after its end (11.3's
    /// src/util/virxml.c). Where the reference printed "(null)", both become one marker: ours
    /// where the caret stands after the end of the context line (AssertSame pairs them).
    /// </summary>
    public static string XmlErrorContextAtEnd(string s) => ContextLines().Replace(s, m =>
        m.Groups["caret"].Value.Length - 1 == m.Groups["line"].Value.Length ? "\n" + EndOfInputContext : m.Value);

    public const string EndOfInputContext = "<context: end of input>";

    /// <summary>The reference's side of <see cref="XmlErrorContextAtEnd"/>.
    /// A document with no content at all (empty, or blank lines) gets no context in later libvirt
    /// (the fix "src: fix crash searching for XML context string", CVE-2026-61478, which Debian's
    /// 11.3 carries): there the "(null)" block is dropped.</summary>
    public static string XmlErrorNullContext(string s) => s
        .Replace("Document is empty\n(null)\n^", "Document is empty", StringComparison.Ordinal)
        .Replace("Start tag expected, '<' not found\n(null)\n^", "Start tag expected, '<' not found", StringComparison.Ordinal)
        .Replace("\n(null)\n^", "\n" + EndOfInputContext, StringComparison.Ordinal);

    [GeneratedRegex(@"\n(?<line>[^\n]*)\n(?<caret>-*\^)(?=\n|$)")]
    private static partial Regex ContextLines();

    /// <summary>
    /// Backend: starting a NAT network, libvirt's iptables code (iptablesForwardMasquerade in
    /// 9.0's src/util/viriptables.c) fills the live definition's empty NAT port range with
    /// 1024-65535, so the live XML gains <c>&lt;nat&gt;&lt;port start='1024' end='65535'/&gt;&lt;/nat&gt;</c>.
    /// Our in-process backend adds no firewall rules and leaves the definition alone. Removed
    /// from both sides (once our Linux backend does the same, it is removed from ours too).
    /// </summary>
    public static string RealBackendNatPorts(string s)
    {
        s = NatPorts().Replace(s, "");
        return EmptyForward().Replace(s, "${open}/>");
    }

    [GeneratedRegex(@"\n *<nat>\n *<port start='1024' end='65535'/>\n *</nat>")]
    private static partial Regex NatPorts();

    [GeneratedRegex(@"(?<open><forward[^>]*)>\n *</forward>")]
    private static partial Regex EmptyForward();

    /// <summary>
    /// 9.0 → 10.8: an XML syntax error is reported as "(network_definition):LINE: …" by 9.0
    /// (catchXMLError printed libxml2's lastError.file, the parser's URL) and "at line LINE: …"
    /// by later libvirt (catchXMLError prints the file name only for a parsed file, which a
    /// network definition string is not: 11.3's src/util/virxml.c). The target doc does not
    /// list this change; the source does.
    /// </summary>
    public static string XmlErrorWithoutUrl(string s) => XmlErrorUrl().Replace(s, "error: at line ${line}:");

    [GeneratedRegex(@"error: \(network_definition\):(?<line>\d+):")]
    private static partial Regex XmlErrorUrl();

    /// <summary>
    /// Environment: the reference's state is the machine's own libvirt state (/etc/libvirt/qemu/networks)
    /// and may hold networks that are not this test's, and our daemon's fixture holds other tests'
    /// networks. Only the lines naming one of <paramref name="names"/> (or their UUIDs) are kept,
    /// and runs of spaces are collapsed, since virsh pads the table columns to the longest name listed.
    /// </summary>
    public static string ForeignNetworks(string listOutput, IReadOnlyCollection<string> names) =>
        string.Join('\n', listOutput.Split('\n')
            .Where(l => names.Any(n => l.Contains(n, StringComparison.Ordinal)))
            .Select(l => Spaces().Replace(l.Trim(), " ")));

    [GeneratedRegex(" {2,}")]
    private static partial Regex Spaces();

    /// <summary>
    /// 9.0 → 10.8: net-update "modify" of dns-host and dns-txt records. 9.0 refuses it ("DNS HOST
    /// records cannot be modified, only added or deleted"); libvirt 10.6 and later modify the
    /// record whose IP (host) or name (TXT) matches (virNetworkDefUpdateDNSHost/-TXT in 11.3's
    /// src/conf/network_conf.c; autotest/tp-libvirt#6158: "after 10.6, libvirt support to modify
    /// the dns-txt and dns-host record"). Not in the target doc. The caller checks the reference's
    /// refusal and our success, and leaves the record as it was so both states stay the same.
    /// </summary>
    public static void DnsModifyIsNewerThan90(Differential.Pair p, string record)
    {
        Assert.That(p.Theirs.ExitCode, Is.EqualTo(1), p.ToString());
        Assert.That(p.Theirs.Stderr, Does.EndWith($"error: Operation not supported: DNS {record} records cannot be modified, only added or deleted"));
        Assert.That(p.Ours.ExitCode, Is.Zero, p.ToString());
        Assert.That(p.Ours.Stderr, Is.Empty);
    }
}
