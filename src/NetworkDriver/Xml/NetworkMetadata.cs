using VirtNetworkd.NetworkDriver.Xml.Dom;
using VirtNetworkd.NetworkDriver.Xml.Parse;

namespace VirtNetworkd.NetworkDriver.Xml;

/// <summary>
/// libvirt's handling of &lt;metadata&gt;: what is stored from the XML, and the per-namespace
/// element access that virNetworkGetMetadata / virNetworkSetMetadata (type element) need.
/// </summary>
public static class NetworkMetadata
{
    /// <summary>
    /// What libvirt stores of a parsed &lt;metadata&gt; element (xmlCopyNode +
    /// virXMLNodeSanitizeNamespaces): a copy in which namespace declarations used inside but made
    /// outside the element are re-declared on &lt;metadata&gt; itself, and whose children are only
    /// elements with a namespace, the first per namespace.
    /// </summary>
    public static DomElement CopyForStorage(DomElement metadata)
    {
        DomElement copy = metadata.Clone();
        Reconcile(copy, metadata);
        Sanitize(copy);
        return copy;
    }

    /// <summary>
    /// xmlStaticCopyNode's namespace handling: a prefix used in the copy but declared above the
    /// copied element is declared again on the copy's root. Linear in the size of the tree.
    /// </summary>
    private static void Reconcile(DomElement copyRoot, DomElement original)
    {
        // bindings in scope just above the original element (inner declarations win)
        var outside = new Dictionary<string, string>(StringComparer.Ordinal);
        for (DomElement? e = original.Parent; e is not null; e = e.Parent)
            foreach (DomNamespace d in e.NamespaceDeclarations)
                outside.TryAdd(Key(d.Prefix), d.Uri);

        var inScope = new Dictionary<string, int>(StringComparer.Ordinal);
        Walk(copyRoot);

        void Ensure(string? prefix)
        {
            if (prefix == "xml") return;
            string key = Key(prefix);
            if (inScope.GetValueOrDefault(key) > 0) return;
            if (!outside.TryGetValue(key, out string? uri)) return;
            copyRoot.NamespaceDeclarations.Add(new DomNamespace(prefix, uri));
            inScope[key] = inScope.GetValueOrDefault(key) + 1; // on the root: in scope everywhere below
        }

        void Walk(DomElement e)
        {
            foreach (DomNamespace d in e.NamespaceDeclarations) inScope[Key(d.Prefix)] = inScope.GetValueOrDefault(Key(d.Prefix)) + 1;
            int declared = e.NamespaceDeclarations.Count;
            if (e.NamespaceUri.Length > 0) Ensure(e.Prefix);
            foreach (DomAttribute a in e.Attributes)
                if (a.NamespaceUri.Length > 0 && a.Prefix is not null) Ensure(a.Prefix);
            foreach (DomNode n in e.Children)
                if (n is DomElement c) Walk(c);
            // declarations hoisted onto the root while walking it stay in scope
            for (int i = 0; i < declared; i++)
                inScope[Key(e.NamespaceDeclarations[i].Prefix)]--;
        }
    }

    private static string Key(string? prefix) => prefix ?? "\0";

