using VirtNetworkd.Errors;
using VirtNetworkd.Protocol.Framing;
using VirtNetworkd.Protocol.Programs;
using VirtNetworkd.Protocol.Remote;
using VirtNetworkd.Protocol.Xdr;
using VirtNetworkd.Server.Rpc;

namespace VirtNetworkd.Server.Remote;

/// <summary>
/// The remote program (0x20008086 v1) as virtnetworkd serves it: every procedure number libvirt
/// 10.8 knows is accepted; those we implement go to their handler, the rest answer exactly as
/// libvirt's modular network daemon does (a connection-not-open error, the read-only refusal,
/// or "this function is not supported by the connection driver").
/// </summary>
public sealed partial class RemoteDispatcher : IProgramDispatcher
{
    private static readonly ProcedureTable Table = RemoteProgram.Procedures;
    private readonly RemoteContext _context;
    private readonly ProcedureFamily[] _families;
    private readonly DispatchTable<RemoteSession> _dispatch;

    public RemoteDispatcher(RemoteContext context)
    {
        _context = context;
        _families = new ProcedureFamily[Table.All.Max(p => p.Number) + 1];
        foreach (var p in Table.All) _families[p.Number] = ProcedureFamilies.Of(p);
        // network rows check that the connection is open and that a read-only client only reads
        _dispatch = new DispatchTable<RemoteSession>(Table, Ready);
        AddConnectRows(_dispatch);
        if (context.Networks is not null)
        {
            AddNetworkRows(_dispatch);
            AddPortRows(_dispatch);
        }
    }

    public uint Program => RemoteProgram.Number;
    public uint Version => RemoteProgram.Version;

    /// <summary>The procedures this dispatcher serves and how (tests).</summary>
    public DispatchTable<RemoteSession> Rows => _dispatch;

    /// <summary>Every call libvirt 10.8 dispatches; event numbers (messages the server sends) are not calls.</summary>
    public bool IsKnownProcedure(int procedure) => Table.TryGet(procedure, out var p) && p.ApiName is not null;

    public bool NeedsAuth(int procedure) => procedure is not ((int)Procedure.AuthList or (int)Procedure.AuthSaslInit
        or (int)Procedure.AuthSaslStart or (int)Procedure.AuthSaslStep or (int)Procedure.AuthPolkit);

    public void OnClientClosed(IRpcClient client) => _context.Events?.RemoveClient(client);

    private static RemoteSession Session(IRpcClient client)
    {
        if (client.ProgramState is RemoteSession s) return s;
        var session = new RemoteSession { ReadOnly = client.IsReadOnlySocket };
        client.ProgramState = session;
        return session;
    }

    public void Dispatch(IRpcClient client, in PacketHeader header, ReadOnlySpan<byte> body)
    {
        var session = Session(client);
        if (_dispatch.TryDispatch(client, session, header, body)) return;
        Table.TryGet(header.Procedure, out var info);
        NotServed(session, info);
    }

    /// <summary>Args decoded into a value kept per thread and type, as inline rows decode them (tests).</summary>
    internal static ref readonly T ScratchArgs<T>(ReadOnlySpan<byte> body) where T : struct, IXdrType<T> =>
        ref Rpc.ScratchArgs.Decode<T>(body);

    /// <summary>
    /// A procedure this daemon does not implement, answered as libvirt's dispatcher and public
    /// API answer it: the connection its family needs must be open, a read-only client may
    /// not call a writing API, and then the driver lacks it.
    /// </summary>
    private void NotServed(RemoteSession session, ProcedureInfo info)
    {
        switch (_families[info.Number])
        {
            case ProcedureFamily.Hypervisor:
                RequireOpen(session);
                break;
            case ProcedureFamily.Network:
                if (!session.Opened) throw RpcErrors.Internal("connection not open");
                break;
            default:
                // interface, nodedev, nwfilter, secret and storage connections never open here
                throw RpcErrors.Internal("connection not open");
        }
        string api = info.ApiName ?? info.Name;
        RequireWritable(session, info, api);
        throw new LibvirtError(VirErrorCode.NoSupport, ApiDomain(api), api);
    }

    private static void RequireOpen(RemoteSession session)
    {
        if (!session.Opened) throw RpcErrors.Internal("hypervisor connection not open");
    }

    /// <summary>libvirt's virCheckReadOnly: a read-only client may only call what needs read access.</summary>
    private static void RequireWritable(RemoteSession session, ProcedureInfo info, string api)
    {
        if (session.ReadOnly && !info.ReadOnly)
            throw new LibvirtError(VirErrorCode.OperationDenied, ApiDomain(api), $"read only access prevents {api}");
    }

    /// <summary>The error domain of a public API: the VIR_FROM_THIS of the file that defines it.</summary>
    public static VirErrorDomain ApiDomain(string api)
    {
        // virNetwork* and virConnect*Network* live in libvirt-network.c
        if (api.Contains("Network", StringComparison.Ordinal)) return VirErrorDomain.Network;
        if (api.StartsWith("virDomainSnapshot", StringComparison.Ordinal)) return VirErrorDomain.DomainSnapshot;
        if (api.StartsWith("virDomainCheckpoint", StringComparison.Ordinal)) return VirErrorDomain.DomainCheckpoint;
        if (api.StartsWith("virStream", StringComparison.Ordinal)) return VirErrorDomain.Streams;
        if (api.StartsWith("virConnectOpen", StringComparison.Ordinal) || api == "virConnectClose") return VirErrorDomain.None;
        return VirErrorDomain.Domain;
    }
}

/// <summary>What the remote handlers need from the daemon.</summary>
public sealed record RemoteContext(bool Privileged, int KeepaliveInterval, int KeepaliveCount,
    VirtNetworkd.NetworkDriver.Driver.NetworkDriver? Networks = null, NetworkEventHub? Events = null);
