using System.Globalization;
using System.Text;
using VirtNetworkd.NetworkDriver.Xml.Dom;

namespace VirtNetworkd.NetworkDriver.Xml.Format;

/// <summary>
/// libxml2's xmlNodeDump(doc = NULL, node, level, format = 1) with xmlIndentTreeOutput set, which
/// libvirt uses to print &lt;metadata&gt; (virXMLFormatMetadata) and metadata elements
/// (virXMLNodeToString): two spaces per level, but no indentation inside an element that has
/// text children.
/// </summary>
internal static class LibxmlDump
{
    private const int MaxIndentLevel = 30; // libxml2: MAX_INDENT (60) / indent size (2)

    /// <summary>The node's dump without indentation before the first line.</summary>
    public static string Dump(DomElement node, int level)
    {
        var sb = new StringBuilder();
        DumpElement(sb, node, level, format: true, isRoot: true);
        return sb.ToString();
    }

    private static void WriteIndent(StringBuilder sb, int level) => sb.Append(' ', 2 * Math.Min(level, MaxIndentLevel));

    private static void DumpElement(StringBuilder sb, DomElement e, int level, bool format, bool isRoot)
    {
        if (!isRoot && format) WriteIndent(sb, level);
        sb.Append('<').Append(e.QualifiedName);
        foreach (DomNamespace ns in e.NamespaceDeclarations)
        {
            if (ns.Prefix == "xml") continue;
            sb.Append(ns.Prefix is null ? " xmlns=" : " xmlns:" + ns.Prefix + "=");
            WriteQuoted(sb, ns.Uri);
        }
        foreach (DomAttribute a in e.Attributes)
        {
            sb.Append(' ').Append(a.QualifiedName).Append("=\"");
            EscapeAttribute(sb, a.Value);
            sb.Append('"');
        }
        if (e.Children.Count == 0)
        {
            sb.Append("/>");
            return;
        }

        bool childFormat = format;
        foreach (DomNode c in e.Children)
        {
            if (c is DomText)
            {
                childFormat = false;
                break;
            }
        }
        sb.Append('>');
        if (childFormat) sb.Append('\n');
        foreach (DomNode c in e.Children)
        {
            switch (c)
            {
                case DomElement ce:
                    DumpElement(sb, ce, level + 1, childFormat, isRoot: false);
                    break;
                case DomText { IsCData: true } cd:
                    WriteCData(sb, cd.Value);
                    break;
                case DomText t:
                    EscapeContent(sb, t.Value);
                    break;
                case DomComment cm:
                    if (childFormat) WriteIndent(sb, level + 1);
                    sb.Append("<!--").Append(cm.Value).Append("-->");
                    break;
                case DomProcessingInstruction pi:
                    if (childFormat) WriteIndent(sb, level + 1);
                    sb.Append("<?").Append(pi.Target);
                    if (pi.Data.Length > 0) sb.Append(' ').Append(pi.Data);
                    sb.Append("?>");
                    break;
            }
            if (childFormat) sb.Append('\n');
        }
        if (childFormat) WriteIndent(sb, level);
        sb.Append("</").Append(e.QualifiedName).Append('>');
    }

    /// <summary>xmlBufWriteQuotedString.</summary>
    private static void WriteQuoted(StringBuilder sb, string s)
    {
        if (s.Contains('"'))
        {
            if (s.Contains('\''))
            {
                sb.Append('"').Append(s.Replace("\"", "&quot;", StringComparison.Ordinal)).Append('"');
            }
            else
            {
                sb.Append('\'').Append(s).Append('\'');
            }
        }
        else
        {
            sb.Append('"').Append(s).Append('"');
        }
    }

    /// <summary>xmlEscapeContent: &lt; &gt; &amp; and CR.</summary>
    private static void EscapeContent(StringBuilder sb, string s)
    {
        foreach (char c in s)
        {
            switch (c)
            {
                case '<': sb.Append("&lt;"); break;
                case '>': sb.Append("&gt;"); break;
                case '&': sb.Append("&amp;"); break;
                case '\r': sb.Append("&#13;"); break;
                default: sb.Append(c); break;
            }
        }
    }

    /// <summary>xmlBufAttrSerializeTxtContent for a node without a document: non-ASCII becomes a hex character reference.</summary>
    private static void EscapeAttribute(StringBuilder sb, string s)
    {
        for (int i = 0; i < s.Length; i++)
        {
            char c = s[i];
            switch (c)
            {
                case '\n': sb.Append("&#10;"); break;
                case '\r': sb.Append("&#13;"); break;
                case '\t': sb.Append("&#9;"); break;
                case '"': sb.Append("&quot;"); break;
                case '<': sb.Append("&lt;"); break;
                case '>': sb.Append("&gt;"); break;
                case '&': sb.Append("&amp;"); break;
                default:
                    if (c < 0x80)
                    {
                        sb.Append(c);
                    }
                    else
                    {
                        int cp = c;
                        if (char.IsHighSurrogate(c) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]))
                            cp = char.ConvertToUtf32(c, s[++i]);
                        sb.Append("&#x").Append(cp.ToString("X", CultureInfo.InvariantCulture)).Append(';');
                    }
                    break;
            }
        }
    }

    private static void WriteCData(StringBuilder sb, string s)
    {
        // libxml2 splits "]]>" across two sections
        int start = 0;
        while (true)
        {
            int k = s.IndexOf("]]>", start, StringComparison.Ordinal);
            if (k < 0)
            {
                sb.Append("<![CDATA[").Append(s, start, s.Length - start).Append("]]>");
                return;
            }
            sb.Append("<![CDATA[").Append(s, start, k + 2 - start).Append("]]>");
            start = k + 2;
        }
    }
}
