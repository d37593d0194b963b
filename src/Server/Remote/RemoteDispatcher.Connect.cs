using VirtNetworkd.NetworkDriver;
using VirtNetworkd.Errors;
using VirtNetworkd.Protocol.Framing;
using VirtNetworkd.Protocol.Remote;
using VirtNetworkd.Protocol.Xdr;
using VirtNetworkd.Server.Rpc;

namespace VirtNetworkd.Server.Remote;

/// <summary>The connect and auth procedures.</summary>
public sealed partial class RemoteDispatcher
{
    /// <summary>libvirt's virDrvFeature numbers (src/libvirt_internal.h).</summary>
    private static class Feature
    {
        public const int Remote = 2, FdPassing = 8, TypedParamString = 9, ProgramKeepalive = 10,
            RemoteEventCallback = 14, RemoteCloseCallback = 15, NetworkUpdateHasCorrectOrder = 16;
    }

    private const uint ConnectReadOnly = 1; // VIR_CONNECT_RO

    private static readonly string[] IdentityParams =
    [
        "user-name", "unix-user-id", "group-name", "unix-group-id", "process-id", "process-time",
        "sasl-user-name", "x509-distinguished-name", "selinux-context", "system.token",
    ];

    private static readonly int[] IdentityParamTypes =
        [TypedParamType.String, TypedParamType.ULLong, TypedParamType.String, TypedParamType.ULLong, TypedParamType.LLong,
         TypedParamType.ULLong, TypedParamType.String, TypedParamType.String, TypedParamType.String, TypedParamType.String];

    private bool DispatchConnect(IRpcClient client, RemoteSession session, in PacketHeader h, ReadOnlySpan<byte> body)
    {
        switch ((Procedure)h.Procedure)
        {
            case Procedure.AuthList:
                NoArgs(body);
                // libvirt lets root past polkit without asking it
                if (client.Auth == ListenerAuth.Polkit && client.Peer.Uid == 0) client.MarkAuthenticated();
                client.Reply(h, new AuthListRet { Types = client.IsAuthenticated ? AuthNone : AuthPolkit });
                return true;
            case Procedure.AuthPolkit:
                NoArgs(body);
                AuthenticateWithPolkit(client);
                client.Reply(h, new AuthPolkitRet { Complete = 1 });
                return true;
            case Procedure.AuthSaslInit:
            case Procedure.AuthSaslStart:
            case Procedure.AuthSaslStep:
                // SASL is never offered on local sockets
                throw new LibvirtError(VirErrorCode.AuthFailed, VirErrorDomain.Rpc, "authentication failed");
            case Procedure.ConnectOpen:
                Open(session, Args<ConnectOpenArgs>(body));
                client.Reply(h, new XdrVoid());
                return true;
            case Procedure.ConnectClose:
                NoArgs(body);
                client.Reply(h, new XdrVoid());
                client.CloseAfterReplies();
                return true;
            case Procedure.ConnectSupportsFeature:
                client.Reply(h, new ConnectSupportsFeatureRet { Supported = SupportsFeature(client, session, Args<ConnectSupportsFeatureArgs>(body).Feature) });
                return true;
            case Procedure.ConnectGetUri:
                NoArgs(body);
                RequireOpen(session);
                client.Reply(h, new ConnectGetUriRet { Uri = session.Uri! });
                return true;
            case Procedure.ConnectGetType:
                NoArgs(body);
                RequireOpen(session);
                client.Reply(h, new ConnectGetTypeRet { Type = "network" });
                return true;
            case Procedure.ConnectGetLibVersion:
                NoArgs(body);
                RequireOpen(session);
                client.Reply(h, new ConnectGetLibVersionRet { LibVer = DriverInfo.LibVersion });
                return true;
            case Procedure.ConnectIsSecure:
                NoArgs(body);
                RequireOpen(session);
                client.Reply(h, new ConnectIsSecureRet { Secure = 1 });
                return true;
            case Procedure.ConnectRegisterCloseCallback:
                NoArgs(body);
                RequireOpen(session);
                session.CloseCallbackRegistered = true;
                client.Reply(h, new XdrVoid());
                return true;
            case Procedure.ConnectUnregisterCloseCallback:
                NoArgs(body);
                RequireOpen(session);
                session.CloseCallbackRegistered = false;
                client.Reply(h, new XdrVoid());
                return true;
            case Procedure.ConnectSetIdentity:
                SetIdentity(client, session, Args<ConnectSetIdentityArgs>(body));
                client.Reply(h, new XdrVoid());
                return true;
            default:
                return false;
        }
    }

    private static readonly AuthType[] AuthNone = [AuthType.None];
    private static readonly AuthType[] AuthPolkit = [AuthType.Polkit];

