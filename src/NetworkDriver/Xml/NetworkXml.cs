using VirtNetworkd.Errors;
using VirtNetworkd.NetworkDriver.Xml.Dom;
using VirtNetworkd.NetworkDriver.Xml.Format;
using VirtNetworkd.NetworkDriver.Xml.Parse;
using VirtNetworkd.NetworkDriver.Xml.Validation;

namespace VirtNetworkd.NetworkDriver.Xml;

/// <summary>Network XML in and out (virNetworkDefParse / virNetworkDefFormat).</summary>
public static class NetworkXml
{
    /// <summary>
    /// Parses &lt;network&gt; XML as libvirt 10.8 does (including its parse-time checks) and
    /// throws <see cref="LibvirtError"/> with libvirt's code and message on failure.
    /// Automatic values (UUID, bridge name, MAC) are not assigned.
    /// </summary>
    public static NetworkDef Parse(string xml, NetworkParseFlags flags = NetworkParseFlags.None)
    {
        ArgumentNullException.ThrowIfNull(xml);
        DomElement root = SafeXmlParser.Parse(xml, "network", VirErrorDomain.Network);
        if ((flags & NetworkParseFlags.Validate) != 0)
            NetworkSchema.Validate(root);
        return NetworkDefParser.Parse(root);
    }

    /// <summary>
    /// The canonical text libvirt prints for <paramref name="def"/>. Flag bits other than
    /// <see cref="NetworkFormatFlags.Inactive"/> are ignored, as libvirt ignores them.
    /// </summary>
    public static string Format(NetworkDef def, NetworkFormatFlags flags = NetworkFormatFlags.None)
    {
        ArgumentNullException.ThrowIfNull(def);
        return NetworkDefFormatter.Format(def, flags);
    }

    /// <summary>virNetworkDefCopy: a copy made by formatting and parsing again (which re-checks the definition).</summary>
    public static NetworkDef Reparse(NetworkDef def, NetworkFormatFlags flags = NetworkFormatFlags.None) =>
        Parse(Format(def, flags));
}

/// <summary>Network port XML in and out (virNetworkPortDefParse / virNetworkPortDefFormat).</summary>
public static class NetworkPortXml
{
    /// <summary>
    /// Parses &lt;networkport&gt; XML; throws <see cref="LibvirtError"/> as libvirt does.
    /// <paramref name="validate"/> is VIR_NETWORK_PORT_CREATE_VALIDATE (schema check).
    /// </summary>
    public static NetworkPortDef Parse(string xml, bool validate = false)
    {
        ArgumentNullException.ThrowIfNull(xml);
        DomElement root = SafeXmlParser.Parse(xml, "networkport", VirErrorDomain.Network);
        if (validate) NetworkSchema.ValidatePort(root);
        return NetworkPortDefParser.Parse(root);
    }

    public static string Format(NetworkPortDef def)
    {
        ArgumentNullException.ThrowIfNull(def);
        return NetworkPortDefFormatter.Format(def);
    }
}
