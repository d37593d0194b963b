using System.Globalization;
using System.Text.RegularExpressions;
using VirtNetworkd.Errors;
using VirtNetworkd.NetworkDriver.Xml.Dom;
using VirtNetworkd.NetworkDriver.Xml.Parse;

namespace VirtNetworkd.NetworkDriver.Xml.Validation;

/// <summary>
/// The schema check of the *_VALIDATE flags: network.rng and networkport.rng (libvirt 10.8) written
/// out as rules. Failures are VIR_ERR_XML_INVALID_SCHEMA with libvirt's "Unable to validate doc
/// against …" text; the lines after it are modelled on libxml2's RelaxNG messages but are not
/// guaranteed to be the same words.
/// </summary>
public static partial class NetworkSchema
{
    public const string NetworkRngPath = "/usr/share/libvirt/schemas/network.rng";
    public const string NetworkPortRngPath = "/usr/share/libvirt/schemas/networkport.rng";

    private delegate bool Check(string value);

    private sealed class Rule(string name)
    {
        public string Name { get; } = name;
        public Dictionary<string, Check> Required { get; } = [];
        public Dictionary<string, Check> Optional { get; } = [];
        public List<(string Name, int Min, int Max, Func<Rule> Rule)> Children { get; } = [];
        public Check? Text { get; set; }
        public bool AnyContent { get; set; }
        /// <summary>Constraints plain attribute/child lists cannot say; returns "attributes" or "content" on failure.</summary>
        public Func<DomElement, string?>? Custom { get; set; }

        public Rule Attr(string n, Check c) { Optional[n] = c; return this; }
        public Rule Req(string n, Check c) { Required[n] = c; return this; }
        public Rule Child(string n, int min, int max, Func<Rule> r) { Children.Add((n, min, max, r)); return this; }
        public Rule Opt(string n, Func<Rule> r) => Child(n, 0, 1, r);
        public Rule Many(string n, Func<Rule> r) => Child(n, 0, int.MaxValue, r);
    }

    // ------------------------------------------------------------------ datatypes (basictypes.rng)