    /// <summary>
    /// AUTH_POLKIT. Without a polkit authority to ask yet we apply libvirt's default policy:
    /// root, and anyone on the read-only socket (org.libvirt.unix.monitor allows all), pass.
    /// </summary>
    private static void AuthenticateWithPolkit(IRpcClient client)
    {
        if (client.Auth != ListenerAuth.Polkit)
        {
            client.Log.Error($"client {client.Id} tried invalid PolicyKit init request");
            throw new LibvirtError(VirErrorCode.AuthFailed, VirErrorDomain.Rpc, "authentication failed");
        }
        if (client.IsAuthenticated) return;
        if (client.Peer.Uid == 0 || client.IsReadOnlySocket)
        {
            client.MarkAuthenticated();
            return;
        }
        client.Log.Error($"client {client.Id} (uid {client.Peer.Uid}): polkit authorization is not available, refusing");
        throw new LibvirtError(VirErrorCode.AuthFailed, VirErrorDomain.Rpc, "authentication failed");
    }

    private void Open(RemoteSession session, in ConnectOpenArgs args)
    {
        if (session.Opened) throw RpcErrors.Internal("connection already open");
        // libvirt's modular daemons do not probe: a client must name the URI
        string name = args.Name ?? throw RpcErrors.Internal("connection not open");
        if (!ConnectUri.TryParse(name, out var uri))
            throw new LibvirtError(VirErrorCode.InternalError, VirErrorDomain.Uri, $"Unable to parse URI {name}");
        if (uri.Scheme is null)
            throw new LibvirtError(VirErrorCode.NoConnect, VirErrorDomain.None, $"URI '{name}' does not include a driver name");
        // the network driver is local only and takes only its own scheme
        if (uri.Scheme != "network" || uri.Server is not null)
            throw new LibvirtError(VirErrorCode.NoConnect, VirErrorDomain.None, name);
        string expected = _context.Privileged ? "/system" : "/session";
        if (uri.Path != expected)
            throw new LibvirtError(VirErrorCode.InternalError, VirErrorDomain.None, $"unexpected network URI path '{uri.Path}', try network://{expected}");
        session.Opened = true;
        session.ReadOnly |= (args.Flags & ConnectReadOnly) != 0;
        session.Uri = name;
    }

    private int SupportsFeature(IRpcClient client, RemoteSession session, int feature)
    {
        // asked before CONNECT_OPEN, so answered without a connection
        if (feature == Feature.ProgramKeepalive)
        {
            client.StartKeepalive(_context.KeepaliveInterval, _context.KeepaliveCount);
            return 1;
        }
        RequireOpen(session);
        return feature switch
        {
            Feature.FdPassing or Feature.RemoteEventCallback or Feature.RemoteCloseCallback => 1,
            // features every driver reports (virDriverFeatureIsGlobal)
            Feature.TypedParamString or Feature.NetworkUpdateHasCorrectOrder => 1,
            // the client's remote driver answers "remote" itself; a driver says no
            _ => 0,
        };
    }

    private static void SetIdentity(IRpcClient client, RemoteSession session, in ConnectSetIdentityArgs args)
    {
        RequireOpen(session);
        // setting an identity needs connect:write: a read-only client must not impersonate anyone
        Table.TryGet((int)Procedure.ConnectSetIdentity, out var info);
        RequireWritable(session, info, "virConnectSetIdentity");
        if (args.Flags != 0)
            throw LibvirtError.InvalidArg(VirErrorDomain.Rpc, $"unsupported flags (0x{args.Flags:x}) in function remoteDispatchConnectSetIdentity",
                "remoteDispatchConnectSetIdentity", "flags");
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var p in args.Params)
        {
            int i = Array.IndexOf(IdentityParams, p.Field);
            if (i < 0)
                throw new LibvirtError(VirErrorCode.ArgumentUnsupported, VirErrorDomain.None, $"parameter '{p.Field}' not supported");
            if (p.Value.Type != IdentityParamTypes[i])
                throw new LibvirtError(VirErrorCode.InvalidArg, VirErrorDomain.None,
                    $"invalid type '{TypedParamType.Name(p.Value.Type)}' for parameter '{p.Field}', expected '{TypedParamType.Name(IdentityParamTypes[i])}'");
            if (!seen.Add(p.Field))
                throw new LibvirtError(VirErrorCode.InvalidArg, VirErrorDomain.None, $"parameter '{p.Field}' occurs multiple times");
        }
        client.Log.Debug($"client {client.Id}: identity set ({args.Params.Length} parameters)");
        session.Identity = args.Params;
    }
}
