using System.Globalization;
using VirtNetworkd.Errors;
using VirtNetworkd.NetworkDriver.Xml.Dom;
using VirtNetworkd.NetworkDriver.Xml.Net;
using static VirtNetworkd.NetworkDriver.Xml.Parse.XmlProps;

namespace VirtNetworkd.NetworkDriver.Xml.Parse;

/// <summary>
/// Parsers for the pieces shared by network, portgroup and port XML: netdev_bandwidth_conf.c,
/// netdev_vlan_conf.c, netdev_vport_profile_conf.c, networkcommon_conf.c (routes) and the PCI
/// address / hostdev driver parts of device_conf.c.
/// </summary>
internal static class NetDevParser
{
    private static LibvirtError NoneErr(VirErrorCode code, string detail) => new(code, VirErrorDomain.None, detail);

    // ------------------------------------------------------------------ bandwidth

    private static BandwidthRate ParseRate(DomElement node, bool allowFloor)
    {
        var rate = new BandwidthRate();
        int rcAverage = ULongLong(node, "average", 10, PropFlags.None, out ulong average);
        int rcPeak = ULongLong(node, "peak", 10, PropFlags.None, out ulong peak);
        int rcBurst = ULongLong(node, "burst", 10, PropFlags.None, out ulong burst);
        int rcFloor = ULongLong(node, "floor", 10, PropFlags.None, out ulong floor);
        rate.Average = average;
        rate.Peak = peak;
        rate.Burst = burst;
        rate.Floor = floor;

        if (rcAverage == 0 && rcFloor == 0)
            throw NoneErr(VirErrorCode.XmlDetail, "Missing mandatory average or floor attributes");
        if ((rcPeak != 0 || rcBurst != 0) && rcAverage == 0)
            throw NoneErr(VirErrorCode.ConfigUnsupported, "'peak' and 'burst' require 'average' attribute");
        if (rcFloor != 0 && !allowFloor)
            throw NoneErr(VirErrorCode.ConfigUnsupported, "floor attribute is not supported for this config");
        return rate;
    }

    /// <summary>
    /// virNetDevBandwidthParse. <paramref name="allowClassId"/> is false where libvirt passes no
    /// class_id pointer. Returns null when neither inbound nor outbound is given.
    /// </summary>
    public static BandwidthDef? ParseBandwidth(DomElement node, bool allowClassId, bool allowFloor, out uint classId)
    {
        classId = 0;
        if (UInt(node, "classID", 10, PropFlags.None, out uint cid) == 1)
        {
            if (!allowClassId)
                throw NoneErr(VirErrorCode.XmlDetail, "classID attribute not supported on <bandwidth> in this usage context");
            classId = cid;
        }
        var def = new BandwidthDef();
        if (node.SubElement("inbound") is { } inbound) def.Inbound = ParseRate(inbound, allowFloor);
        // floor is not allowed for <outbound>
        if (node.SubElement("outbound") is { } outbound) def.Outbound = ParseRate(outbound, false);
        return def.Inbound is null && def.Outbound is null ? null : def;
    }

    // ------------------------------------------------------------------ vlan

    /// <summary>virNetDevVlanParse.</summary>
    public static VlanDef ParseVlan(DomElement node)
    {
        var tags = node.Elements("tag").ToList();
        if (tags.Count == 0)
            throw NoneErr(VirErrorCode.XmlError, "missing tag id - each <vlan> must have at least one <tag id='n'/> subelement");

        var def = new VlanDef();
        foreach (DomElement t in tags)
        {
            UInt(t, "id", 10, PropFlags.Required, out uint id);
            if (id > 4095)
                throw NoneErr(VirErrorCode.XmlError,
                    string.Create(CultureInfo.InvariantCulture, $"vlan tag id {id} too large (maximum 4095)"));
            def.Tags.Add(id);
            if (Enum(t, "nativeMode", NetworkNames.NativeVlanMode, PropFlags.NonZero, out int mode) == 1)
            {
                if (def.NativeMode != NativeVlanMode.Default)
                    throw NoneErr(VirErrorCode.XmlError, "duplicate native vlan setting");
                def.NativeMode = (NativeVlanMode)mode;
                def.NativeTag = id;
            }
        }

        if (tags.Count > 1) def.Trunk = true;

        string? trunk = node.AttrString("trunk");
        if (trunk is not null)
        {
            def.Trunk = string.Equals(trunk, "yes", StringComparison.OrdinalIgnoreCase);
            if (!def.Trunk)
            {
                if (tags.Count > 1)
                    throw NoneErr(VirErrorCode.XmlError,
                        $"invalid \"trunk='{trunk}'\" in <vlan> - trunk='yes' is required for more than one vlan tag");
                if (def.NativeMode != NativeVlanMode.Default)
                    throw NoneErr(VirErrorCode.XmlError,
                        "invalid configuration in <vlan> - \"trunk='no'\" is not allowed with a native vlan id");
                if (!string.Equals(trunk, "no", StringComparison.OrdinalIgnoreCase))
                    throw NoneErr(VirErrorCode.XmlError, $"invalid \"trunk='{trunk}'\" in <vlan> - must be yes or no");
            }
        }
        return def;
    }

