using System.Text;

namespace VirtNetworkd.NetworkDriver.Xml.Dom;

/// <summary>
/// A small XML tree in libxml2's shape: elements keep their namespace declarations as written
/// (nsDef), attributes keep their order, and white-space-only text that libxml2 would drop under
/// XML_PARSE_NOBLANKS is already gone. Used for parsing and to keep &lt;metadata&gt; verbatim.
/// </summary>
public abstract class DomNode
{
    public DomElement? Parent { get; internal set; }

    public abstract DomNode CloneNode();
}

/// <summary>A namespace declaration (xmlns / xmlns:prefix) written on an element.</summary>
public sealed record DomNamespace(string? Prefix, string Uri);

public sealed class DomAttribute
{
    public DomAttribute(string? prefix, string localName, string namespaceUri, string value)
    {
        Prefix = prefix;
        LocalName = localName;
        NamespaceUri = namespaceUri;
        Value = value;
    }

    public string? Prefix { get; }
    public string LocalName { get; }
    /// <summary>"" for attributes without a namespace.</summary>
    public string NamespaceUri { get; }
    public string Value { get; set; }

    public string QualifiedName => Prefix is null ? LocalName : Prefix + ":" + LocalName;

    public DomAttribute Clone() => new(Prefix, LocalName, NamespaceUri, Value);
}

public sealed class DomText : DomNode
{
    public DomText(string value, bool isCData = false)
    {
        Value = value;
        IsCData = isCData;
    }

    public string Value { get; set; }
    public bool IsCData { get; }

    public override DomNode CloneNode() => new DomText(Value, IsCData);
}

public sealed class DomComment : DomNode
{
    public DomComment(string value) => Value = value;
    public string Value { get; }
    public override DomNode CloneNode() => new DomComment(Value);
}

public sealed class DomProcessingInstruction : DomNode
{
    public DomProcessingInstruction(string target, string data)
    {
        Target = target;
        Data = data;
    }

    public string Target { get; }
    public string Data { get; }
    public override DomNode CloneNode() => new DomProcessingInstruction(Target, Data);
}

public sealed class DomElement : DomNode
{
    private readonly List<DomNode> _children = [];

    public DomElement(string? prefix, string localName, string namespaceUri)
    {
        Prefix = prefix;
        LocalName = localName;
        NamespaceUri = namespaceUri;
    }

    public string? Prefix { get; }
    public string LocalName { get; }
    /// <summary>"" when the element has no namespace.</summary>
    public string NamespaceUri { get; }
    public List<DomNamespace> NamespaceDeclarations { get; } = [];
    public List<DomAttribute> Attributes { get; } = [];
    public IReadOnlyList<DomNode> Children => _children;
    /// <summary>Line of the start tag in the parsed document (0 when built in code).</summary>
    public int Line { get; init; }

    public string QualifiedName => Prefix is null ? LocalName : Prefix + ":" + LocalName;

    public void AppendChild(DomNode node)
    {
        node.Parent = this;
        _children.Add(node);
    }

    public void InsertChild(int index, DomNode node)
    {
        node.Parent = this;
        _children.Insert(index, node);
    }

    public void RemoveChildAt(int index)
    {
        _children[index].Parent = null;
        _children.RemoveAt(index);
    }

    /// <summary>Removes every child matching <paramref name="match"/> (evaluated once per child, in order).</summary>
    public void RemoveChildren(Predicate<DomNode> match)
    {
        var keep = new List<DomNode>(_children.Count);
        foreach (DomNode n in _children)
        {
            if (match(n)) n.Parent = null;
            else keep.Add(n);
        }
        _children.Clear();
        _children.AddRange(keep);
    }

    public void RemoveChild(DomNode node)
    {
        int i = _children.IndexOf(node);
        if (i >= 0) RemoveChildAt(i);
    }

    public IEnumerable<DomElement> ChildElements()
    {
        foreach (DomNode n in _children)
            if (n is DomElement e) yield return e;
    }

    /// <summary>
    /// Children named <paramref name="localName"/> without a namespace, as the XPath step
    /// "./name" selects them.
    /// </summary>
    public IEnumerable<DomElement> Elements(string localName)
    {
        foreach (DomNode n in _children)
            if (n is DomElement e && e.NamespaceUri.Length == 0 && e.LocalName == localName) yield return e;
    }

    /// <summary>XPath "./name[1]".</summary>
    public DomElement? Element(string localName)
    {
        foreach (DomNode n in _children)
            if (n is DomElement e && e.NamespaceUri.Length == 0 && e.LocalName == localName) return e;
        return null;
    }

    /// <summary>virXMLNodeGetSubelement: first child element with that local name, any namespace.</summary>
    public DomElement? SubElement(string localName)
    {
        foreach (DomNode n in _children)
            if (n is DomElement e && e.LocalName == localName) return e;
        return null;
    }

    /// <summary>virXMLNodeGetSubelementList: child elements with that local name, any namespace.</summary>
    public IEnumerable<DomElement> SubElements(string localName)
    {
        foreach (DomNode n in _children)
            if (n is DomElement e && e.LocalName == localName) yield return e;
    }

    /// <summary>xmlGetProp (virXMLPropString): first attribute with that local name, any namespace; null when absent.</summary>
    public string? Prop(string localName)
    {
        foreach (DomAttribute a in Attributes)
            if (a.LocalName == localName) return a.Value;
        return null;
    }

    /// <summary>XPath "string(./@name)" through virXPathString: no-namespace attribute; null when absent or empty.</summary>
    public string? AttrString(string localName)
    {
        foreach (DomAttribute a in Attributes)
            if (a.NamespaceUri.Length == 0 && a.LocalName == localName)
                return a.Value.Length == 0 ? null : a.Value;
        return null;
    }

    /// <summary>The XPath string value: all descendant text, in document order.</summary>
    public string StringValue()
    {
        var sb = new StringBuilder();
        AppendText(this, sb);
        return sb.ToString();
    }

    private static void AppendText(DomElement e, StringBuilder sb)
    {
        foreach (DomNode n in e._children)
        {
            if (n is DomText t) sb.Append(t.Value);
            else if (n is DomElement c) AppendText(c, sb);
        }
    }

    /// <summary>XPath "string(./name[1])" through virXPathString: null when absent or empty.</summary>
    public string? ChildString(string localName)
    {
        string? s = Element(localName)?.StringValue();
        return string.IsNullOrEmpty(s) ? null : s;
    }

    /// <summary>The namespace URI bound to <paramref name="prefix"/> in scope here (null prefix = default).</summary>
    public string? LookupNamespace(string? prefix)
    {
        for (DomElement? e = this; e is not null; e = e.Parent)
            foreach (DomNamespace ns in e.NamespaceDeclarations)
                if (ns.Prefix == prefix) return ns.Uri;
        return prefix == "xml" ? "http://www.w3.org/XML/1998/namespace" : null;
    }

    public override DomNode CloneNode() => Clone();

    public DomElement Clone()
    {
        var c = new DomElement(Prefix, LocalName, NamespaceUri) { Line = Line };
        c.NamespaceDeclarations.AddRange(NamespaceDeclarations);
        foreach (DomAttribute a in Attributes) c.Attributes.Add(a.Clone());
        foreach (DomNode n in _children) c.AppendChild(n.CloneNode());
        return c;
    }
}
