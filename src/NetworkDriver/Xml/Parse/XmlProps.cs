using VirtNetworkd.Errors;
using VirtNetworkd.NetworkDriver.Xml.Dom;
using VirtNetworkd.NetworkDriver.Xml.Net;

namespace VirtNetworkd.NetworkDriver.Xml.Parse;

/// <summary>
/// The virXMLProp* helpers of virxml.c: read an attribute (xmlGetProp semantics: by local name,
/// null node = absent), convert it, and report libvirt's VIR_FROM_XML errors. Each returns 1 when
/// the attribute was present, 0 when absent.
/// </summary>
internal static class XmlProps
{
    [Flags]
    public enum PropFlags
    {
        None = 0,
        Required = 1 << 0,
        NonNegative = 1 << 1,
        NonZero = 1 << 2,
    }

    public static LibvirtError Error(string detail) => new(VirErrorCode.XmlError, VirErrorDomain.Xml, detail);

    private static string? Get(DomElement? node, string name, PropFlags flags)
    {
        string? v = node?.Prop(name);
        if (v is null && (flags & PropFlags.Required) != 0)
            throw Error($"Missing required attribute '{name}' in element '{node?.LocalName}'");
        return v;
    }

    /// <summary>virXMLPropStringRequired.</summary>
    public static string StringRequired(DomElement node, string name) => Get(node, name, PropFlags.Required)!;

    /// <summary>virXMLPropEnum / virXMLPropEnumDefault over a VIR_ENUM name table.</summary>
    public static int Enum(DomElement? node, string name, string[] table, PropFlags flags, out int result, int defaultResult = 0)
    {
        result = defaultResult;
        string? v = Get(node, name, flags);
        if (v is null) return 0;
        int r = NetworkNames.Lookup(table, v);
        if (r < 0 || ((flags & PropFlags.NonZero) != 0 && r == 0))
            throw Error($"Invalid value for attribute '{name}' in element '{node!.LocalName}': '{v}'.");
        result = r;
        return 1;
    }

    /// <summary>virXMLPropTristateBool ("yes"/"no").</summary>
    public static int TristateBool(DomElement? node, string name, PropFlags flags, out TristateBool result)
    {
        int rc = Enum(node, name, NetworkNames.TristateBool, flags | PropFlags.NonZero, out int r);
        result = (TristateBool)r;
        return rc;
    }

    public static TristateBool TristateBool(DomElement? node, string name)
    {
        TristateBool(node, name, PropFlags.None, out TristateBool r);
        return r;
    }

    /// <summary>virXMLPropTristateSwitch ("on"/"off").</summary>
    public static int TristateSwitch(DomElement? node, string name, PropFlags flags, out TristateSwitch result)
    {
        int rc = Enum(node, name, NetworkNames.TristateSwitch, flags | PropFlags.NonZero, out int r);
        result = (TristateSwitch)r;
        return rc;
    }

    /// <summary>virXMLPropUInt.</summary>
    public static int UInt(DomElement? node, string name, int numberBase, PropFlags flags, out uint result)
    {
        result = 0;
        string? v = Get(node, name, flags);
        if (v is null) return 0;
        if (!CNumber.TryParseUIntP(v, numberBase, out uint val))
            throw Error($"Invalid value for attribute '{name}' in element '{node!.LocalName}': '{v}'. Expected non-negative integer value");
        if ((flags & PropFlags.NonZero) != 0 && val == 0)
            throw Error($"Invalid value for attribute '{name}' in element '{node!.LocalName}': Zero is not permitted");
        result = val;
        return 1;
    }

    /// <summary>virXMLPropULongLong.</summary>
    public static int ULongLong(DomElement? node, string name, int numberBase, PropFlags flags, out ulong result)
    {
        result = 0;
        string? v = Get(node, name, flags);
        if (v is null) return 0;
        if (!CNumber.TryParseULongP(v, numberBase, out ulong val))
            throw Error($"Invalid value for attribute '{name}' in element '{node!.LocalName}': '{v}'. Expected non-negative integer value");
        if ((flags & PropFlags.NonZero) != 0 && val == 0)
            throw Error($"Invalid value for attribute '{name}' in element '{node!.LocalName}': Zero is not permitted");
        result = val;
        return 1;
    }

    /// <summary>
    /// virXPathUInt("string(…)"): -1 when the value is absent or empty, -2 when it is not an
    /// unsigned int, 0 on success.
    /// </summary>
    public static int XPathUInt(string? value, out uint result)
    {
        result = 0;
        if (string.IsNullOrEmpty(value)) return -1;
        if (!CNumber.TryParseUIntP(value, 10, out result)) return -2;
        return 0;
    }

    /// <summary>virXMLCheckIllegalChars: VIR_ERR_XML_DETAIL "invalid char in NAME: C".</summary>
    public static void CheckIllegalChars(string nodeName, string str, string illegal)
    {
        int i = str.AsSpan().IndexOfAny(illegal);
        if (i >= 0)
            throw new LibvirtError(VirErrorCode.XmlDetail, VirErrorDomain.Xml, $"invalid char in {nodeName}: {str[i]}");
    }
}