    // ------------------------------------------------------------------ virtualport

    [Flags]
    public enum VPortFlags
    {
        None = 0,
        GenerateMissingDefaults = 1 << 0,
        RequireAllAttributes = 1 << 1,
        RequireType = 1 << 2,
    }

    /// <summary>virNetDevVPortProfileParse (without generating defaults: that is the driver's job).</summary>
    public static VirtualPortProfile ParseVirtualPort(DomElement node, VPortFlags flags)
    {
        var vp = new VirtualPortProfile();
        string? type = node.Prop("type");
        if (type is not null)
        {
            int t = NetworkNames.Lookup(NetworkNames.VirtualPortType, type);
            if (t <= 0) throw NoneErr(VirErrorCode.ConfigUnsupported, $"unknown virtualport type {type}");
            vp.Type = (VirtualPortType)t;
        }
        if (vp.Type == VirtualPortType.None && (flags & VPortFlags.RequireType) != 0)
            throw NoneErr(VirErrorCode.XmlError, "missing required virtualport type");

        DomElement? p = node.SubElement("parameters");
        string? managerId = p?.Prop("managerid");
        string? typeId = p?.Prop("typeid");
        string? typeIdVersion = p?.Prop("typeidversion");
        string? instanceId = p?.Prop("instanceid");
        string? profileId = p?.Prop("profileid");
        string? interfaceId = p?.Prop("interfaceid");

        if (managerId is not null)
        {
            if (!CNumber.TryParseUInt(managerId, 0, out uint v))
                throw NoneErr(VirErrorCode.XmlError, "cannot parse value of managerid parameter");
            if (v > 0xff) throw NoneErr(VirErrorCode.XmlError, "value of managerid out of range");
            vp.ManagerId = (byte)v;
        }
        if (typeId is not null)
        {
            if (!CNumber.TryParseUInt(typeId, 0, out uint v))
                throw NoneErr(VirErrorCode.XmlError, "cannot parse value of typeid parameter");
            if (v > 0xffffff) throw NoneErr(VirErrorCode.XmlError, "value for typeid out of range");
            vp.TypeId = v;
        }
        if (typeIdVersion is not null)
        {
            if (!CNumber.TryParseUInt(typeIdVersion, 0, out uint v))
                throw NoneErr(VirErrorCode.XmlError, "cannot parse value of typeidversion parameter");
            if (v > 0xff) throw NoneErr(VirErrorCode.XmlError, "value of typeidversion out of range");
            vp.TypeIdVersion = (byte)v;
        }
        if (instanceId is not null)
        {
            if (!VirUuid.TryParse(instanceId, out Guid g))
                throw NoneErr(VirErrorCode.XmlError, "cannot parse instanceid parameter as a uuid");
            vp.InstanceId = g;
        }
        if (profileId is not null)
        {
            // virStrcpyStatic into char[40], counted in bytes
            if (System.Text.Encoding.UTF8.GetByteCount(profileId) >= VirtualPortProfile.ProfileIdMax)
                throw NoneErr(VirErrorCode.XmlError, "profileid parameter too long");
            vp.ProfileId = profileId;
        }
        if (interfaceId is not null)
        {
            if (!VirUuid.TryParse(interfaceId, out Guid g))
                throw NoneErr(VirErrorCode.XmlError, "cannot parse interfaceid parameter as a uuid");
            vp.InterfaceId = g;
        }

        if ((flags & VPortFlags.RequireAllAttributes) != 0) CheckComplete(vp);
        CheckNoExtras(vp);
        return vp;
    }

