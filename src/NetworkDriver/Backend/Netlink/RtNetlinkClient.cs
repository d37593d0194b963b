using System.Net;
using VirtNetworkd.NetworkDriver.Xml.Net;

namespace VirtNetworkd.NetworkDriver.Backend.Netlink;

/// <summary>
/// What the Linux backend asks of the kernel's routing netlink: devices, bridges, addresses and
/// routes (the part of `ip link/addr/route` libvirt's virNetDev* functions use), over one
/// <see cref="NetlinkSocket"/>. Messages are built by <see cref="RtnlRequest"/> and read by
/// <see cref="RtnlParse"/>; this class only sends them.
/// </summary>
public sealed class RtNetlinkClient(NetlinkSocket socket) : IDisposable
{
    /// <summary>The device named <paramref name="name"/>, or null (virNetDevExists).</summary>
    public LinkInfo? GetLink(string name)
    {
        LinkInfo? found = null;
        try
        {
            socket.Query(RtnlRequest.GetLink(socket.NextSequence(), name), $"get link {name}", (type, payload) =>
            {
                if (type == Nl.NewLink) found = RtnlParse.Link(payload);
            });
        }
        catch (NetlinkErrorException e) when (e.Errno == NetlinkErrorException.ENoDev)
        {
            return null;
        }
        return found;
    }

    /// <summary>The device with index <paramref name="index"/>, or null. The kernel answers it
    /// under the rtnl lock, so it also waits for a change of links in progress.</summary>
    public LinkInfo? GetLink(int index)
    {
        LinkInfo? found = null;
        try
        {
            socket.Query(RtnlRequest.GetLink(socket.NextSequence(), index), $"get link {index}", (type, payload) =>
            {
                if (type == Nl.NewLink) found = RtnlParse.Link(payload);
            });
        }
        catch (NetlinkErrorException e) when (e.Errno == NetlinkErrorException.ENoDev)
        {
            return null;
        }
        return found;
    }

    public IReadOnlyList<LinkInfo> Links()
    {
        var links = new List<LinkInfo>();
        socket.Query(RtnlRequest.DumpLinks(socket.NextSequence()), "dump links", (type, payload) =>
        {
            if (type == Nl.NewLink) links.Add(RtnlParse.Link(payload));
        });
        return links;
    }

    /// <summary>Creates a bridge; EEXIST when the name is taken.</summary>
    public LinkInfo CreateBridge(string name, MacAddr? mac, uint? mtu, bool? stp, uint? forwardDelayCentiseconds)
    {
        socket.Ack(RtnlRequest.CreateBridge(socket.NextSequence(), name, mac, mtu, stp, forwardDelayCentiseconds), $"create bridge {name}");
        return GetLink(name) ?? throw new NetlinkErrorException(NetlinkErrorException.ENoDev, $"bridge {name} vanished after its creation");
    }

    public void DeleteLink(int index) => socket.Ack(RtnlRequest.DeleteLink(socket.NextSequence(), index), $"delete link {index}");

    public void SetUp(int index, bool up) => socket.Ack(RtnlRequest.SetUp(socket.NextSequence(), index, up), $"set link {index} {(up ? "up" : "down")}");

    public void SetMaster(int index, int master) => socket.Ack(RtnlRequest.SetMaster(socket.NextSequence(), index, master), $"set link {index} master {master}");

    /// <summary>A bridge's vlan_filtering (virNetDevBridgeSetVlanFiltering).</summary>
    public void SetVlanFiltering(int index, bool enable) =>
        socket.Ack(RtnlRequest.SetVlanFiltering(socket.NextSequence(), index, enable), $"set bridge {index} vlan_filtering {(enable ? 1 : 0)}");

    public void SetPortLearningAndFlood(int index, bool learning, bool flood) =>
        socket.Ack(RtnlRequest.SetPortLearningAndFlood(socket.NextSequence(), index, learning, flood), $"set bridge port {index} learning/flood");

    public void AddAddress(int index, IPAddress address, byte prefixLength, IPAddress? broadcast) =>
        socket.Ack(RtnlRequest.AddAddress(socket.NextSequence(), index, address, prefixLength, broadcast), $"add address {address}/{prefixLength}");

    public IReadOnlyList<AddressInfo> Addresses(byte family)
    {
        var list = new List<AddressInfo>();
        socket.Query(RtnlRequest.DumpAddresses(socket.NextSequence(), family), "dump addresses", (type, payload) =>
        {
            if (type == Nl.NewAddr) list.Add(RtnlParse.Address(payload));
        });
        return list;
    }

    public void AddRoute(IPAddress destination, byte prefixLength, IPAddress? gateway, int outputInterface, uint? metric) =>
        socket.Ack(RtnlRequest.AddRoute(socket.NextSequence(), destination, prefixLength, gateway, outputInterface, metric), $"add route {destination}/{prefixLength}");

    public IReadOnlyList<RouteInfo> Routes(byte family)
    {
        var list = new List<RouteInfo>();
        socket.Query(RtnlRequest.DumpRoutes(socket.NextSequence(), family), "dump routes", (type, payload) =>
        {
            if (type == Nl.NewRoute) list.Add(RtnlParse.Route(payload));
        });
        return list;
    }

    public void Dispose() => socket.Dispose();
}
