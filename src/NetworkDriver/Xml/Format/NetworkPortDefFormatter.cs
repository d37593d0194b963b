using VirtNetworkd.NetworkDriver.Xml.Net;

namespace VirtNetworkd.NetworkDriver.Xml.Format;

/// <summary>virNetworkPortDefFormatBuf.</summary>
internal static class NetworkPortDefFormatter
{
    public static string Format(NetworkPortDef def)
    {
        var buf = new XmlBuffer();
        buf.Add("<networkport>\n");
        buf.AdjustIndent(2);
        buf.Add($"<uuid>{VirUuid.Format(def.Uuid)}</uuid>\n");
        buf.Add("<owner>\n");
        buf.AdjustIndent(2);
        buf.Escape("<name>", def.OwnerName, "</name>\n");
        buf.Add($"<uuid>{VirUuid.Format(def.OwnerUuid)}</uuid>\n");
        buf.AdjustIndent(-2);
        buf.Add("</owner>\n");
        buf.Escape("<group>", def.Group, "</group>\n");
        buf.Add($"<mac address='{def.Mac}'/>\n");
        NetDevFormatter.VirtualPort(buf, def.VirtualPort);
        NetDevFormatter.Bandwidth(buf, def.Bandwidth, def.ClassId);
        NetDevFormatter.Vlan(buf, def.Vlan);
        NetworkDefFormatter.PortOptions(buf, def.IsolatedPort);
        if (def.TrustGuestRxFilters != TristateBool.Absent)
            buf.Add($"<rxfilters trustGuest='{def.TrustGuestRxFilters.ToXml()}'/>\n");

        NetworkPortPlug plug = def.Plug;
        if (plug.Type != NetworkPortPlugType.None)
        {
            string s = $"<plug type='{plug.Type.ToXml()}'";
            switch (plug.Type)
            {
                case NetworkPortPlugType.Network:
                case NetworkPortPlugType.Bridge:
                    if (plug.Bridge is not null) s += $" bridge='{XmlBuffer.EscapeXml(plug.Bridge)}'";
                    if (plug.MacTableManager != MacTableManager.Default) s += $" macTableManager='{plug.MacTableManager.ToXml()}'";
                    buf.Add(s + "/>\n");
                    break;
                case NetworkPortPlugType.Direct:
                    if (plug.LinkDev is not null) s += $" dev='{XmlBuffer.EscapeXml(plug.LinkDev)}'";
                    s += $" mode='{plug.Mode.ToXml()}'";
                    buf.Add(s + "/>\n");
                    break;
                case NetworkPortPlugType.HostdevPci:
                    if (plug.Managed != TristateBool.Absent) s += $" managed='{plug.Managed.ToXml()}'";
                    buf.Add(s + ">\n");
                    buf.AdjustIndent(2);
                    NetDevFormatter.PciDriver(buf, plug.Driver);
                    NetDevFormatter.PciAddress(buf, plug.Address, includeType: false);
                    buf.AdjustIndent(-2);
                    buf.Add("</plug>\n");
                    break;
            }
        }
        buf.AdjustIndent(-2);
        buf.Add("</networkport>\n");
        return buf.ToString();
    }
}