    /// <summary>virNetDevVPortProfileCheckComplete (without generating missing ids).</summary>
    public static void CheckComplete(VirtualPortProfile vp)
    {
        string? missing = vp.Type switch
        {
            VirtualPortType.Ieee8021Qbg => vp.ManagerId is null ? "managerid"
                : vp.TypeId is null ? "typeid"
                : vp.TypeIdVersion is null ? "typeidversion"
                : vp.InstanceId is null ? "instanceid" : null,
            VirtualPortType.Ieee8021Qbh => vp.ProfileId.Length == 0 ? "profileid" : null,
            VirtualPortType.OpenVSwitch => vp.InterfaceId is null ? "interfaceid" : null,
            VirtualPortType.MidoNet => vp.InterfaceId is null ? "interfaceid" : null,
            _ => null,
        };
        if (missing is not null)
            throw NoneErr(VirErrorCode.XmlError, $"missing {missing} in <virtualport type='{vp.Type.ToXml()}'>");
    }

    /// <summary>virNetDevVPortProfileCheckNoExtras.</summary>
    public static void CheckNoExtras(VirtualPortProfile vp)
    {
        string? extra = vp.Type switch
        {
            VirtualPortType.Ieee8021Qbg => vp.ProfileId.Length > 0 ? "profileid"
                : vp.InterfaceId is not null ? "interfaceid" : null,
            VirtualPortType.Ieee8021Qbh => vp.ManagerId is not null ? "managerid"
                : vp.TypeId is not null ? "typeid"
                : vp.TypeIdVersion is not null ? "typeidversion"
                : vp.InstanceId is not null ? "instanceid"
                : vp.InterfaceId is not null ? "interfaceid" : null,
            VirtualPortType.OpenVSwitch => vp.ManagerId is not null ? "managerid"
                : vp.TypeId is not null ? "typeid"
                : vp.TypeIdVersion is not null ? "typeidversion"
                : vp.InstanceId is not null ? "instanceid" : null,
            _ => null,
        };
        if (extra is not null)
            throw NoneErr(VirErrorCode.XmlError, $"extra {extra} unsupported in <virtualport type='{vp.Type.ToXml()}'>");
    }

    // ------------------------------------------------------------------ route

    private static LibvirtError RouteErr(string detail) => new(VirErrorCode.XmlError, VirErrorDomain.Network, detail);

    /// <summary>virNetDevIPRouteParseXML + virNetDevIPRouteCreate.</summary>
    public static IpRouteDef ParseRoute(string errorDetail, DomElement node)
    {
        string? family = node.Prop("family");
        string? address = node.Prop("address");
        string? netmask = node.Prop("netmask");
        string? gateway = node.Prop("gateway");
        bool hasPrefix = UInt(node, "prefix", 10, PropFlags.None, out uint prefix) == 1;
        bool hasMetric = UInt(node, "metric", 10, PropFlags.NonZero, out uint metric) == 1;

        var def = new IpRouteDef { Family = family, Prefix = prefix, HasPrefix = hasPrefix, Metric = metric, HasMetric = hasMetric };

        if (address is null)
            throw RouteErr($"{errorDetail}: Missing required address attribute in route definition");
        if (gateway is null)
            throw RouteErr($"{errorDetail}: Missing required gateway attribute in route definition");
        if (!SocketAddr.TryParse(address, out SocketAddr addr))
            throw RouteErr($"{errorDetail}: Bad network address '{address}' in route definition");
        def.Address = addr;
        if (!SocketAddr.TryParse(gateway, out SocketAddr gw))
            throw RouteErr($"{errorDetail}: Bad gateway address '{gateway}' in route definition");
        def.Gateway = gw;

        if (family is null || family == "ipv4")
        {
            if (!(addr.IsIPv4 || !addr.IsValid))
                throw RouteErr(family is null
                    ? $"{errorDetail}: No family specified for non-IPv4 address '{address}' in route definition"
                    : $"{errorDetail}: IPv4 family specified for non-IPv4 address '{address}' in route definition");
            if (!gw.IsIPv4)
                throw RouteErr(family is null
                    ? $"{errorDetail}: No family specified for non-IPv4 gateway '{address}' in route definition"
                    : $"{errorDetail}: IPv4 family specified for non-IPv4 gateway '{address}' in route definition");
            if (netmask is not null)
            {
                if (!SocketAddr.TryParse(netmask, out SocketAddr nm))
                    throw RouteErr($"{errorDetail}: Bad netmask address '{netmask}' in route definition");
                def.Netmask = nm;
                if (!nm.IsIPv4)
                    throw RouteErr($"{errorDetail}: Invalid netmask '{netmask}' for address '{address}' (both must be IPv4)");
                if (hasPrefix)
                    throw RouteErr($"{errorDetail}: Route definition cannot have both a prefix and a netmask");
            }
            if (prefix > 32)
                throw RouteErr(string.Create(CultureInfo.InvariantCulture,
                    $"{errorDetail}: Invalid prefix {prefix} specified in route definition, must be 0 - 32"));
        }
        else if (family == "ipv6")
        {
            if (!addr.IsIPv6)
                throw RouteErr($"{errorDetail}: ipv6 family specified for non-IPv6 address '{address}' in route definition");
            if (netmask is not null)
                throw RouteErr($"{errorDetail}: Specifying netmask invalid for IPv6 address '{address}' in route definition");
            if (!gw.IsIPv6)
                throw RouteErr($"{errorDetail}: ipv6 specified for non-IPv6 gateway address '{gateway}' in route definition");
            if (prefix > 128)
                throw RouteErr(string.Create(CultureInfo.InvariantCulture,
                    $"{errorDetail}: Invalid prefix {prefix} specified in route definition, must be 0 - 128"));
        }
        else
        {
            throw RouteErr($"{errorDetail}: Unrecognized family '{family}' in route definition");
        }

        // the address must be a network address
        SocketAddr test;
        if (netmask is not null)
        {
            test = addr.Mask(def.Netmask);
            if (!test.IsValid)
                throw new LibvirtError(VirErrorCode.InternalError, VirErrorDomain.Network,
                    $"{errorDetail}: Error converting address '{address}' with netmask '{netmask}' to network-address in route definition");
        }
        else
        {
            test = addr.MaskByPrefix((int)prefix);
            if (!test.IsValid)
                throw new LibvirtError(VirErrorCode.InternalError, VirErrorDomain.Network,
                    string.Create(CultureInfo.InvariantCulture,
                        $"{errorDetail}: Error converting address '{address}' with prefix {prefix} to network-address in route definition"));
        }
        if (addr != test)
            throw RouteErr($"{errorDetail}: Address '{address}' in route definition is not a network address");
        return def;
    }