    [GeneratedRegex(@"^[a-zA-Z0-9_\.\-\\:/]+$")] private static partial Regex DeviceNameRx();
    [GeneratedRegex(@"^[a-zA-Z0-9_\-]+$")] private static partial Regex ZoneNameRx();
    [GeneratedRegex(@"^([a-fA-F0-9]{32}|[a-fA-F0-9]{8}-([a-fA-F0-9]{4}-){3}[a-fA-F0-9]{12})$")] private static partial Regex UuidRx();
    [GeneratedRegex(@"^[a-fA-F0-9][02468aAcCeE](:[a-fA-F0-9]{2}){5}$")] private static partial Regex UniMacRx();
    [GeneratedRegex(@"^(((25[0-5])|(2[0-4][0-9])|(1[0-9]{2})|([1-9][0-9])|([0-9]))\.){3}((25[0-5])|(2[0-4][0-9])|(1[0-9]{2})|([1-9][0-9])|([0-9]))$")] private static partial Regex Ipv4Rx();
    [GeneratedRegex(@"^((([0-9A-Fa-f]{1,4}:){7}[0-9A-Fa-f]{1,4})|(([0-9A-Fa-f]{1,4}:){6}:[0-9A-Fa-f]{1,4})|(([0-9A-Fa-f]{1,4}:){5}:([0-9A-Fa-f]{1,4}:)?[0-9A-Fa-f]{1,4})|(([0-9A-Fa-f]{1,4}:){4}:([0-9A-Fa-f]{1,4}:){0,2}[0-9A-Fa-f]{1,4})|(([0-9A-Fa-f]{1,4}:){3}:([0-9A-Fa-f]{1,4}:){0,3}[0-9A-Fa-f]{1,4})|(([0-9A-Fa-f]{1,4}:){2}:([0-9A-Fa-f]{1,4}:){0,4}[0-9A-Fa-f]{1,4})|(([0-9A-Fa-f]{1,4}:){6}(((25[0-5])|(2[0-4][0-9])|(1[0-9]{2})|([1-9][0-9])|([0-9]))\.){3}((25[0-5])|(2[0-4][0-9])|(1[0-9]{2})|([1-9][0-9])|([0-9])))|(([0-9A-Fa-f]{1,4}:){0,5}:(((25[0-5])|(2[0-4][0-9])|(1[0-9]{2})|([1-9][0-9])|([0-9]))\.){3}((25[0-5])|(2[0-4][0-9])|(1[0-9]{2})|([1-9][0-9])|([0-9])))|(::([0-9A-Fa-f]{1,4}:){0,5}(((25[0-5])|(2[0-4][0-9])|(1[0-9]{2})|([1-9][0-9])|([0-9]))\.){3}((25[0-5])|(2[0-4][0-9])|(1[0-9]{2})|([1-9][0-9])|([0-9])))|([0-9A-Fa-f]{1,4}::([0-9A-Fa-f]{1,4}:){0,5}[0-9A-Fa-f]{1,4})|(::([0-9A-Fa-f]{1,4}:){0,6}[0-9A-Fa-f]{1,4})|(([0-9A-Fa-f]{1,4}:){1,7}:)|(::))$")] private static partial Regex Ipv6Rx();
    [GeneratedRegex(@"^[a-zA-Z0-9\.\-]+$")] private static partial Regex DnsNameRx();
    [GeneratedRegex(@"^([0]{1,2}:[0]{0,1}[1]:[0]{1,2}:[0]{0,1}[a-fA-F1-9](:[a-fA-F0-9]{1,2}){4}(:[a-fA-F0-9]{1,2}){6,8}|[0]{1,2}:[0]{0,1}[2](:[a-fA-F0-9]{1,2}){4}(:[a-fA-F0-9]{1,2}){1,124}|[0]{1,2}:[0]{0,1}[3]:[0]{1,2}:[0]{0,1}[a-fA-F1-9](:[a-fA-F0-9]{1,2}){6,8}|[0]{1,2}:[0]{0,1}[4](:[a-fA-F0-9]{1,2}){16})$")] private static partial Regex DuidRx();
    [GeneratedRegex(@"^[a-zA-Z0-9_\+\-]+$")] private static partial Regex GenericNameRx();
    [GeneratedRegex(@"^0x[0-9a-fA-F]{1,2}$")] private static partial Regex Hex8Rx();
    [GeneratedRegex(@"^0x[0-9a-fA-F]{1,6}$")] private static partial Regex Hex24Rx();
    [GeneratedRegex(@"^(0x)?[0-9a-fA-F]{1,8}$")] private static partial Regex Hex32Rx();
    [GeneratedRegex(@"^(0x)?[0-1]?[0-9a-fA-F]$")] private static partial Regex PciSlotRx();
    [GeneratedRegex(@"^(0x)?[0-7]$")] private static partial Regex PciFuncRx();

    private static Check Rx(Func<Regex> rx) => v => rx().IsMatch(v);
    private static Check Values(params string[] allowed) => v => Array.IndexOf(allowed, v) >= 0;
    private static bool AnyText(string v) => true;

    /// <summary>XML Schema integer lexical form (optional sign, digits, surrounding white space collapsed) within [min, max].</summary>
    private static Check Integer(decimal min, decimal max, bool digitsOnly = false) => v =>
    {
        string t = v.Trim(' ', '\t', '\n', '\r');
        if (digitsOnly && (t.Length == 0 || t.AsSpan().IndexOfAnyExceptInRange('0', '9') >= 0)) return false;
        if (!decimal.TryParse(t, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out decimal d)) return false;
        return d >= min && d <= max;
    };

