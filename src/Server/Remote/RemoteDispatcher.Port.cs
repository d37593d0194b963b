using VirtNetworkd.NetworkDriver.Driver;
using VirtNetworkd.Errors;
using VirtNetworkd.Protocol.Framing;
using VirtNetworkd.Protocol.Programs;
using VirtNetworkd.Protocol.Remote;
using VirtNetworkd.Protocol.Xdr;
using VirtNetworkd.Server.Rpc;

namespace VirtNetworkd.Server.Remote;

/// <summary>
/// The network port procedures. Lookups, XML and parameters run inline; create, delete and
/// set-parameters write the port's status file and run on the worker pool.
/// </summary>
public sealed partial class RemoteDispatcher
{
    private const int NetworkPortListMax = 16384; // REMOTE_NETWORK_PORT_LIST_MAX
    private const int TypedParamFieldLength = 80; // VIR_TYPED_PARAM_FIELD_LENGTH

    private void AddPortRows(DispatchTable<RemoteSession> t)
    {
        t.Inline((int)Procedure.NetworkListAllPorts, (IRpcClient c, RemoteSession s, PacketHeader h, in NetworkListAllPortsArgs a) =>
        {
            var ports = Networks.ListAllPorts(Ref(a.Network), a.Flags);
            if (ports.Count > NetworkPortListMax)
                throw RpcErrors.Internal($"Too many network_ports '{ports.Count}' for limit '{NetworkPortListMax}'");
            var wire = a.NeedResults != 0 ? ports.Select(Wire).ToArray() : [];
            c.Reply(h, new NetworkListAllPortsRet { Ports = wire, Ret = (uint)ports.Count });
        });
        t.Inline((int)Procedure.NetworkPortLookupByUuid, (IRpcClient c, RemoteSession s, PacketHeader h, in NetworkPortLookupByUuidArgs a) =>
            c.Reply(h, new NetworkPortLookupByUuidRet { Port = Wire(Networks.LookupPort(Ref(a.Network), new Guid(a.Uuid, bigEndian: true))) }));
        t.Inline((int)Procedure.NetworkPortGetXmlDesc, (IRpcClient c, RemoteSession s, PacketHeader h, in NetworkPortGetXmlDescArgs a) =>
            c.Reply(h, new NetworkPortGetXmlDescRet { Xml = Networks.GetPortXmlDesc(PortRef(a.Port), a.Flags) }));
        t.Inline((int)Procedure.NetworkPortGetParameters, (IRpcClient c, RemoteSession s, PacketHeader h, in NetworkPortGetParametersArgs a) =>
        {
            var ps = Networks.GetPortParameters(PortRef(a.Port), a.Flags);
            var wire = ps.Select(p => new TypedParam { Field = p.Field, Value = new TypedParamValue { Type = TypedParamType.UInt, Ui = p.Value } }).ToArray();
            // as libvirt's dispatcher, which never fills in ret.nparams
            c.Reply(h, new NetworkPortGetParametersRet { Params = wire, Nparams = 0 });
        });

        // these write the port's status file: the worker pool
        t.Worker((int)Procedure.NetworkPortCreateXml, (IRpcClient c, RemoteSession s, PacketHeader h, in NetworkPortCreateXmlArgs a) =>
            c.Reply(h, new NetworkPortCreateXmlRet { Port = Wire(Networks.CreatePort(Ref(a.Network), a.Xml, a.Flags)) }, flush: true));
        t.Worker((int)Procedure.NetworkPortDelete, (IRpcClient c, RemoteSession s, PacketHeader h, in NetworkPortDeleteArgs a) =>
        {
            Networks.DeletePort(PortRef(a.Port), a.Flags);
            c.Reply(h, new XdrVoid(), flush: true);
        });
        t.Worker((int)Procedure.NetworkPortSetParameters, (IRpcClient c, RemoteSession s, PacketHeader h, in NetworkPortSetParametersArgs a) =>
        {
            Networks.SetPortParameters(PortRef(a.Port), PortParameters(a.Params), a.Flags);
            c.Reply(h, new XdrVoid(), flush: true);
        });
    }

    /// <summary>
    /// virTypedParamsDeserialize, then the driver's read of value.ui: whatever the type, the low
    /// 32 bits of the value are taken (as reading that member of libvirt's union does).
    /// </summary>
    private static PortParameter[] PortParameters(TypedParam[] wire)
    {
        var result = new PortParameter[wire.Length];
        for (int i = 0; i < wire.Length; i++)
        {
            TypedParam p = wire[i];
            if (p.Field.Length >= TypedParamFieldLength)
                throw new LibvirtError(VirErrorCode.InternalError, VirErrorDomain.None, $"Parameter {p.Field} too big for destination");
            uint value = p.Value.Type switch
            {
                TypedParamType.Int => (uint)p.Value.I,
                TypedParamType.UInt => p.Value.Ui,
                TypedParamType.LLong => (uint)p.Value.L,
                TypedParamType.ULLong => (uint)p.Value.Ul,
                TypedParamType.Double => (uint)BitConverter.DoubleToInt64Bits(p.Value.D),
                TypedParamType.Boolean => (byte)p.Value.B,
                TypedParamType.String => 0,
                _ => throw new LibvirtError(VirErrorCode.Rpc, VirErrorDomain.None, $"unknown parameter type: {p.Value.Type}"),
            };
            result[i] = new PortParameter(p.Field, value);
        }
        return result;
    }

    private static NonnullNetworkPort Wire(NetworkPortRef port)
    {
        var uuid = new byte[16];
        port.Uuid.TryWriteBytes(uuid, bigEndian: true, out _);
        return new NonnullNetworkPort { Net = Wire(port.Network), Uuid = uuid };
    }

    private static NetworkPortRef PortRef(in NonnullNetworkPort port) => new(Ref(port.Net), new Guid(port.Uuid, bigEndian: true));
}
