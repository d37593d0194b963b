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

    // worker lambdas use this, not the local below: a captured local's closure would be
    // allocated on every call that reaches this method
    private VirtNetworkd.NetworkDriver.Driver.NetworkDriver Networks => _context.Networks!;

    private bool DispatchNetwork(IRpcClient client, RemoteSession session, in PacketHeader h, ReadOnlySpan<byte> body, ProcedureInfo info)
    {
        var driver = _context.Networks;
        if (driver is null) return false;
        switch ((Procedure)h.Procedure)
        {
            case Procedure.ConnectNumOfNetworks:
                NoArgs(body);
                Ready(session, info);
                client.Reply(h, new ConnectNumOfNetworksRet { Num = driver.NumOfNetworks() });
                return true;
            case Procedure.ConnectNumOfDefinedNetworks:
                NoArgs(body);
                Ready(session, info);
                client.Reply(h, new ConnectNumOfDefinedNetworksRet { Num = driver.NumOfDefined() });
                return true;
            case Procedure.ConnectListNetworks:
            {
                int max = Args<ConnectListNetworksArgs>(body).Maxnames;
                Ready(session, info);
                if (max > NetworkListMax) throw RpcErrors.Rpc("maxnames > REMOTE_NETWORK_LIST_MAX");
                client.Reply(h, new ConnectListNetworksRet { Names = [.. driver.ListNetworks(max)] });
                return true;
            }
            case Procedure.ConnectListDefinedNetworks:
            {
                int max = Args<ConnectListDefinedNetworksArgs>(body).Maxnames;
                Ready(session, info);
                if (max > NetworkListMax) throw RpcErrors.Rpc("maxnames > REMOTE_NETWORK_LIST_MAX");
                client.Reply(h, new ConnectListDefinedNetworksRet { Names = [.. driver.ListDefined(max)] });
                return true;
            }
            case Procedure.ConnectListAllNetworks:
            {
                var args = Args<ConnectListAllNetworksArgs>(body);
                Ready(session, info);
                bool need = args.NeedResults != 0;
                long generation = driver.Generation; // read first: the list below is at least this new
                if (_listAllReplies.TryGet(args.Flags, need, generation, out var cached))
                {
                    client.Reply(h, cached);
                    return true;
                }
                var all = driver.ListAll(args.Flags);
                if (all.Count > NetworkListMax)
                    throw RpcErrors.Internal($"Too many networks '{all.Count}' for limit '{NetworkListMax}'");
                var nets = need ? all.Select(Wire).ToArray() : [];
                var reply = EncodedBody.Of(new ConnectListAllNetworksRet { Nets = nets, Ret = (uint)all.Count });
                _listAllReplies.Set(args.Flags, need, generation, reply);
                client.Reply(h, reply);
                return true;
            }
            case Procedure.NetworkLookupByName:
            {
                var name = Args<NetworkLookupByNameArgs>(body).Name;
                Ready(session, info);
                client.Reply(h, new NetworkLookupByNameRet { Net = WireForReply(driver.LookupByName(name)) });
                return true;
            }
            case Procedure.NetworkLookupByUuid:
            {
                var uuid = new Guid(ScratchArgs<NetworkLookupByUuidArgs>(body).Uuid, bigEndian: true);
                Ready(session, info);
                client.Reply(h, new NetworkLookupByUuidRet { Net = WireForReply(driver.LookupByUuid(uuid)) });
                return true;
            }
            case Procedure.NetworkGetXmlDesc:
            {
                ref readonly var args = ref ScratchArgs<NetworkGetXmlDescArgs>(body);
                var net = Ref(args.Net);
                uint flags = args.Flags;
                Ready(session, info);
                client.Reply(h, _xmlReplies.For(driver.GetXmlDesc(net, flags)));
                return true;
            }
            case Procedure.NetworkGetBridgeName:
            {
                var net = Ref(ScratchArgs<NetworkGetBridgeNameArgs>(body).Net);
                Ready(session, info);
                client.Reply(h, new NetworkGetBridgeNameRet { Name = driver.GetBridgeName(net) });
                return true;
            }
            case Procedure.NetworkGetAutostart:
            {
                var net = Ref(ScratchArgs<NetworkGetAutostartArgs>(body).Net);
                Ready(session, info);
                client.Reply(h, new NetworkGetAutostartRet { Autostart = driver.GetAutostart(net) ? 1 : 0 });
                return true;
            }
            case Procedure.NetworkIsActive:
            {
                var net = Ref(ScratchArgs<NetworkIsActiveArgs>(body).Net);
                Ready(session, info);
                client.Reply(h, new NetworkIsActiveRet { Active = driver.IsActive(net) ? 1 : 0 });
                return true;
            }
            case Procedure.NetworkIsPersistent:
            {
                var net = Ref(ScratchArgs<NetworkIsPersistentArgs>(body).Net);
                Ready(session, info);
                client.Reply(h, new NetworkIsPersistentRet { Persistent = driver.IsPersistent(net) ? 1 : 0 });
                return true;
            }
            case Procedure.NetworkDefineXml:
            {
                var xml = Args<NetworkDefineXmlArgs>(body).Xml;
                Ready(session, info);
                client.RunOnWorker(h, info.HighPriority, (c, hh) => c.Reply(hh, new NetworkDefineXmlRet { Net = Wire(Networks.DefineXml(xml, 0)) }, flush: true));
                return true;
            }
            case Procedure.NetworkDefineXmlFlags:
            {
                var args = Args<NetworkDefineXmlFlagsArgs>(body);
                Ready(session, info);
                client.RunOnWorker(h, info.HighPriority, (c, hh) => c.Reply(hh, new NetworkDefineXmlFlagsRet { Net = Wire(Networks.DefineXml(args.Xml, args.Flags)) }, flush: true));
                return true;
            }
            case Procedure.NetworkCreateXml:
            {
                var xml = Args<NetworkCreateXmlArgs>(body).Xml;
                Ready(session, info);
                client.RunOnWorker(h, info.HighPriority, (c, hh) => c.Reply(hh, new NetworkCreateXmlRet { Net = Wire(Networks.CreateXml(xml, 0)) }, flush: true));
                return true;
            }
            case Procedure.NetworkCreateXmlFlags:
            {
                var args = Args<NetworkCreateXmlFlagsArgs>(body);
                Ready(session, info);
                client.RunOnWorker(h, info.HighPriority, (c, hh) => c.Reply(hh, new NetworkCreateXmlFlagsRet { Net = Wire(Networks.CreateXml(args.Xml, args.Flags)) }, flush: true));
                return true;
            }
            case Procedure.NetworkCreate:
            {
                var net = Ref(Args<NetworkCreateArgs>(body).Net);
                Ready(session, info);
                client.RunOnWorker(h, info.HighPriority, (c, hh) => { Networks.Create(net); c.Reply(hh, new XdrVoid(), flush: true); });
                return true;
            }
            case Procedure.NetworkDestroy:
            {
                var net = Ref(Args<NetworkDestroyArgs>(body).Net);
                Ready(session, info);
                client.RunOnWorker(h, info.HighPriority, (c, hh) => { Networks.Destroy(net); c.Reply(hh, new XdrVoid(), flush: true); });
                return true;
            }
            case Procedure.NetworkUndefine:
            {
                var net = Ref(Args<NetworkUndefineArgs>(body).Net);
                Ready(session, info);
                client.RunOnWorker(h, info.HighPriority, (c, hh) => { Networks.Undefine(net); c.Reply(hh, new XdrVoid(), flush: true); });
                return true;
            }
            case Procedure.NetworkSetAutostart:
            {
                var args = Args<NetworkSetAutostartArgs>(body);
                var net = Ref(args.Net);
                bool on = args.Autostart != 0;
                Ready(session, info);
                client.RunOnWorker(h, info.HighPriority, (c, hh) => { Networks.SetAutostart(net, on); c.Reply(hh, new XdrVoid(), flush: true); });
                return true;
            }
            case Procedure.NetworkUpdate:
            {
                var a = Args<NetworkUpdateArgs>(body);
                var net = Ref(a.Net);
                Ready(session, info);
                client.RunOnWorker(h, info.HighPriority, (c, hh) =>
                {
                    Networks.Update(net, (int)a.Command, (int)a.Section, a.ParentIndex, a.Xml, a.Flags);
                    c.Reply(hh, new XdrVoid(), flush: true);
                });
                return true;
            }
            case Procedure.NetworkSetMetadata:
            {
                var a = Args<NetworkSetMetadataArgs>(body);
                var net = Ref(a.Network);
                Ready(session, info);
                client.RunOnWorker(h, info.HighPriority, (c, hh) =>
                {
                    Networks.SetMetadata(net, a.Type, a.Metadata, a.Key, a.Uri, a.Flags);
                    c.Reply(hh, new XdrVoid(), flush: true);
                });
                return true;
            }
            case Procedure.NetworkGetMetadata:
            {
                var a = Args<NetworkGetMetadataArgs>(body);
                Ready(session, info);
                client.Reply(h, new NetworkGetMetadataRet { Metadata = driver.GetMetadata(Ref(a.Network), a.Type, a.Uri, a.Flags) });
                return true;
            }
            case Procedure.NetworkGetDhcpLeases:
            {
                var a = Args<NetworkGetDhcpLeasesArgs>(body);
                Ready(session, info);
                var leases = driver.GetDhcpLeases(Ref(a.Net), a.Mac, a.Flags);
                if (leases.Count > DhcpLeasesMax)
                    throw RpcErrors.Internal($"Number of leases is {leases.Count}, which exceeds max limit: {DhcpLeasesMax}");
                var wire = a.NeedResults != 0
                    ? leases.Select(l => new NetworkDhcpLease
                    {
                        Iface = l.Iface, Expirytime = l.ExpiryTime, Type = l.Type, Mac = l.Mac, Iaid = l.Iaid,
                        Ipaddr = l.IpAddr, Prefix = l.Prefix, Hostname = l.Hostname, Clientid = l.ClientId,
                    }).ToArray()
                    : [];
                client.Reply(h, new NetworkGetDhcpLeasesRet { Leases = wire, Ret = (uint)leases.Count });
                return true;
            }
            case Procedure.ConnectNetworkEventRegisterAny:
            {
                var a = Args<ConnectNetworkEventRegisterAnyArgs>(body);
                Ready(session, info);
                if (a.EventID < 0 || a.EventID >= NetworkEventHub.EventIdLast)
                    throw RpcErrors.Internal($"unsupported network event ID {a.EventID}"); // remoteDispatchConnectNetworkEventRegisterAny
                Guid? filter = a.Net is { } n ? Ref(n).Uuid : null;
                int id = _context.Events!.Register(client, a.EventID, filter);
                client.Reply(h, new ConnectNetworkEventRegisterAnyRet { CallbackID = id });
                return true;
            }
            case Procedure.ConnectNetworkEventDeregisterAny:
            {
                var a = Args<ConnectNetworkEventDeregisterAnyArgs>(body);
                Ready(session, info);
                if (!_context.Events!.Deregister(client, a.CallbackID))
                    throw RpcErrors.Internal($"network event callback {a.CallbackID} not registered");
                client.Reply(h, new XdrVoid());
                return true;
            }
            default:
                return false;
        }
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
