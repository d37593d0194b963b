using VirtNetworkd.NetworkDriver.Driver;
using VirtNetworkd.Protocol.Framing;
using VirtNetworkd.Protocol.Programs;
using VirtNetworkd.Protocol.Remote;
using VirtNetworkd.Protocol.Xdr;
using VirtNetworkd.Server.Rpc;

namespace VirtNetworkd.Server.Remote;

/// <summary>
/// The network procedures served by the network driver. Queries run inline; calls that write
/// state to disk (define, create, destroy, undefine, autostart) run on the worker pool.
/// </summary>
public sealed partial class RemoteDispatcher
{
    private const int NetworkListMax = 16384; // REMOTE_NETWORK_LIST_MAX
    private readonly ListAllReplyCache _listAllReplies = new();
    private readonly XmlReplyCache _xmlReplies = new();

    private VirtNetworkd.NetworkDriver.Driver.NetworkDriver Networks => _context.Networks!;

    private void AddNetworkRows(DispatchTable<RemoteSession> t)
    {
        t.Inline((int)Procedure.ConnectNumOfNetworks, (IRpcClient c, RemoteSession s, PacketHeader h, in XdrVoid _) =>
            c.Reply(h, new ConnectNumOfNetworksRet { Num = Networks.NumOfNetworks() }));
        t.Inline((int)Procedure.ConnectNumOfDefinedNetworks, (IRpcClient c, RemoteSession s, PacketHeader h, in XdrVoid _) =>
            c.Reply(h, new ConnectNumOfDefinedNetworksRet { Num = Networks.NumOfDefined() }));
        t.Inline((int)Procedure.ConnectListNetworks, (IRpcClient c, RemoteSession s, PacketHeader h, in ConnectListNetworksArgs a) =>
        {
            if (a.Maxnames > NetworkListMax) throw RpcErrors.Rpc("maxnames > REMOTE_NETWORK_LIST_MAX");
            c.Reply(h, new ConnectListNetworksRet { Names = [.. Networks.ListNetworks(a.Maxnames)] });
        });
        t.Inline((int)Procedure.ConnectListDefinedNetworks, (IRpcClient c, RemoteSession s, PacketHeader h, in ConnectListDefinedNetworksArgs a) =>
        {
            if (a.Maxnames > NetworkListMax) throw RpcErrors.Rpc("maxnames > REMOTE_NETWORK_LIST_MAX");
            c.Reply(h, new ConnectListDefinedNetworksRet { Names = [.. Networks.ListDefined(a.Maxnames)] });
        });
        t.Inline((int)Procedure.ConnectListAllNetworks, (IRpcClient c, RemoteSession s, PacketHeader h, in ConnectListAllNetworksArgs a) =>
            c.Reply(h, ListAllReply(a.Flags, a.NeedResults != 0)));
        t.Inline((int)Procedure.NetworkLookupByName, (IRpcClient c, RemoteSession s, PacketHeader h, in NetworkLookupByNameArgs a) =>
            c.Reply(h, new NetworkLookupByNameRet { Net = WireForReply(Networks.LookupByName(a.Name)) }));
        t.Inline((int)Procedure.NetworkLookupByUuid, (IRpcClient c, RemoteSession s, PacketHeader h, in NetworkLookupByUuidArgs a) =>
            c.Reply(h, new NetworkLookupByUuidRet { Net = WireForReply(Networks.LookupByUuid(new Guid(a.Uuid, bigEndian: true))) }));
        t.Inline((int)Procedure.NetworkGetXmlDesc, (IRpcClient c, RemoteSession s, PacketHeader h, in NetworkGetXmlDescArgs a) =>
            c.Reply(h, _xmlReplies.For(Networks.GetXmlDesc(Ref(a.Net), a.Flags))));
        t.Inline((int)Procedure.NetworkGetBridgeName, (IRpcClient c, RemoteSession s, PacketHeader h, in NetworkGetBridgeNameArgs a) =>
            c.Reply(h, new NetworkGetBridgeNameRet { Name = Networks.GetBridgeName(Ref(a.Net)) }));
        t.Inline((int)Procedure.NetworkGetAutostart, (IRpcClient c, RemoteSession s, PacketHeader h, in NetworkGetAutostartArgs a) =>
            c.Reply(h, new NetworkGetAutostartRet { Autostart = Networks.GetAutostart(Ref(a.Net)) ? 1 : 0 }));
        t.Inline((int)Procedure.NetworkIsActive, (IRpcClient c, RemoteSession s, PacketHeader h, in NetworkIsActiveArgs a) =>
            c.Reply(h, new NetworkIsActiveRet { Active = Networks.IsActive(Ref(a.Net)) ? 1 : 0 }));
        t.Inline((int)Procedure.NetworkIsPersistent, (IRpcClient c, RemoteSession s, PacketHeader h, in NetworkIsPersistentArgs a) =>
            c.Reply(h, new NetworkIsPersistentRet { Persistent = Networks.IsPersistent(Ref(a.Net)) ? 1 : 0 }));
        t.Inline((int)Procedure.NetworkGetMetadata, (IRpcClient c, RemoteSession s, PacketHeader h, in NetworkGetMetadataArgs a) =>
            c.Reply(h, new NetworkGetMetadataRet { Metadata = Networks.GetMetadata(Ref(a.Network), a.Type, a.Uri, a.Flags) }));
        // reads BRIDGE.status (up to 32 MiB): on the pool, not on the loop
        t.Worker((int)Procedure.NetworkGetDhcpLeases, (IRpcClient c, RemoteSession s, PacketHeader h, in NetworkGetDhcpLeasesArgs a) =>
            c.Reply(h, DhcpLeasesReply(Networks.GetDhcpLeases(Ref(a.Net), a.Mac, a.Flags, a.NeedResults != 0), a.NeedResults != 0), flush: true));
        t.Inline((int)Procedure.ConnectNetworkEventRegisterAny, (IRpcClient c, RemoteSession s, PacketHeader h, in ConnectNetworkEventRegisterAnyArgs a) =>
        {
            if (a.EventID < 0 || a.EventID >= NetworkEventHub.EventIdLast)
                throw RpcErrors.Internal($"unsupported network event ID {a.EventID}"); // remoteDispatchConnectNetworkEventRegisterAny
            Guid? filter = a.Net is { } n ? Ref(n).Uuid : null;
            c.Reply(h, new ConnectNetworkEventRegisterAnyRet { CallbackID = _context.Events!.Register(c, a.EventID, filter) });
        });
        t.Inline((int)Procedure.ConnectNetworkEventDeregisterAny, (IRpcClient c, RemoteSession s, PacketHeader h, in ConnectNetworkEventDeregisterAnyArgs a) =>
        {
            if (!_context.Events!.Deregister(c, a.CallbackID))
                throw RpcErrors.Internal($"network event callback {a.CallbackID} not registered");
            c.Reply(h, new XdrVoid());
        });

        // these write state to disk and reach the host: the worker pool
        t.Worker((int)Procedure.NetworkDefineXml, (IRpcClient c, RemoteSession s, PacketHeader h, in NetworkDefineXmlArgs a) =>
            c.Reply(h, new NetworkDefineXmlRet { Net = Wire(Networks.DefineXml(a.Xml, 0)) }, flush: true));
        t.Worker((int)Procedure.NetworkDefineXmlFlags, (IRpcClient c, RemoteSession s, PacketHeader h, in NetworkDefineXmlFlagsArgs a) =>
            c.Reply(h, new NetworkDefineXmlFlagsRet { Net = Wire(Networks.DefineXml(a.Xml, a.Flags)) }, flush: true));
        t.Worker((int)Procedure.NetworkCreateXml, (IRpcClient c, RemoteSession s, PacketHeader h, in NetworkCreateXmlArgs a) =>
            c.Reply(h, new NetworkCreateXmlRet { Net = Wire(Networks.CreateXml(a.Xml, 0)) }, flush: true));
        t.Worker((int)Procedure.NetworkCreateXmlFlags, (IRpcClient c, RemoteSession s, PacketHeader h, in NetworkCreateXmlFlagsArgs a) =>
            c.Reply(h, new NetworkCreateXmlFlagsRet { Net = Wire(Networks.CreateXml(a.Xml, a.Flags)) }, flush: true));
        t.Worker((int)Procedure.NetworkCreate, (IRpcClient c, RemoteSession s, PacketHeader h, in NetworkCreateArgs a) =>
        {
            Networks.Create(Ref(a.Net));
            c.Reply(h, new XdrVoid(), flush: true);
        });
        t.Worker((int)Procedure.NetworkDestroy, (IRpcClient c, RemoteSession s, PacketHeader h, in NetworkDestroyArgs a) =>
        {
            Networks.Destroy(Ref(a.Net));
            c.Reply(h, new XdrVoid(), flush: true);
        });
        t.Worker((int)Procedure.NetworkUndefine, (IRpcClient c, RemoteSession s, PacketHeader h, in NetworkUndefineArgs a) =>
        {
            Networks.Undefine(Ref(a.Net));
            c.Reply(h, new XdrVoid(), flush: true);
        });
        t.Worker((int)Procedure.NetworkSetAutostart, (IRpcClient c, RemoteSession s, PacketHeader h, in NetworkSetAutostartArgs a) =>
        {
            Networks.SetAutostart(Ref(a.Net), a.Autostart != 0);
            c.Reply(h, new XdrVoid(), flush: true);
        });
        t.Worker((int)Procedure.NetworkUpdate, (IRpcClient c, RemoteSession s, PacketHeader h, in NetworkUpdateArgs a) =>
        {
            Networks.Update(Ref(a.Net), (int)a.Command, (int)a.Section, a.ParentIndex, a.Xml, a.Flags);
            c.Reply(h, new XdrVoid(), flush: true);
        });
        t.Worker((int)Procedure.NetworkSetMetadata, (IRpcClient c, RemoteSession s, PacketHeader h, in NetworkSetMetadataArgs a) =>
        {
            Networks.SetMetadata(Ref(a.Network), a.Type, a.Metadata, a.Key, a.Uri, a.Flags);
            c.Reply(h, new XdrVoid(), flush: true);
        });
    }