    /// <summary>virXMLNodeSanitizeNamespaces: keep only namespaced element children, one per namespace.</summary>
    public static void Sanitize(DomElement metadata)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        metadata.RemoveChildren(n => !(n is DomElement { NamespaceUri.Length: > 0 } e && seen.Add(e.NamespaceUri)));
    }

    /// <summary>The metadata child element in namespace <paramref name="uri"/>, or null.</summary>
    public static DomElement? FindElement(NetworkDef def, string uri)
    {
        if (def.Metadata is null) return null;
        foreach (DomElement e in def.Metadata.ChildElements())
            if (e.NamespaceUri == uri) return e;
        return null;
    }

    /// <summary>Removes the metadata child in namespace <paramref name="uri"/>; drops &lt;metadata&gt; when it becomes empty.</summary>
    public static void RemoveElement(NetworkDef def, string uri)
    {
        if (def.Metadata is null) return;
        def.Metadata.RemoveChildren(n => n is DomElement e && e.NamespaceUri == uri);
        if (!def.Metadata.ChildElements().Any()) def.Metadata = null;
    }

    /// <summary>
    /// virNetworkGetMetadata(VIR_NETWORK_METADATA_ELEMENT): the metadata element in namespace
    /// <paramref name="uri"/>, printed without that namespace (virXMLExtractNamespaceXML); null
    /// when there is none (libvirt then reports VIR_ERR_NO_NETWORK_METADATA).
    /// </summary>
    public static string? GetElementXml(NetworkDef def, string uri)
    {
        ArgumentNullException.ThrowIfNull(def);
        if (def.Metadata is null) return null;
        DomElement? found = def.Metadata.ChildElements().FirstOrDefault(e => e.NamespaceUri == uri);
        if (found is null) return null;

        // copy it on its own (namespaces declared above it are re-declared on it)
        var holder = found.Clone();
        Reconcile(holder, found);
        DomElement stripped = StripNamespace(holder, uri);
        int i = stripped.NamespaceDeclarations.FindIndex(d => d.Uri == uri);
        if (i >= 0) stripped.NamespaceDeclarations.RemoveAt(i);
        return Format.LibxmlDump.Dump(stripped, 0);
    }

    private static DomElement StripNamespace(DomElement src, string uri)
    {
        bool strip = src.NamespaceUri == uri;
        var e = new DomElement(strip ? null : src.Prefix, src.LocalName, strip ? "" : src.NamespaceUri) { Line = src.Line };
        e.NamespaceDeclarations.AddRange(src.NamespaceDeclarations);
        foreach (DomAttribute a in src.Attributes) e.Attributes.Add(a.Clone());
        foreach (DomNode n in src.Children)
            e.AppendChild(n is DomElement c ? StripNamespace(c, uri) : n.CloneNode());
        return e;
    }

    /// <summary>
    /// virNetworkSetMetadata(VIR_NETWORK_METADATA_ELEMENT) on one definition: stores
    /// <paramref name="xml"/> in namespace <paramref name="uri"/> with prefix
    /// <paramref name="key"/>, replacing what was there; null <paramref name="xml"/> removes it.
    /// The caller checks the API rules (uri required, key required with xml).
    /// </summary>
    public static void SetElementXml(NetworkDef def, string? xml, string? key, string uri)
    {
        ArgumentNullException.ThrowIfNull(def);
        ArgumentNullException.ThrowIfNull(uri);
        DomElement? injected = null;
        if (xml is not null)
        {
            DomElement parsed = SafeXmlParser.Parse(xml, null, VirtNetworkd.Errors.VirErrorDomain.Network);
            injected = InjectNamespace(parsed, key ?? "", uri);
        }
        RemoveElement(def, uri);
        if (injected is not null)
        {
            def.Metadata ??= new DomElement(null, "metadata", "");
            def.Metadata.AppendChild(injected);
        }
    }

    /// <summary>
    /// virXMLInjectNamespace: declares <paramref name="key"/> → <paramref name="uri"/> on the
    /// element and moves it and every descendant without a namespace into it.
    /// </summary>
    public static DomElement InjectNamespace(DomElement element, string key, string uri)
    {
        if (!IsNCName(key) || key == "xml" || element.NamespaceDeclarations.Exists(d => d.Prefix == key))
            throw new VirtNetworkd.Errors.LibvirtError(
                VirtNetworkd.Errors.VirErrorCode.InternalError,
                VirtNetworkd.Errors.VirErrorDomain.Xml,
                IsNCName(key) ? "failed to create a new XML namespace" : "failed to validate prefix for a new XML namespace");

        DomElement Rebuild(DomElement src, bool top)
        {
            bool move = src.NamespaceUri.Length == 0;
            var e = new DomElement(move ? key : src.Prefix, src.LocalName, move ? uri : src.NamespaceUri) { Line = src.Line };
            e.NamespaceDeclarations.AddRange(src.NamespaceDeclarations);
            if (top) e.NamespaceDeclarations.Add(new DomNamespace(key, uri));
            foreach (DomAttribute a in src.Attributes) e.Attributes.Add(a.Clone());
            foreach (DomNode n in src.Children)
                e.AppendChild(n is DomElement c ? Rebuild(c, false) : n.CloneNode());
            return e;
        }
        return Rebuild(element, true);
    }

    private static bool IsNCName(string s)
    {
        try
        {
            System.Xml.XmlConvert.VerifyNCName(s);
            return true;
        }
        catch (System.Xml.XmlException)
        {
            return false;
        }
        catch (ArgumentNullException)
        {
            return false;
        }
    }
}
