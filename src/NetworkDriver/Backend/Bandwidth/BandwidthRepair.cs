using VirtNetworkd.NetworkDriver.Driver;
using VirtNetworkd.NetworkDriver.Xml;

namespace VirtNetworkd.NetworkDriver.Backend.Bandwidth;

/// <summary>
/// Beyond libvirt (networkUpdateState and networkStateReload leave the tc tree alone, so a tree
/// someone removed stays removed until the network restarts): the commands that put back what
/// is missing of a running network's tree, and nothing for what is there, so that the shaping of
/// guests is not disturbed by a daemon restart or a SIGHUP. The same rule as the firewall rules
/// added again and dnsmasq adopted or started again. Pure: <see cref="TcRunner"/> runs them.
/// </summary>
public static class BandwidthRepair
{
    /// <summary>
    /// A root that is not libvirt's HTB 1: with its classes 1:1 and 1:2 is made again as
    /// virNetDevBandwidthSet makes it (after deleting whatever root is there), with the class of
    /// each port's floor (its class id kept) and the unguaranteed class 1:2 at
    /// <paramref name="unguaranteedRate"/>, as the ports' plugging left it; with the root intact,
    /// only ports whose class is missing are plugged again. A missing ingress qdisc gets its
    /// police filter again. Filters and sfq qdiscs are not looked at: a kernel without cls_fw,
    /// act_police or sch_sfq never has them, and they go with the qdisc they hang from.
    /// </summary>
    public static IReadOnlyList<TcCommand> Plan(string bridge, BandwidthDef bandwidth, TcTree tree,
        IReadOnlyList<PortFloor> floors, ulong? unguaranteedRate)
    {
        ArgumentNullException.ThrowIfNull(bandwidth);
        ArgumentNullException.ThrowIfNull(tree);
        ArgumentNullException.ThrowIfNull(floors);
        var cmds = new List<TcCommand>();
        var root = TcCommands.Root(bridge, bandwidth, hierarchicalClass: true, swapped: true);
        if (root.Count > 0)
        {
            bool intact = tree.HasRootHtb && tree.HasClass("1:1", "root") && tree.HasClass("1:2", "1:1");
            if (!intact)
            {
                cmds.Add(TcCommands.Clear(bridge)[0]);
                cmds.AddRange(root);
            }
            foreach (var port in floors)
            {
                if (intact && tree.HasClass(TcCommands.ClassId(port.ClassId), "1:1")) continue;
                if (intact) cmds.AddRange(TcCommands.Unplug(bridge, port.ClassId)); // its filter or sfq may be left
                cmds.AddRange(TcCommands.Plug(bridge, bandwidth, port.Mac, port.Bandwidth, port.ClassId));
            }
            if (!intact && unguaranteedRate is { } rate)
                cmds.AddRange(TcCommands.UpdateRate(bridge, 2, bandwidth, rate));
        }
        var ingress = TcCommands.Ingress(bridge, bandwidth, swapped: true);
        if (ingress.Count > 0 && !tree.HasIngress) cmds.AddRange(ingress);
        return cmds;
    }
}
