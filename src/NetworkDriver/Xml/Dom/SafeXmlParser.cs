using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using System.Xml;
using VirtNetworkd.Errors;

namespace VirtNetworkd.NetworkDriver.Xml.Dom;

/// <summary>
/// Parses untrusted XML text into a <see cref="DomElement"/> tree the way libvirt's
/// virXMLParse (libxml2 with XML_PARSE_NONET | XML_PARSE_NOBLANKS) sees it, but refusing
/// anything dangerous up front: no entity declarations (a DOCTYPE without them is accepted and
/// ignored, see <see cref="Prolog"/>), no external resolution, a cap on the document size and on
/// element nesting. Syntax errors are worded as libxml2 words them (<see cref="LibxmlDiagnosis"/>).
/// </summary>
public static partial class SafeXmlParser
{
    /// <summary>
    /// Largest document accepted, in UTF-8 bytes: libvirt's cap for a string in an RPC message
    /// (VIR_NET_MESSAGE_STRING_MAX, 4 MiB). Nothing legitimate comes near it.
    /// </summary>
    public const int MaxDocumentBytes = 4 * 1024 * 1024;

    /// <summary>Deepest element nesting accepted: libxml2's own default limit (without XML_PARSE_HUGE).</summary>
    public const int MaxDepth = 256;

    /// <summary>
    /// Parses <paramref name="xml"/>. Errors are reported as libvirt does: malformed text as
    /// VIR_ERR_XML_DETAIL in <paramref name="domain"/>; a wrong root element as
    /// VIR_ERR_XML_ERROR "expecting root element of '…', not '…'" (VIR_FROM_XML).
    /// </summary>
    public static DomElement Parse(string xml, string? expectedRoot, VirErrorDomain domain)
    {
        ArgumentNullException.ThrowIfNull(xml);
        // Cheap checks first so an oversized document costs nothing but its length.
        if (xml.Length > MaxDocumentBytes || Encoding.UTF8.GetByteCount(xml) > MaxDocumentBytes)
            throw new LibvirtError(VirErrorCode.XmlDetail, domain,
                string.Create(CultureInfo.InvariantCulture,
                    $"at line 1: document is larger than the maximum of {MaxDocumentBytes} bytes"));

        string text = Prolog.Prepare(xml, domain);
        DomElement root;
        var state = new BuildState();
        try
        {
            root = Build(text, domain, state);
        }
        catch (XmlException ex)
        {
            // libxml2's words and position where the error is one it is known for; the
            // reader's own account otherwise
            string detail = LibxmlDiagnosis.Find(xml) is { } f
                ? LibxmlDiagnosis.Format(xml, f)
                : Describe(text, ex, state.Open);
            throw new LibvirtError(VirErrorCode.XmlDetail, domain, detail);
        }

        if (expectedRoot is not null && root.LocalName != expectedRoot)
            throw new LibvirtError(VirErrorCode.XmlError, VirErrorDomain.Xml,
                $"expecting root element of '{expectedRoot}', not '{root.LocalName}'");
        return root;
    }

    [GeneratedRegex(@" Line \d+, position \d+\.$")]
    private static partial Regex PositionSuffix();

    [GeneratedRegex(@"^The '(?<a>[^']*)' start tag on line (?<l>\d+) position \d+ does not match the end tag of '(?<b>[^']*)'\.$")]
    private static partial Regex TagMismatch();

    [GeneratedRegex(@"^Reference to undeclared entity '(?<e>[^']*)'\.$")]
    private static partial Regex UndeclaredEntity();

    [GeneratedRegex(@"^'(?<a>[^']*)' is a duplicate attribute name\.$")]
    private static partial Regex DuplicateAttribute();

    /// <summary>Words of libxml2 for the errors a client meets most; others keep .NET's text.</summary>
    private static string LibxmlWording(string msg, (string Name, int Line)? open)
    {
        Match m;
        if ((m = TagMismatch().Match(msg)).Success)
            return $"Opening and ending tag mismatch: {m.Groups["a"].Value} line {m.Groups["l"].Value} and {m.Groups["b"].Value}";
        if ((m = UndeclaredEntity().Match(msg)).Success)
            return $"Entity '{m.Groups["e"].Value}' not defined";
        if ((m = DuplicateAttribute().Match(msg)).Success)
            return $"Attribute {m.Groups["a"].Value} redefined";
        if (msg.StartsWith("Unexpected end of file", StringComparison.Ordinal) && open is { } o)
            return string.Create(CultureInfo.InvariantCulture, $"Premature end of data in tag {o.Name} line {o.Line}");
        return msg switch
        {
            "Root element is missing." => "Document is empty",
            "Data at the root level is invalid." => "Start tag expected, '<' not found",
            "There are multiple root elements." => "Extra content at the end of the document",
            _ => msg,
        };
    }

