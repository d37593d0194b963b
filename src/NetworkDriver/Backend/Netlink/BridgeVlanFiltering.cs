namespace VirtNetworkd.NetworkDriver.Backend.Netlink;

/// <summary>RTM_NEWLINK on an existing bridge setting IFLA_BR_VLAN_FILTERING (what libvirt writes to /sys/class/net/BR/bridge/vlan_filtering).</summary>
public static class BridgeVlanFiltering
{
    public const ushort IflaBrVlanFiltering = 7;

    public static byte[] Request(uint sequence, int index, bool enable)
    {
        var w = new NetlinkWriter(Nl.NewLink, Nl.FRequest | Nl.FAck, sequence).IfInfo(Nl.AfUnspec, index);
        int info = w.BeginNest(Nl.IflaLinkInfo);
        w.AttrString(Nl.IflaInfoKind, "bridge");
        int data = w.BeginNest(Nl.IflaInfoData);
        w.AttrU8(IflaBrVlanFiltering, enable ? (byte)1 : (byte)0);
        w.EndNest(data);
        w.EndNest(info);
        return w.ToArray();
    }
}