    private static readonly Check DeviceName = Rx(DeviceNameRx);
    private static readonly Check Uuid = Rx(UuidRx);
    private static readonly Check UniMac = Rx(UniMacRx);
    private static readonly Check Ipv4 = Rx(Ipv4Rx);
    private static readonly Check IpAddr = v => Ipv4Rx().IsMatch(v) || Ipv6Rx().IsMatch(v);
    private static readonly Check DnsName = Rx(DnsNameRx);
    private static readonly Check YesNo = Values("yes", "no");
    private static readonly Check OnOff = Values("on", "off");
    private static readonly Check UnsignedInt = Integer(0, uint.MaxValue, digitsOnly: true);
    private static readonly Check UnsignedLong = Integer(0, ulong.MaxValue, digitsOnly: true);
    private static readonly Check UnsignedShort = Integer(0, 65535);
    private static readonly Check Port = Integer(1, 65535);
    private static readonly Check IpPrefix = Integer(0, 128);
    private static readonly Check AddrFamily = Values("ipv4", "ipv6");
    private static readonly Check Speed = Integer(1, 18014398509481984m, digitsOnly: true);
    private static readonly Check BurstSize = Integer(1, uint.MaxValue, digitsOnly: true);
    private static readonly Check Uint8 = v => Hex8Rx().IsMatch(v) || Integer(0, 255)(v);
    private static readonly Check Uint24 = v => Hex24Rx().IsMatch(v) || Integer(0, 16777215)(v);
    private static readonly Check Uint32 = v => Hex32Rx().IsMatch(v) || Integer(0, uint.MaxValue)(v);
    private static readonly Check PciSlot = v => PciSlotRx().IsMatch(v) || Integer(0, 31)(v);
    private static readonly Check PciFunc = v => PciFuncRx().IsMatch(v) || Integer(0, 7)(v);

    // ------------------------------------------------------------------ shared pieces (networkcommon.rng)

    private static Rule PciAddress(Rule r) => r
        .Attr("domain", Uint32).Attr("bus", Uint8).Attr("slot", PciSlot).Attr("function", PciFunc).Attr("multifunction", OnOff);

    private static Rule Bandwidth() => new Rule("bandwidth")
        .Attr("classID", Integer(1, decimal.MaxValue, digitsOnly: true))
        .Opt("inbound", () => Rate("inbound"))
        .Opt("outbound", () => Rate("outbound"));

    private static Rule Rate(string name) => new Rule(name)
        .Attr("average", Speed).Attr("peak", Speed).Attr("floor", Speed).Attr("burst", BurstSize);

    private static Rule Vlan() => new Rule("vlan")
        .Attr("trunk", Values("yes"))
        .Child("tag", 1, int.MaxValue, () => new Rule("tag").Req("id", Integer(0, 4095, digitsOnly: true))
                                                            .Attr("nativeMode", Values("tagged", "untagged")));

    private static Rule PortOptions() => new Rule("port").Attr("isolated", YesNo);

    private static Rule HostdevDriver() => new Rule("driver")
        .Attr("name", Values("kvm", "vfio", "xen")).Attr("model", Rx(GenericNameRx));

    private static Rule Mtu() => new Rule("mtu").Req("size", UnsignedShort);

    private static Rule Route() => new Rule("route")
        .Attr("family", AddrFamily).Req("address", IpAddr).Attr("netmask", Ipv4).Attr("prefix", IpPrefix)
        .Req("gateway", IpAddr).Attr("metric", UnsignedInt)
        .WithCustom(e => e.Prop("netmask") is not null && e.Prop("prefix") is not null ? "attributes" : null);

    private static Rule Lease() => new Rule("lease").Req("expiry", UnsignedLong).Attr("unit", Values("seconds", "minutes", "hours"));

    private static Rule VirtualPort() => new Rule("virtualport")
        .Attr("type", Values("802.1Qbg", "802.1Qbh", "openvswitch", "midonet"))
        .Opt("parameters", () => new Rule("parameters")
            .Attr("managerid", Uint8).Attr("typeid", Uint24).Attr("typeidversion", Uint8).Attr("instanceid", Uuid)
            .Attr("profileid", v => v.Length <= 39).Attr("interfaceid", Uuid))
        .WithCustom(e =>
        {
            // the parameters allowed depend on the type (one <group> per type in the schema)
            string? type = e.Prop("type");
            DomElement? p = e.Element("parameters");
            string[] allowed = type switch
            {
                "802.1Qbg" => ["managerid", "typeid", "typeidversion", "instanceid"],
                "802.1Qbh" => ["profileid"],
                "openvswitch" => ["profileid", "interfaceid"],
                "midonet" => ["interfaceid"],
                _ => ["managerid", "typeid", "typeidversion", "instanceid", "profileid", "interfaceid"],
            };
            if (type == "midonet" && (p is null || p.Prop("interfaceid") is null)) return "content";
            if (p is not null && p.Attributes.Exists(a => Array.IndexOf(allowed, a.LocalName) < 0)) return "content";
            return null;
        });