    /// <summary>libvirt's catchXMLError layout: "at line N: message\ncontext\n----^".</summary>
    private static string Describe(string xml, XmlException ex, (string Name, int Line)? open)
    {
        string msg = LibxmlWording(PositionSuffix().Replace(ex.Message, ""), open);
        int line = Math.Max(ex.LineNumber, 1);
        string[] lines = xml.Split('\n');
        string context = line <= lines.Length ? lines[line - 1].TrimEnd('\r') : "";
        if (context.Length > 80) context = context[..80];
        int col = Math.Clamp(ex.LinePosition - 1, 0, context.Length);
        var pointer = new StringBuilder();
        for (int i = 0; i < col; i++) pointer.Append(context[i] == '\t' ? '\t' : '-');
        pointer.Append('^');
        // no context line: the message alone (see LibxmlDiagnosis.Format)
        if (context.Length == 0) return string.Create(CultureInfo.InvariantCulture, $"at line {line}: {msg}\n");
        return string.Create(CultureInfo.InvariantCulture, $"at line {line}: {msg}\n{context}\n{pointer}");
    }

    /// <summary>In-scope namespace bindings with O(1) lookup and undo per element.</summary>
    private sealed class NamespaceScope
    {
        private const string DefaultKey = "\0";
        private readonly Dictionary<string, string> _bindings = new(StringComparer.Ordinal)
        {
            ["xml"] = "http://www.w3.org/XML/1998/namespace",
        };

        public string? Lookup(string? prefix) => _bindings.GetValueOrDefault(prefix ?? DefaultKey);

        /// <summary>Applies the declarations; returns what to restore when the element ends.</summary>
        public List<(string Key, string? Old)> Push(List<DomNamespace> decls)
        {
            var undo = new List<(string, string?)>(decls.Count);
            foreach (DomNamespace d in decls)
            {
                string key = d.Prefix ?? DefaultKey;
                undo.Add((key, _bindings.GetValueOrDefault(key)));
                _bindings[key] = d.Uri;
            }
            return undo;
        }

        public void Pop(List<(string Key, string? Old)> undo)
        {
            for (int i = undo.Count - 1; i >= 0; i--)
            {
                if (undo[i].Old is null) _bindings.Remove(undo[i].Key);
                else _bindings[undo[i].Key] = undo[i].Old!;
            }
        }
    }

    private sealed class BuildState
    {
        /// <summary>The innermost element still open (for "Premature end of data in tag …").</summary>
        public (string Name, int Line)? Open;
    }

    private static DomElement Build(string xml, VirErrorDomain domain, BuildState state)
    {
#pragma warning disable CS0618 // XmlTextReader is used for its Namespaces switch: namespaces are resolved below, libxml2-style
        using var reader = new XmlTextReader(new StringReader(xml))
        {
            DtdProcessing = DtdProcessing.Prohibit,
            XmlResolver = null,
            Namespaces = false,
            Normalization = true,
            WhitespaceHandling = WhitespaceHandling.All,
            EntityHandling = EntityHandling.ExpandEntities,
        };
#pragma warning restore CS0618

        DomElement? root = null;
        var stack = new Stack<(DomElement Element, bool PreserveSpace, List<(string, string?)> Undo)>();
        var scope = new NamespaceScope();
        string? pendingBlank = null;

        while (reader.Read())
        {
            state.Open = stack.Count > 0 ? (stack.Peek().Element.QualifiedName, stack.Peek().Element.Line) : null;
            // A white-space-only run is kept or dropped depending on what follows (areBlanks).
            if (pendingBlank is not null && stack.Count > 0)
            {
                DomElement cur = stack.Peek().Element;
                bool nextIsOwnEnd = reader.NodeType == XmlNodeType.EndElement;
                if (KeepBlank(cur, nextIsOwnEnd)) AppendText(cur, pendingBlank);
                pendingBlank = null;
            }

            switch (reader.NodeType)
            {
                case XmlNodeType.Element:
                {
                    if (stack.Count >= MaxDepth)
                        throw new LibvirtError(VirErrorCode.XmlDetail, domain,
                            string.Create(CultureInfo.InvariantCulture,
                                $"at line {reader.LineNumber}: Excessive depth in document: {MaxDepth}"));
                    bool isEmpty = reader.IsEmptyElement;
                    int line = reader.LineNumber;
                    DomElement? parent = stack.Count > 0 ? stack.Peek().Element : null;
                    bool preserve = stack.Count > 0 && stack.Peek().PreserveSpace;
                    DomElement e = ReadElement(reader, scope, line, ref preserve, out var undo);
                    if (parent is null)
                    {
                        root = e;
                    }
                    else
                    {
                        parent.AppendChild(e);
                    }
                    if (isEmpty) scope.Pop(undo);
                    else stack.Push((e, preserve, undo));
                    break;
                }
                case XmlNodeType.EndElement:
                    scope.Pop(stack.Pop().Undo);
                    break;
                case XmlNodeType.Text:
                    if (stack.Count > 0) AppendText(stack.Peek().Element, reader.Value);
                    break;
                case XmlNodeType.CDATA:
                    if (stack.Count > 0) stack.Peek().Element.AppendChild(new DomText(reader.Value, isCData: true));
                    break;
                case XmlNodeType.Whitespace:
                case XmlNodeType.SignificantWhitespace:
                    if (stack.Count > 0)
                    {
                        if (stack.Peek().PreserveSpace || reader.NodeType == XmlNodeType.SignificantWhitespace)
                            AppendText(stack.Peek().Element, reader.Value);
                        else
                            pendingBlank = reader.Value;
                    }
                    break;
                case XmlNodeType.Comment:
                    if (stack.Count > 0) stack.Peek().Element.AppendChild(new DomComment(reader.Value));
                    break;
                case XmlNodeType.ProcessingInstruction:
                    if (stack.Count > 0) stack.Peek().Element.AppendChild(new DomProcessingInstruction(reader.Name, reader.Value));
                    break;
                default:
                    break; // XML declaration, document-level white space
            }
            state.Open = stack.Count > 0 ? (stack.Peek().Element.QualifiedName, stack.Peek().Element.Line) : null;
        }
        return root ?? throw new XmlException("Document is empty");
    }

