using VirtNetworkd.Errors;
using VirtNetworkd.NetworkDriver.Xml;

namespace VirtNetworkd.NetworkDriver.Backend.Linux;

/// <summary>
/// networkStartNetworkBridge, for &lt;forward mode='bridge'/&gt; on a host bridge someone else
/// made: libvirt neither creates nor checks it at start (without a &lt;bandwidth&gt; the network
/// starts even when it does not exist yet), and only touches it for a &lt;bandwidth&gt; (its tc
/// tree, made by the caller's step, first) and for macTableManager='libvirt', which turns the
/// bridge's VLAN filtering on (libvirt writes /sys/class/net/BR/bridge/vlan_filtering; we send
/// the same setting over rtnetlink, which also works in a namespace whose /sys is not
/// remounted). A failure clears the bandwidth again (libvirt's error path); networkShutdownNetworkBridge
/// clears it too and leaves the VLAN filtering on.
/// </summary>
public static class HostBridgeSteps
{
    public static List<StartStep<VirtualNetworkStart>> Steps(StartStep<VirtualNetworkStart> bandwidth, Action<string> log)
    {
        ArgumentNullException.ThrowIfNull(bandwidth);
        ArgumentNullException.ThrowIfNull(log);
        return
        [
            new("host bridge", c => c.Record = new BackendRecord { Bridge = c.Def.Bridge, BridgeCreated = false }),
            bandwidth,
            new("MAC table manager", c => SetMacTableManager(c, log)),
        ];
    }

    private static void SetMacTableManager(VirtualNetworkStart c, Action<string> log)
    {
        if (c.Def.MacTableManager != MacTableManager.Libvirt) return;
        string bridge = c.Def.Bridge!;
        // libvirt: when the sysfs file is missing (no such device, not a bridge) or cannot be
        // written (a kernel without CONFIG_BRIDGE_VLAN_FILTERING), it tries the bridge ioctl,
        // which knows no vlan_filtering; that is the error it reports
        var error = new LibvirtError(VirErrorCode.SystemError, VirErrorDomain.Network,
            $"Unable to set bridge {bridge} vlan_filtering via ioctl: Invalid argument");
        if (c.Host.Netlink.GetLink(bridge) is not { Kind: "bridge" } link) throw error;
        try
        {
            c.Host.Netlink.SetVlanFiltering(link.Index, enable: true);
        }
        catch (Netlink.NetlinkErrorException e)
        {
            log($"network '{c.Def.Name}': setting vlan_filtering on bridge {bridge} failed: {e.Message}");
            throw error;
        }
    }
}
