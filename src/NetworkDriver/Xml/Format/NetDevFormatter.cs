using System.Globalization;

namespace VirtNetworkd.NetworkDriver.Xml.Format;

/// <summary>Formatters for the shared pieces: bandwidth, vlan, virtualport, route, PCI address, hostdev driver.</summary>
internal static class NetDevFormatter
{
    private static string U(ulong v) => v.ToString(CultureInfo.InvariantCulture);

    private static void Rate(XmlBuffer buf, BandwidthRate? r, string elem)
    {
        if (r is null || (r.Average == 0 && r.Floor == 0)) return;
        string s = "<" + elem;
        if (r.Average != 0) s += $" average='{U(r.Average)}'";
        if (r.Peak != 0) s += $" peak='{U(r.Peak)}'";
        if (r.Floor != 0) s += $" floor='{U(r.Floor)}'";
        if (r.Burst != 0) s += $" burst='{U(r.Burst)}'";
        buf.Add(s + "/>\n");
    }

    /// <summary>virNetDevBandwidthFormat.</summary>
    public static void Bandwidth(XmlBuffer buf, BandwidthDef? def, uint classId)
    {
        if (def is null) return;
        buf.Add(classId != 0 ? $"<bandwidth classID='{U(classId)}'>\n" : "<bandwidth>\n");
        buf.AdjustIndent(2);
        Rate(buf, def.Inbound, "inbound");
        Rate(buf, def.Outbound, "outbound");
        buf.AdjustIndent(-2);
        buf.Add("</bandwidth>\n");
    }

    /// <summary>virNetDevVlanFormat.</summary>
    public static void Vlan(XmlBuffer buf, VlanDef? def)
    {
        if (def is null || def.Tags.Count == 0) return;
        buf.Add(def.Trunk ? "<vlan trunk='yes'>\n" : "<vlan>\n");
        buf.AdjustIndent(2);
        foreach (uint tag in def.Tags)
        {
            if (def.NativeMode != NativeVlanMode.Default && def.NativeTag == tag)
                buf.Add($"<tag id='{U(tag)}' nativeMode='{def.NativeMode.ToXml()}'/>\n");
            else
                buf.Add($"<tag id='{U(tag)}'/>\n");
        }
        buf.AdjustIndent(-2);
        buf.Add("</vlan>\n");
    }

    /// <summary>virNetDevVPortProfileFormat.</summary>
    public static void VirtualPort(XmlBuffer buf, VirtualPortProfile? vp)
    {
        if (vp is null) return;
        bool noParameters = vp.ManagerId is null && vp.TypeId is null && vp.TypeIdVersion is null &&
                            vp.InstanceId is null && vp.ProfileId.Length == 0 && vp.InterfaceId is null;
        VirtualPortType type = vp.Type;
        if (type == VirtualPortType.None)
        {
            if (noParameters) return;
            buf.Add("<virtualport>\n");
        }
        else if (noParameters)
        {
            buf.Add($"<virtualport type='{type.ToXml()}'/>\n");
            return;
        }
        else
        {
            buf.Add($"<virtualport type='{type.ToXml()}'>\n");
        }
        buf.AdjustIndent(2);
        string s = "<parameters";
        bool qbgOrNone = type is VirtualPortType.Ieee8021Qbg or VirtualPortType.None;
        if (vp.ManagerId is { } mid && qbgOrNone) s += $" managerid='{U(mid)}'";
        if (vp.TypeId is { } tid && qbgOrNone) s += $" typeid='{U(tid)}'";
        if (vp.TypeIdVersion is { } tv && qbgOrNone) s += $" typeidversion='{U(tv)}'";
        if (vp.InstanceId is { } iid && qbgOrNone) s += $" instanceid='{iid:D}'";
        if (vp.InterfaceId is { } ifid && type is VirtualPortType.MidoNet or VirtualPortType.OpenVSwitch or VirtualPortType.None)
            s += $" interfaceid='{ifid:D}'";
        if (vp.ProfileId.Length > 0 && type is VirtualPortType.OpenVSwitch or VirtualPortType.Ieee8021Qbh or VirtualPortType.None)
            s += $" profileid='{XmlBuffer.EscapeXml(vp.ProfileId)}'";
        buf.Add(s + "/>\n");
        buf.AdjustIndent(-2);
        buf.Add("</virtualport>\n");
    }

    /// <summary>virNetDevIPRouteFormat.</summary>
    public static void Route(XmlBuffer buf, IpRouteDef r)
    {
        string s = "<route";
        if (r.Family is not null) s += $" family='{XmlBuffer.EscapeXml(r.Family)}'";
        s += $" address='{r.Address.Format()}'";
        if (r.Netmask.IsValid) s += $" netmask='{r.Netmask.Format()}'";
        if (r.HasPrefix) s += $" prefix='{U(r.Prefix)}'";
        s += $" gateway='{r.Gateway.Format()}'";
        if (r.HasMetric && r.Metric > 0) s += $" metric='{U(r.Metric)}'";
        buf.Add(s + "/>\n");
    }

    /// <summary>virPCIDeviceAddressFormat (note libvirt's function='0x%d').</summary>
    public static void PciAddress(XmlBuffer buf, PciAddress a, bool includeType) =>
        buf.Add(string.Create(CultureInfo.InvariantCulture,
            $"<address {(includeType ? "type='pci' " : "")}domain='0x{a.Domain:x4}' bus='0x{a.Bus:x2}' slot='0x{a.Slot:x2}' function='0x{a.Function}'/>\n"));

    /// <summary>virDeviceHostdevPCIDriverInfoFormat: nothing when neither name nor model is set.</summary>
    public static void PciDriver(XmlBuffer buf, PciDriverInfo d)
    {
        string attrs = "";
        if (d.Name != PciDriverName.Default) attrs += $" name='{d.Name.ToXml()}'";
        if (d.Model is not null) attrs += $" model='{XmlBuffer.EscapeXml(d.Model)}'";
        if (attrs.Length > 0) buf.Add("<driver" + attrs + "/>\n");
    }
}
