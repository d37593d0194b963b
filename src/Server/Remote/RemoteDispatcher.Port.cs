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

    private bool DispatchPort(IRpcClient client, RemoteSession session, in PacketHeader h, ReadOnlySpan<byte> body, ProcedureInfo info)
    {
        // no local captured by the worker lambdas: a closure here would be allocated on every call
        if (_context.Networks is null) return false;
        switch ((Procedure)h.Procedure)
        {
            case Procedure.NetworkListAllPorts:
            {
                var a = Args<NetworkListAllPortsArgs>(body);
                Ready(session, info);
                var ports = Networks.ListAllPorts(Ref(a.Network), a.Flags);
                if (ports.Count > NetworkPortListMax)
                    throw RpcErrors.Internal($"Too many network_ports '{ports.Count}' for limit '{NetworkPortListMax}'");
                var wire = a.NeedResults != 0 ? ports.Select(Wire).ToArray() : [];
                client.Reply(h, new NetworkListAllPortsRet { Ports = wire, Ret = (uint)ports.Count });
                return true;
            }
            case Procedure.NetworkPortLookupByUuid:
            {
                var a = Args<NetworkPortLookupByUuidArgs>(body);
                Ready(session, info);
                var port = Networks.LookupPort(Ref(a.Network), new Guid(a.Uuid, bigEndian: true));
                client.Reply(h, new NetworkPortLookupByUuidRet { Port = Wire(port) });
                return true;
            }
            case Procedure.NetworkPortCreateXml:
            {
                var a = Args<NetworkPortCreateXmlArgs>(body);
                var net = Ref(a.Network);
                Ready(session, info);
                client.RunOnWorker(h, info.HighPriority, (c, hh) =>
                    c.Reply(hh, new NetworkPortCreateXmlRet { Port = Wire(Networks.CreatePort(net, a.Xml, a.Flags)) }, flush: true));
                return true;
            }
            case Procedure.NetworkPortGetXmlDesc:
            {
                var a = Args<NetworkPortGetXmlDescArgs>(body);
                Ready(session, info);
                client.Reply(h, new NetworkPortGetXmlDescRet { Xml = Networks.GetPortXmlDesc(PortRef(a.Port), a.Flags) });
                return true;
            }
            case Procedure.NetworkPortDelete:
            {
                var a = Args<NetworkPortDeleteArgs>(body);
                var port = PortRef(a.Port);
                Ready(session, info);
                client.RunOnWorker(h, info.HighPriority, (c, hh) => { Networks.DeletePort(port, a.Flags); c.Reply(hh, new XdrVoid(), flush: true); });
                return true;
            }
            case Procedure.NetworkPortGetParameters:
            {
                var a = Args<NetworkPortGetParametersArgs>(body);
                Ready(session, info);
                var ps = Networks.GetPortParameters(PortRef(a.Port), a.Flags);
                var wire = ps.Select(p => new TypedParam { Field = p.Field, Value = new TypedParamValue { Type = TypedParamType.UInt, Ui = p.Value } }).ToArray();
                // as libvirt's dispatcher, which never fills in ret.nparams
                client.Reply(h, new NetworkPortGetParametersRet { Params = wire, Nparams = 0 });
                return true;
            }
            case Procedure.NetworkPortSetParameters:
            {
                var a = Args<NetworkPortSetParametersArgs>(body);
                var port = PortRef(a.Port);
                Ready(session, info);
                var ps = PortParameters(a.Params);
                client.RunOnWorker(h, info.HighPriority, (c, hh) => { Networks.SetPortParameters(port, ps, a.Flags); c.Reply(hh, new XdrVoid(), flush: true); });
                return true;
            }
            default:
                return false;
        }
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
