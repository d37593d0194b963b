using System.Text;

namespace VirtNetworkd.NetworkDriver.Xml.Format;

/// <summary>
/// libvirt's virBuffer with auto-indentation: every append that starts at the beginning of a
/// line is prefixed with the current indentation (embedded newlines are not re-indented, exactly
/// as in libvirt).
/// </summary>
internal sealed class XmlBuffer
{
    private readonly StringBuilder _sb = new();
    private int _indent;

    public int Indent => _indent;

    public void AdjustIndent(int delta) => _indent = Math.Max(0, _indent + delta);

    private void ApplyIndent()
    {
        if (_indent > 0 && (_sb.Length == 0 || _sb[^1] == '\n')) _sb.Append(' ', _indent);
    }

    /// <summary>virBufferAddLit / virBufferAsprintf.</summary>
    public void Add(string s)
    {
        if (s.Length == 0) return;
        ApplyIndent();
        _sb.Append(s);
    }

    /// <summary>virBufferEscapeString(buf, prefix "%s" suffix, value): nothing at all when value is null.</summary>
    public void Escape(string prefix, string? value, string suffix)
    {
        if (value is null) return;
        Add(prefix + EscapeXml(value) + suffix);
    }

    /// <summary>
    /// virBufferEscapeString's escaping: &lt; &gt; &amp; " ' become entities and the control
    /// characters 0x01–0x19 other than TAB, LF and CR are dropped.
    /// </summary>
    public static string EscapeXml(string s)
    {
        int i = 0;
        for (; i < s.Length; i++)
        {
            char c = s[i];
            if (c is '<' or '>' or '&' or '"' or '\'' || (c is >= '\x01' and <= '\x19' && c is not '\t' and not '\n' and not '\r'))
                break;
        }
        if (i == s.Length) return s;
        var sb = new StringBuilder(s.Length + 16);
        sb.Append(s, 0, i);
        for (; i < s.Length; i++)
        {
            char c = s[i];
            switch (c)
            {
                case '<': sb.Append("&lt;"); break;
                case '>': sb.Append("&gt;"); break;
                case '&': sb.Append("&amp;"); break;
                case '"': sb.Append("&quot;"); break;
                case '\'': sb.Append("&apos;"); break;
                default:
                    if (c is >= '\x01' and <= '\x19' && c is not '\t' and not '\n' and not '\r') break;
                    sb.Append(c);
                    break;
            }
        }
        return sb.ToString();
    }

    public override string ToString() => _sb.ToString();
}
