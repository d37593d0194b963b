using VirtNetworkd.Errors;
using VirtNetworkd.Protocol.Admin;
using VirtNetworkd.Protocol.Framing;
using VirtNetworkd.Server.Host;
using VirtNetworkd.Server.Rpc;

namespace VirtNetworkd.Server.Admin;

/// <summary>
/// The admin program (0x06900690 v1) on the admin socket, as libvirt 9.0–10.8 serve it
/// (procedures 1–19): the daemon's servers, their worker pools, clients and client limits, the
/// logging outputs and filters, and the idle timeout. Like libvirt, no call needs CONNECT_OPEN
/// first, and only a client running as the daemon's user is served. Cheap calls run on the event
/// loop; those that read files or open log outputs run on the admin server's own workers, so the
/// main socket's load never holds them up.
/// </summary>
public sealed partial class AdminDispatcher : IProgramDispatcher
{
    private readonly DispatchTable<AdminSession> _dispatch;
    private readonly uint _euid;
    private AdminContext? _context;

    public AdminDispatcher() : this(LibC.GetEUid())
    {
    }

    /// <param name="euid">The only uid served (libvirt's remoteAdmClientNew checks geteuid()).</param>
    public AdminDispatcher(uint euid)
    {
        _euid = euid;
        _dispatch = new DispatchTable<AdminSession>(AdminProgram.Procedures, defaultCheck: null);
        AddConnectRows(_dispatch);
        AddServerRows(_dispatch);
        AddClientRows(_dispatch);
        AddLoggingRows(_dispatch);
    }

    /// <summary>Gives the dispatcher the daemon it administers (made after the dispatchers).</summary>
    public void Attach(AdminContext context) => _context = context;

    public uint Program => AdminProgram.Number;
    public uint Version => AdminProgram.Version;

    /// <summary>The procedures served and how (tests).</summary>
    public DispatchTable<AdminSession> Rows => _dispatch;

    public bool IsKnownProcedure(int procedure) => AdminProgram.Procedures.TryGet(procedure, out _);

    // the admin socket has no authentication of its own: its file mode (0700) and the uid check
    public bool NeedsAuth(int procedure) => true;

    public void Dispatch(IRpcClient client, in PacketHeader header, ReadOnlySpan<byte> body)
    {
        if (client.ProgramState is not AdminSession session)
        {
            if (client.Peer.Uid != _euid)
            {
                // remoteAdmClientNew: the client is refused and its connection closed
                client.Log.Error($"Disallowing client {client.Peer.Pid} with uid {client.Peer.Uid}");
                client.Abort();
                return;
            }
            session = new AdminSession();
            client.ProgramState = session;
        }
        if (_dispatch.TryDispatch(client, session, header, body)) return;
        AdminProgram.Procedures.TryGet(header.Procedure, out var info);
        throw new LibvirtError(VirErrorCode.NoSupport, VirErrorDomain.Admin, info.ApiName ?? info.Name);
    }

    public void OnClientClosed(IRpcClient client)
    {
    }

    private AdminContext Context => _context ?? throw RpcErrors.Internal("the admin program is not attached to a daemon", VirErrorDomain.Admin);

    /// <summary>virNetDaemonGetServer: "No server named 'x'".</summary>
    private NetServer Server(string name) =>
        Context.Server.FindServer(name) ?? throw new LibvirtError(VirErrorCode.NoServer, VirErrorDomain.Rpc, $"No server named '{name}'");

    /// <summary>The same lookup in the hand-written dispatchers, which replace the error with their own.</summary>
    private NetServer ServerOrNoMatch(string name) =>
        Context.Server.FindServer(name) ?? throw new LibvirtError(VirErrorCode.NoServer, VirErrorDomain.Admin, $"no server with matching name '{name}' found");

    /// <summary>virNetServerGetClient: "No client with matching ID 'n'".</summary>
    private static RpcSession Client(NetServer server, ulong id) =>
        id <= long.MaxValue && server.TryGetClient((long)id, out var c)
            ? c
            : throw new LibvirtError(VirErrorCode.NoClient, VirErrorDomain.Rpc, $"No client with matching ID '{id}'");

    private static NonnullServer Wire(NetServer server) => new() { Name = server.Name };

    /// <summary>make_nonnull_client: id, connection time, transport (always VIR_CLIENT_TRANS_UNIX).</summary>
    private static NonnullClient Wire(NetServer server, RpcSession client) =>
        new() { Srv = Wire(server), Id = (ulong)client.Id, Timestamp = client.ConnectedAt, Transport = 0 };
}