    private static Rule WithCustom(this Rule r, Func<DomElement, string?> f)
    {
        r.Custom = f;
        return r;
    }

    // ------------------------------------------------------------------ network.rng

    private static Rule Network() => new Rule("network")
        .Attr("connections", UnsignedInt).Attr("ipv6", YesNo).Attr("trustGuestRxFilters", YesNo)
        .Child("name", 1, 1, () => new Rule("name") { Text = AnyText })
        .Opt("title", () => new Rule("title") { Text = v => v.Length > 0 && !v.Contains('\n') })
        .Opt("description", () => new Rule("description") { Text = AnyText })
        .Opt("metadata", () => new Rule("metadata") { AnyContent = true })
        .Opt("uuid", () => new Rule("uuid") { Text = Uuid })
        .Opt("bridge", () => new Rule("bridge").Attr("name", DeviceName).Attr("zone", Rx(ZoneNameRx))
            .Attr("stp", OnOff).Attr("delay", UnsignedLong).Attr("macTableManager", Values("kernel", "libvirt")))
        .Opt("mtu", Mtu)
        .Opt("mac", () => new Rule("mac").Req("address", UniMac))
        .Opt("forward", Forward)
        .Opt("virtualport", VirtualPort)
        .Many("portgroup", () => new Rule("portgroup").Req("name", DeviceName).Attr("default", YesNo)
            .Attr("trustGuestRxFilters", YesNo)
            .Opt("virtualport", VirtualPort).Opt("bandwidth", Bandwidth).Opt("vlan", Vlan))
        .Opt("domain", () => new Rule("domain").Req("name", DnsName).Attr("localOnly", YesNo).Attr("register", YesNo))
        .Opt("dns", Dns)
        .Opt("bandwidth", Bandwidth)
        .Opt("vlan", Vlan)
        .Opt("port", PortOptions)
        .Many("ip", Ip)
        .Many("route", Route);

    private static Rule Forward() => new Rule("forward")
        .Attr("dev", DeviceName)
        .Attr("mode", Values("nat", "route", "open", "bridge", "passthrough", "private", "vepa", "hostdev"))
        .Attr("managed", YesNo)
        .Many("interface", () => new Rule("interface").Req("dev", DeviceName).Attr("connections", UnsignedInt))
        .Many("address", () => PciAddress(new Rule("address").Req("type", Values("pci")).Attr("connections", UnsignedInt)))
        .Opt("pf", () => new Rule("pf").Req("dev", DeviceName))
        .Opt("driver", HostdevDriver)
        .Opt("nat", () => new Rule("nat").Attr("ipv6", YesNo)
            .Opt("address", () => new Rule("address").Req("start", Ipv4).Req("end", Ipv4))
            .Opt("port", () => new Rule("port").Req("start", Port).Req("end", Port)))
        .WithCustom(e => e.Elements("interface").Any() && e.Elements("address").Any() ? "content" : null);

    private static Rule Dns() => new Rule("dns")
        .Attr("enable", YesNo).Attr("forwardPlainNames", YesNo)
        .Many("forwarder", () => new Rule("forwarder").Attr("addr", IpAddr).Attr("domain", DnsName))
        .Many("txt", () => new Rule("txt").Req("name", DnsName).Req("value", AnyText))
        .Many("srv", () => new Rule("srv").Req("service", AnyText).Req("protocol", Values("tcp", "udp"))
            .Attr("domain", DnsName).Attr("target", AnyText)
            .Attr("port", UnsignedShort).Attr("priority", UnsignedShort).Attr("weight", UnsignedShort))
        .Many("host", () => new Rule("host").Req("ip", IpAddr)
            .Child("hostname", 1, int.MaxValue, () => new Rule("hostname") { Text = DnsName }));

