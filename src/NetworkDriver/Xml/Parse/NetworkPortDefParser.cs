using VirtNetworkd.Errors;
using VirtNetworkd.NetworkDriver.Xml.Dom;
using VirtNetworkd.NetworkDriver.Xml.Net;
using static VirtNetworkd.NetworkDriver.Xml.Parse.XmlProps;

namespace VirtNetworkd.NetworkDriver.Xml.Parse;

/// <summary>virNetworkPortDefParseXML (virnetworkportdef.c).</summary>
internal static class NetworkPortDefParser
{
    private static LibvirtError Err(VirErrorCode code, string detail) => new(code, VirErrorDomain.Network, detail);

    /// <summary>XPath "string(./a/b)": the string value of the first b under the first a that has one.</summary>
    private static string? PathString(DomElement root, string a, string b)
    {
        foreach (DomElement x in root.Elements(a))
        {
            DomElement? y = x.Element(b);
            if (y is null) continue;
            string s = y.StringValue();
            return s.Length == 0 ? null : s;
        }
        return null;
    }

    public static NetworkPortDef Parse(DomElement root)
    {
        var def = new NetworkPortDef();

        string uuid = root.ChildString("uuid") ?? throw Err(VirErrorCode.InternalError, "network port has no uuid");
        if (!VirUuid.TryParse(uuid, out Guid u)) throw Err(VirErrorCode.InternalError, $"Unable to parse UUID '{uuid}'");
        def.Uuid = u;

        def.OwnerName = PathString(root, "owner", "name")
            ?? throw Err(VirErrorCode.InternalError, "network port has no owner name");
        string ownerUuid = PathString(root, "owner", "uuid")
            ?? throw Err(VirErrorCode.InternalError, "network port has no owner UUID");
        if (!VirUuid.TryParse(ownerUuid, out Guid ou)) throw Err(VirErrorCode.InternalError, $"Unable to parse UUID '{ownerUuid}'");
        def.OwnerUuid = ou;

        def.Group = root.ChildString("group");

        if (root.Element("virtualport") is { } vp)
            def.VirtualPort = NetDevParser.ParseVirtualPort(vp, NetDevParser.VPortFlags.None);

        string? mac = null;
        foreach (DomElement m in root.Elements("mac"))
        {
            if (m.Attributes.Exists(a => a.NamespaceUri.Length == 0 && a.LocalName == "address"))
            {
                mac = m.AttrString("address");
                break;
            }
        }
        if (mac is null) throw Err(VirErrorCode.InternalError, "network port has no mac");
        if (!MacAddr.TryParse(mac, out MacAddr macAddr)) throw Err(VirErrorCode.InternalError, $"Unable to parse MAC '{mac}'");
        def.Mac = macAddr;

        // Whether "floor" is allowed is only known when the port is used.
        if (root.Element("bandwidth") is { } bw)
        {
            def.Bandwidth = NetDevParser.ParseBandwidth(bw, allowClassId: true, allowFloor: true, out uint classId);
            def.ClassId = classId;
        }

        if (root.Element("vlan") is { } vlan)
            def.Vlan = NetDevParser.ParseVlan(vlan);

        def.IsolatedPort = TristateBool(root.Element("port"), "isolated");
        def.TrustGuestRxFilters = TristateBool(root.Element("rxfilters"), "trustGuest");

        DomElement? plug = root.Element("plug");
        Enum(plug, "type", NetworkNames.NetworkPortPlugType, PropFlags.None, out int plugType);
        def.Plug.Type = (NetworkPortPlugType)plugType;

        switch (def.Plug.Type)
        {
            case NetworkPortPlugType.None:
                break;
            case NetworkPortPlugType.Network:
            case NetworkPortPlugType.Bridge:
            {
                def.Plug.Bridge = plug!.Prop("bridge") ?? throw Err(VirErrorCode.XmlError, "Missing network port bridge name");
                string? mgr = plug.Prop("macTableManager");
                if (mgr is not null)
                {
                    int v = NetworkNames.Lookup(NetworkNames.MacTableManager, mgr);
                    if (v <= 0) throw Err(VirErrorCode.XmlError, $"Invalid macTableManager setting '{mgr}' in network port");
                    def.Plug.MacTableManager = (MacTableManager)v;
                }
                break;
            }
            case NetworkPortPlugType.Direct:
            {
                def.Plug.LinkDev = plug!.Prop("dev") ?? throw Err(VirErrorCode.XmlError, "Missing network port link device name");
                string? mode = plug.Prop("mode");
                if (mode is not null)
                {
                    int v = NetworkNames.Lookup(NetworkNames.MacvlanMode, mode);
                    if (v < 0) throw Err(VirErrorCode.XmlError, $"Invalid mode setting '{mode}' in network port");
                    def.Plug.Mode = (MacvlanMode)v;
                }
                break;
            }
            case NetworkPortPlugType.HostdevPci:
            {
                TristateBool(plug, "managed", PropFlags.None, out TristateBool managed);
                def.Plug.Managed = managed;
                if (plug!.Element("driver") is { } driver)
                    def.Plug.Driver = NetDevParser.ParsePciDriver(driver);
                DomElement address = plug.Element("address") ?? throw Err(VirErrorCode.XmlError, "Missing network port PCI address");
                def.Plug.Address = NetDevParser.ParsePciAddress(address);
                break;
            }
        }
        return def;
    }
}
