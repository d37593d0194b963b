using VirtNetworkd.Errors;
using VirtNetworkd.NetworkDriver.Xml.Dom;
using VirtNetworkd.NetworkDriver.Xml.Format;

namespace VirtNetworkd.NetworkDriver.Backend;

/// <summary>The &lt;firewall&gt; element of a network's status, as libvirt's virFirewallFormat writes it and virFirewallParseXML reads it.</summary>
public static class FirewallPlanXml
{
    private static readonly string[] BackendNames = ["none", "iptables", "nftables"];
    private static readonly string[] LayerNames = ["ethernet", "ipv4", "ipv6", "tc"];

    /// <summary>virFirewallFormat: one &lt;firewall&gt; element at <paramref name="indent"/> spaces, each line ending in a newline.</summary>
    public static string Format(FirewallPlan plan, int indent = 0)
    {
        ArgumentNullException.ThrowIfNull(plan);
        var buf = new XmlBuffer();
        buf.AdjustIndent(indent);
        buf.Add("<firewall");
        buf.Escape(" name='", plan.Name, "'");
        buf.Add($" backend='{BackendNames[(int)plan.Backend]}'");
        if (plan.Groups.Count == 0)
        {
            buf.Add("/>\n");
            return buf.ToString();
        }
        buf.Add(">\n");
        buf.AdjustIndent(2);
        foreach (FirewallGroup group in plan.Groups)
        {
            buf.Add(group.IgnoreErrors ? "<group ignoreErrors='yes'>\n" : "<group>\n");
            buf.AdjustIndent(2);
            foreach (FirewallAction action in group.Actions)
            {
                buf.Add($"<action layer='{LayerNames[(int)action.Layer]}'");
                // a group that ignores errors makes the action's own flag redundant
                if (action.IgnoreErrors && !group.IgnoreErrors) buf.Add(" ignoreErrors='yes'");
                buf.Add(">\n");
                buf.AdjustIndent(2);
                buf.Add("<args>\n");
                buf.AdjustIndent(2);
                foreach (string arg in action.Args) buf.Escape("<item>", arg, "</item>\n");
                buf.AdjustIndent(-2);
                buf.Add("</args>\n");
                buf.AdjustIndent(-2);
                buf.Add("</action>\n");
            }
            buf.AdjustIndent(-2);
            buf.Add("</group>\n");
        }
        buf.AdjustIndent(-2);
        buf.Add("</firewall>\n");
        return buf.ToString();
    }

    /// <summary>
    /// virFirewallParseXML: groups without actions and actions without &lt;args&gt; are skipped,
    /// as libvirt skips them; an action with no items is an error.
    /// </summary>
    public static FirewallPlan Parse(DomElement node)
    {
        ArgumentNullException.ThrowIfNull(node);
        var backend = (FirewallBackendType)Enum(node, "backend", BackendNames);
        var groups = new List<FirewallGroup>();
        foreach (DomElement g in node.Elements("group"))
        {
            var actionNodes = g.Elements("action").ToList();
            if (actionNodes.Count == 0) continue;
            bool groupIgnore = IgnoreErrors(g);
            var actions = new List<FirewallAction>();
            foreach (DomElement a in actionNodes)
            {
                DomElement? args = a.Elements("args").FirstOrDefault();
                if (args is null) continue;
                bool ignore = IgnoreErrors(a);
                var layer = (FirewallLayer)Enum(a, "layer", LayerNames);
                var items = args.Elements("item").Select(i => i.StringValue()).ToArray();
                if (items.Length == 0)
                    throw new LibvirtError(VirErrorCode.InternalError, VirErrorDomain.Firewall, "Invalid firewall command has 0 arguments");
                actions.Add(new FirewallAction(layer, items, ignore));
            }
            groups.Add(new FirewallGroup(actions, groupIgnore));
        }
        return new FirewallPlan(backend, groups, node.Prop("name"));
    }

    /// <summary>virXMLPropEnum with VIR_XML_PROP_REQUIRED.</summary>
    private static int Enum(DomElement node, string attr, string[] names)
    {
        string value = node.Prop(attr) ?? throw new LibvirtError(VirErrorCode.XmlError, VirErrorDomain.Xml,
            $"Missing required attribute '{attr}' in element '{node.LocalName}'");
        int i = Array.IndexOf(names, value);
        return i >= 0 ? i : throw InvalidValue(node, attr, value);
    }

    /// <summary>virXMLPropTristateBool (VIR_XML_PROP_NONE, hence nonzero): absent is no, else yes or no.</summary>
    private static bool IgnoreErrors(DomElement node)
    {
        string? value = node.Prop("ignoreErrors");
        return value switch
        {
            null => false,
            "yes" => true,
            "no" => false,
            _ => throw InvalidValue(node, "ignoreErrors", value),
        };
    }

    private static LibvirtError InvalidValue(DomElement node, string attr, string value) =>
        new(VirErrorCode.XmlError, VirErrorDomain.Xml, $"Invalid value for attribute '{attr}' in element '{node.LocalName}': '{value}'.");
}