    private static Rule Ip() => new Rule("ip")
        .Attr("address", IpAddr).Attr("netmask", Ipv4).Attr("prefix", IpPrefix).Attr("family", AddrFamily).Attr("localPtr", YesNo)
        .Opt("tftp", () => new Rule("tftp").Req("root", AnyText))
        .Opt("dhcp", () => new Rule("dhcp")
            .Many("range", () => new Rule("range").Req("start", IpAddr).Req("end", IpAddr).Opt("lease", Lease))
            .Many("host", () => new Rule("host").Attr("mac", UniMac).Attr("id", Rx(DuidRx)).Attr("name", AnyText).Req("ip", IpAddr)
                .Opt("lease", Lease)
                .WithCustom(e => e.Prop("mac") is not null && e.Prop("id") is not null ? "attributes"
                               : e.Prop("mac") is null && e.Prop("id") is null && e.Prop("name") is null ? "attributes" : null))
            .Opt("bootp", () => new Rule("bootp").Req("file", v => v.Length > 0).Attr("server", DnsName)))
        .WithCustom(e => e.Prop("netmask") is not null && e.Prop("prefix") is not null ? "attributes" : null);

    // ------------------------------------------------------------------ networkport.rng

    private static Rule NetworkPort() => new Rule("networkport")
        .Child("uuid", 1, 1, () => new Rule("uuid") { Text = Uuid })
        .Child("owner", 1, 1, () => new Rule("owner")
            .Child("name", 1, 1, () => new Rule("name") { Text = AnyText })
            .Child("uuid", 1, 1, () => new Rule("uuid") { Text = Uuid }))
        .Child("mac", 1, 1, () => new Rule("mac").Req("address", UniMac))
        .Opt("group", () => new Rule("group") { Text = DeviceName })
        .Opt("rxfilters", () => new Rule("rxfilters").Req("trustGuest", YesNo))
        .Opt("virtualport", VirtualPort)
        .Opt("bandwidth", Bandwidth)
        .Opt("vlan", Vlan)
        .Opt("port", PortOptions)
        .Opt("plug", Plug);

    private static Rule Plug() => new Rule("plug")
        .Req("type", Values("network", "bridge", "direct", "hostdev-pci"))
        .Attr("bridge", DeviceName).Attr("macTableManager", Values("kernel", "libvirt"))
        .Attr("dev", DeviceName).Attr("mode", Values("bridge", "passthrough", "private", "vepa"))
        .Attr("managed", YesNo)
        .Opt("driver", HostdevDriver)
        .Opt("address", () => PciAddress(new Rule("address")))
        .WithCustom(e =>
        {
            string type = e.Prop("type")!;
            string[] allowed = type switch
            {
                "network" or "bridge" => ["type", "bridge", "macTableManager"],
                "direct" => ["type", "dev", "mode"],
                _ => ["type", "managed"],
            };
            if (e.Attributes.Exists(a => Array.IndexOf(allowed, a.LocalName) < 0)) return "attributes";
            bool ok = type switch
            {
                "network" or "bridge" => e.Prop("bridge") is not null && !e.ChildElements().Any(),
                "direct" => e.Prop("dev") is not null && e.Prop("mode") is not null && !e.ChildElements().Any(),
                _ => e.Element("address") is not null,
            };
            return ok ? null : "content";
        });

    // ------------------------------------------------------------------ engine

    public static void Validate(DomElement root) => Run(root, Network(), NetworkRngPath, allowDnsmasq: true);

    public static void ValidatePort(DomElement root) => Run(root, NetworkPort(), NetworkPortRngPath, allowDnsmasq: false);

    private static void Run(DomElement root, Rule rule, string path, bool allowDnsmasq)
    {
        var errors = new List<string>();
        if (!ValidateElement(root, rule, errors, allowDnsmasq))
            throw new LibvirtError(VirErrorCode.XmlInvalidSchema, VirErrorDomain.Xml,
                $"Unable to validate doc against {path}\n" + string.Concat(errors.Select(e => e + "\n")));
    }

    private static bool IsBlank(DomText t) => !t.IsCData && t.Value.AsSpan().Trim(" \t\r\n").IsEmpty;