    // ------------------------------------------------------------------ PCI

    /// <summary>virPCIDeviceAddressParseXML (device_conf.c).</summary>
    public static PciAddress ParsePciAddress(DomElement node)
    {
        UInt(node, "domain", 0, PropFlags.None, out uint domain);
        UInt(node, "bus", 0, PropFlags.None, out uint bus);
        UInt(node, "slot", 0, PropFlags.None, out uint slot);
        UInt(node, "function", 0, PropFlags.None, out uint function);
        TristateSwitch(node, "multifunction", PropFlags.None, out TristateSwitch multi);
        var addr = new PciAddress(domain, bus, slot, function) { Multifunction = multi };

        if (!addr.IsEmpty) CheckPciAddressValid(addr);

        if (node.SubElement("zpci") is { } zpci)
        {
            bool hasUid = UInt(zpci, "uid", 0, PropFlags.None, out uint uid) > 0;
            bool hasFid = UInt(zpci, "fid", 0, PropFlags.None, out uint fid) > 0;
            addr = addr with { ZpciUid = hasUid ? uid : null, ZpciFid = hasFid ? fid : null };
        }
        return addr;
    }

    /// <summary>virPCIDeviceAddressIsValid(report=true).</summary>
    public static void CheckPciAddressValid(PciAddress a)
    {
        if (a.Bus > 0xFF)
            throw NoneErr(VirErrorCode.XmlError, string.Create(CultureInfo.InvariantCulture, $"Invalid PCI address bus='0x{a.Bus:x}', must be <= 0xFF"));
        if (a.Slot > 0x1F)
            throw NoneErr(VirErrorCode.XmlError, string.Create(CultureInfo.InvariantCulture, $"Invalid PCI address slot='0x{a.Slot:x}', must be <= 0x1F"));
        if (a.Function > 7)
            throw NoneErr(VirErrorCode.XmlError, string.Create(CultureInfo.InvariantCulture, $"Invalid PCI address function=0x{a.Function:x}, must be <= 7"));
        if (a.IsEmpty)
            throw NoneErr(VirErrorCode.XmlError, "Invalid PCI address 0000:00:00, at least one of domain, bus, or slot must be > 0");
    }

    /// <summary>virDeviceHostdevPCIDriverInfoParseXML.</summary>
    public static PciDriverInfo ParsePciDriver(DomElement node)
    {
        Enum(node, "name", NetworkNames.PciDriverName, PropFlags.NonZero, out int name);
        return new PciDriverInfo { Name = (PciDriverName)name, Model = node.Prop("model") };
    }
}
