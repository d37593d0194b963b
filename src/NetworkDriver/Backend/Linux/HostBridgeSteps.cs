using VirtNetworkd.Errors;
using VirtNetworkd.NetworkDriver.Xml;

namespace VirtNetworkd.NetworkDriver.Backend.Linux;

/// <summary>
/// networkStartNetworkBridge, for &lt;forward mode='bridge'/&gt; on a host bridge someone else
/// made: libvirt neither creates nor checks it at start (the network starts even when it does
/// not exist yet), and only touches it for a &lt;bandwidth&gt; (issue 13's) and for
/// macTableManager='libvirt', which turns the bridge's VLAN filtering on (libvirt writes
/// /sys/class/net/BR/bridge/vlan_filtering; we send the same setting over rtnetlink, which also
/// works in a namespace whose /sys is not remounted). Nothing is undone at shutdown.
/// </summary>
public static class HostBridgeSteps
{
    public static BackendRecord Start(LinuxHost host, NetworkDef def, Action<string> log)
    {
        ArgumentNullException.ThrowIfNull(host);
        ArgumentNullException.ThrowIfNull(def);
        ArgumentNullException.ThrowIfNull(log);
        string bridge = def.Bridge ?? throw new ArgumentException("bridge mode without a bridge is macvtap", nameof(def));
        if (def.MacTableManager == MacTableManager.Libvirt)
        {
            // libvirt: when the sysfs file is missing (no such device, not a bridge) or cannot be
            // written (a kernel without CONFIG_BRIDGE_VLAN_FILTERING), it tries the bridge ioctl,
            // which knows no vlan_filtering; that is the error it reports
            var error = new LibvirtError(VirErrorCode.SystemError, VirErrorDomain.Network,
                $"Unable to set bridge {bridge} vlan_filtering via ioctl: Invalid argument");
            if (host.Netlink.GetLink(bridge) is not { Kind: "bridge" } link) throw error;
            try
            {
                host.Netlink.SetVlanFiltering(link.Index, enable: true);
            }
            catch (Netlink.NetlinkErrorException e)
            {
                log($"network '{def.Name}': setting vlan_filtering on bridge {bridge} failed: {e.Message}");
                throw error;
            }
        }
        return new BackendRecord { Bridge = bridge, BridgeCreated = false };
    }
}