    private static bool ValidateElement(DomElement e, Rule rule, List<string> errors, bool allowDnsmasq = false)
    {
        foreach (DomAttribute a in e.Attributes)
        {
            Check? c = a.NamespaceUri.Length == 0
                ? rule.Required.GetValueOrDefault(a.LocalName) ?? rule.Optional.GetValueOrDefault(a.LocalName)
                : null;
            if (c is null)
            {
                errors.Add($"Invalid attribute {a.QualifiedName} for element {e.QualifiedName}");
                return false;
            }
            if (!c(a.Value))
            {
                // libxml2 names an optional attribute whose value does not match; a required one
                // fails the element's attributes as a whole
                errors.Add(rule.Required.ContainsKey(a.LocalName)
                    ? $"Element {e.QualifiedName} failed to validate attributes"
                    : $"Invalid attribute {a.QualifiedName} for element {e.QualifiedName}");
                return false;
            }
        }
        foreach (string req in rule.Required.Keys)
        {
            if (!e.Attributes.Exists(a => a.NamespaceUri.Length == 0 && a.LocalName == req))
            {
                errors.Add($"Element {e.QualifiedName} failed to validate attributes");
                return false;
            }
        }

        if (rule.AnyContent)
        {
            foreach (DomNode n in e.Children)
            {
                if (n is DomText t && !IsBlank(t))
                {
                    errors.Add($"Did not expect text in element {e.QualifiedName} content");
                    return false;
                }
            }
            return true;
        }

        if (rule.Text is not null)
        {
            if (e.ChildElements().Any() || !rule.Text(e.StringValue()))
            {
                errors.Add($"Element {e.QualifiedName} failed to validate content");
                return false;
            }
        }
        else
        {
            var counts = new Dictionary<string, int>();
            foreach (DomNode n in e.Children)
            {
                if (n is DomText t)
                {
                    if (!IsBlank(t))
                    {
                        errors.Add($"Did not expect text in element {e.QualifiedName} content");
                        return false;
                    }
                    continue;
                }
                if (n is not DomElement c) continue;
                if (allowDnsmasq && c.NamespaceUri == NetworkDefParser.DnsmasqNamespaceUri && c.LocalName == "options")
                {
                    if (!ValidateDnsmasqOptions(c, errors)) return false;
                    continue;
                }
                int idx = c.NamespaceUri.Length == 0 ? rule.Children.FindIndex(x => x.Name == c.LocalName) : -1;
                if (idx < 0)
                {
                    errors.Add($"Element {e.QualifiedName} has extra content: {c.QualifiedName}");
                    return false;
                }
                var spec = rule.Children[idx];
                counts[spec.Name] = counts.GetValueOrDefault(spec.Name) + 1;
                if (counts[spec.Name] > spec.Max || !ValidateElement(c, spec.Rule(), errors))
                {
                    errors.Add($"Extra element {c.QualifiedName} in interleave");
                    errors.Add($"Element {e.QualifiedName} failed to validate content");
                    return false;
                }
            }
            foreach (var spec in rule.Children)
            {
                if (counts.GetValueOrDefault(spec.Name) < spec.Min)
                {
                    errors.Add($"Expecting an element {spec.Name}, got nothing");
                    errors.Add($"Element {e.QualifiedName} failed to validate content");
                    return false;
                }
            }
        }

        string? custom = rule.Custom?.Invoke(e);
        if (custom is not null)
        {
            errors.Add($"Element {e.QualifiedName} failed to validate {custom}");
            return false;
        }
        return true;
    }

    private static bool ValidateDnsmasqOptions(DomElement options, List<string> errors)
    {
        if (options.Attributes.Count > 0)
        {
            errors.Add($"Invalid attribute {options.Attributes[0].QualifiedName} for element {options.QualifiedName}");
            return false;
        }
        foreach (DomNode n in options.Children)
        {
            if (n is DomText t && !IsBlank(t))
            {
                errors.Add($"Did not expect text in element {options.QualifiedName} content");
                return false;
            }
            if (n is DomElement o &&
                (o.NamespaceUri != NetworkDefParser.DnsmasqNamespaceUri || o.LocalName != "option" || o.ChildElements().Any() ||
                 o.Attributes.Count != 1 || o.Attributes[0].LocalName != "value" || o.Attributes[0].NamespaceUri.Length != 0))
            {
                errors.Add($"Element {options.QualifiedName} has extra content: {o.QualifiedName}");
                return false;
            }
        }
        return true;
    }
}