    /// <summary>CONNECT_LIST_ALL_NETWORKS, replayed from the encoded reply while the driver's
    /// generation has not moved.</summary>
    private EncodedBody ListAllReply(uint flags, bool need)
    {
        long generation = Networks.Generation; // read first: the list below is at least this new
        if (_listAllReplies.TryGet(flags, need, generation, out var cached)) return cached;
        var all = Networks.ListAll(flags);
        if (all.Count > NetworkListMax)
            throw RpcErrors.Internal($"Too many networks '{all.Count}' for limit '{NetworkListMax}'");
        var nets = need ? all.Select(Wire).ToArray() : [];
        var reply = EncodedBody.Of(new ConnectListAllNetworksRet { Nets = nets, Ret = (uint)all.Count });
        _listAllReplies.Set(flags, need, generation, reply);
        return reply;
    }

    private static NetworkGetDhcpLeasesRet DhcpLeasesReply(IReadOnlyList<DhcpLease> leases, bool need)
    {
        if (leases.Count > DhcpLeasesMax)
            throw RpcErrors.Internal($"Number of leases is {leases.Count}, which exceeds max limit: {DhcpLeasesMax}");
        var wire = need
            ? leases.Select(l => new NetworkDhcpLease
            {
                Iface = l.Iface, Expirytime = l.ExpiryTime, Type = l.Type, Mac = l.Mac, Iaid = l.Iaid,
                Ipaddr = l.IpAddr, Prefix = l.Prefix, Hostname = l.Hostname, Clientid = l.ClientId,
            }).ToArray()
            : [];
        return new NetworkGetDhcpLeasesRet { Leases = wire, Ret = (uint)leases.Count };
    }

