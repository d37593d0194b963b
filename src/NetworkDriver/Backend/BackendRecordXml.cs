using System.Globalization;
using VirtNetworkd.Errors;
using VirtNetworkd.NetworkDriver.Xml.Dom;
using VirtNetworkd.NetworkDriver.Xml.Format;

namespace VirtNetworkd.NetworkDriver.Backend;

/// <summary>
/// A <see cref="BackendRecord"/> in a status file: the removal plan as libvirt's &lt;firewall
/// name='fwRemoval'&gt;, and what libvirt has no element for in one element of our own namespace
/// (libvirt reads its status files by XPath, so it ignores that element).
/// </summary>
public static class BackendRecordXml
{
    public const string Namespace = "urn:virtnetworkd:network-status:1";
    private const string HostElement = "vnd:host";

    /// <summary>The lines after the &lt;network&gt; of a status file, at <paramref name="indent"/> spaces.</summary>
    public static string Format(BackendRecord record, int indent)
    {
        ArgumentNullException.ThrowIfNull(record);
        string text = "";
        if (record.FirewallRemoval is { } plan)
            text = FirewallPlanXml.Format(plan with { Name = FirewallPlan.RemovalName }, indent);
        if (record.Bridge is null && record.DnsmasqPid is null) return text;
        var buf = new XmlBuffer();
        buf.AdjustIndent(indent);
        buf.Add($"<{HostElement} xmlns:vnd='{Namespace}'");
        buf.Escape(" bridge='", record.Bridge, "'");
        if (record.BridgeCreated) buf.Add(" bridgeCreated='yes'");
        if (record.DnsmasqPid is { } pid) buf.Add(" dnsmasqPid='" + pid.ToString(CultureInfo.InvariantCulture) + "'");
        buf.Add("/>\n");
        return text + buf;
    }

    /// <summary>
    /// The record in a &lt;networkstatus&gt; element: as virNetworkLoadState, only the first
    /// &lt;firewall&gt; counts and only when it is named fwRemoval.
    /// </summary>
    public static BackendRecord Parse(DomElement status)
    {
        ArgumentNullException.ThrowIfNull(status);
        FirewallPlan? removal = null;
        DomElement? fw = status.Elements("firewall").FirstOrDefault(e => e.NamespaceUri.Length == 0);
        if (fw is not null)
        {
            FirewallPlan plan = FirewallPlanXml.Parse(fw);
            if (plan.Name == FirewallPlan.RemovalName) removal = plan;
        }
        DomElement? host = status.ChildElements().FirstOrDefault(e => e.NamespaceUri == Namespace && e.LocalName == "host");
        if (host is null) return new BackendRecord { FirewallRemoval = removal };
        int? pid = null;
        if (host.Prop("dnsmasqPid") is { } p)
        {
            if (!int.TryParse(p, NumberStyles.None, CultureInfo.InvariantCulture, out int v) || v <= 0)
                throw new LibvirtError(VirErrorCode.InternalError, VirErrorDomain.Network, $"Malformed 'dnsmasqPid' attribute: {p}");
            pid = v;
        }
        return new BackendRecord
        {
            FirewallRemoval = removal,
            Bridge = host.Prop("bridge"),
            BridgeCreated = host.Prop("bridgeCreated") == "yes",
            DnsmasqPid = pid,
        };
    }
}
