using VirtNetworkd.Errors;

namespace VirtNetworkd.NetworkDriver.Xml.Dom;

/// <summary>
/// What comes before the root element, made safe for the reader: a UTF-8 byte-order mark is
/// dropped (libxml2 skips it), and a document type declaration is accepted when it declares no
/// entities — libvirt parses without DTD loading, validation or default attributes, so such a
/// declaration changes nothing in the document and is blanked out. One that declares entities
/// (or uses parameter-entity references) is refused: expanding them is how the billion-laughs
/// and external-entity attacks work.
/// </summary>
internal static class Prolog
{
    public const string EntityRefusal = "entity declarations are not supported";

    /// <summary>
    /// Returns the text to give the reader: <paramref name="xml"/> without its byte-order mark
    /// and with an entity-free DOCTYPE replaced by blanks (line breaks kept, so line numbers hold).
    /// </summary>
    public static string Prepare(string xml, VirErrorDomain domain)
    {
        int p = xml.Length > 0 && xml[0] == '\ufeff' ? 1 : 0;
        string text = xml;
        while (p < xml.Length)
        {
            char c = xml[p];
            if (c is ' ' or '\t' or '\n' or '\r') { p++; continue; }
            if (At(xml, p, "<?") || At(xml, p, "<!--"))
            {
                string end = At(xml, p, "<?") ? "?>" : "-->";
                int e = xml.IndexOf(end, p + 2, StringComparison.Ordinal);
                if (e < 0) break;
                p = e + end.Length;
                continue;
            }
            if (At(xml, p, "<!DOCTYPE")) text = Doctype(xml, p, domain);
            break;
        }
        return text.Length > 0 && text[0] == '\ufeff' ? text[1..] : text;
    }

    private static bool At(string s, int p, string t) => string.CompareOrdinal(s, p, t, 0, t.Length) == 0;

    private static string Doctype(string xml, int start, VirErrorDomain domain)
    {
        int depth = 0;
        for (int i = start + 2; i < xml.Length; i++)
        {
            char c = xml[i];
            if (c is '\'' or '"')
            {
                int q = xml.IndexOf(c, i + 1);
                if (q < 0) return xml; // unterminated: the reader reports it
                i = q;
            }
            else if (c == '[') depth++;
            else if (c == ']') depth--;
            else if (depth > 0 && (c == '%' || At(xml, i, "<!ENTITY")))
                throw new LibvirtError(VirErrorCode.XmlDetail, domain,
                    LibxmlDiagnosis.Format(xml, new LibxmlDiagnosis.Finding(EntityRefusal, i)));
            else if (c == '>' && depth <= 0)
            {
                char[] chars = xml.ToCharArray();
                for (int k = start; k <= i; k++)
                    if (chars[k] is not ('\n' or '\r')) chars[k] = ' ';
                return new string(chars);
            }
        }
        return xml; // unterminated: the reader reports it
    }
}