    /// <summary>libxml2's areBlanks() heuristic for a white-space-only run inside <paramref name="e"/>.</summary>
    private static bool KeepBlank(DomElement e, bool nextIsOwnEnd)
    {
        IReadOnlyList<DomNode> ch = e.Children;
        if (ch.Count == 0) return nextIsOwnEnd;
        if (ch[^1] is DomText { IsCData: false }) return true;
        if (ch[0] is DomText { IsCData: false }) return true;
        return false;
    }

    private static void AppendText(DomElement e, string text)
    {
        IReadOnlyList<DomNode> ch = e.Children;
        if (ch.Count > 0 && ch[^1] is DomText { IsCData: false } last)
            last.Value += text;
        else
            e.AppendChild(new DomText(text));
    }

    private static DomElement ReadElement(XmlTextReader reader, NamespaceScope scope, int line, ref bool preserve,
                                          out List<(string, string?)> undo)
    {
        string qname = reader.Name;
        var nsDecls = new List<DomNamespace>();
        var raw = new List<(string Name, string Value)>();
        if (reader.MoveToFirstAttribute())
        {
            do
            {
                string n = reader.Name;
                string v = reader.Value;
                if (n == "xmlns") nsDecls.Add(new DomNamespace(null, v));
                else if (n.StartsWith("xmlns:", StringComparison.Ordinal)) nsDecls.Add(new DomNamespace(n[6..], v));
                else raw.Add((n, v));
            } while (reader.MoveToNextAttribute());
            reader.MoveToElement();
        }

        // The element's own declarations are in scope for its name and attributes.
        undo = scope.Push(nsDecls);
        string? Lookup(string? prefix) => scope.Lookup(prefix);

        DomElement e;
        int colon = qname.IndexOf(':');
        if (colon > 0 && colon < qname.Length - 1)
        {
            string prefix = qname[..colon];
            string? uri = Lookup(prefix);
            // An undeclared prefix is only a namespace warning for libxml2: the element keeps
            // its full name and has no namespace.
            e = uri is null ? new DomElement(null, qname, "") { Line = line }
                            : new DomElement(prefix, qname[(colon + 1)..], uri) { Line = line };
        }
        else
        {
            string? uri = Lookup(null);
            e = new DomElement(null, qname, string.IsNullOrEmpty(uri) ? "" : uri) { Line = line };
        }
        e.NamespaceDeclarations.AddRange(nsDecls);

        foreach ((string n, string v) in raw)
        {
            int c = n.IndexOf(':');
            if (c > 0 && c < n.Length - 1)
            {
                string prefix = n[..c];
                string local = n[(c + 1)..];
                string? uri = Lookup(prefix);
                e.Attributes.Add(uri is null ? new DomAttribute(null, n, "", v) : new DomAttribute(prefix, local, uri, v));
                if (uri == "http://www.w3.org/XML/1998/namespace" && local == "space")
                {
                    if (v == "preserve") preserve = true;
                    else if (v == "default") preserve = false;
                }
            }
            else
            {
                e.Attributes.Add(new DomAttribute(null, n, "", v));
            }
        }
        return e;
    }
}