    private const int DhcpLeasesMax = 65536; // REMOTE_NETWORK_DHCP_LEASES_MAX

    /// <summary>The network connection is open, and a read-only client only reads.</summary>
    private static void Ready(RemoteSession session, ProcedureInfo info)
    {
        if (!session.Opened) throw RpcErrors.Internal("connection not open");
        RequireWritable(session, info, info.ApiName ?? info.Name);
    }

    [ThreadStatic] private static byte[]? t_replyUuid;

    /// <summary><see cref="Wire"/> into a buffer of this thread: only for a reply encoded before the next call on the thread.</summary>
    private static NonnullNetwork WireForReply(NetworkRef net)
    {
        var uuid = t_replyUuid ??= new byte[16];
        net.Uuid.TryWriteBytes(uuid, bigEndian: true, out _);
        return new NonnullNetwork { Name = net.Name, Uuid = uuid };
    }

    internal static NonnullNetwork Wire(NetworkRef net)
    {
        var uuid = new byte[16];
        net.Uuid.TryWriteBytes(uuid, bigEndian: true, out _);
        return new NonnullNetwork { Name = net.Name, Uuid = uuid };
    }

    private static NetworkRef Ref(in NonnullNetwork net) => new(net.Name, new Guid(net.Uuid, bigEndian: true));
}
