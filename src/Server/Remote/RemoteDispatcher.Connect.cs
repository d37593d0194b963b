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

    /// <summary>The connect and auth procedures: each checks what it needs itself (most may be
    /// called before CONNECT_OPEN).</summary>
    private void AddConnectRows(DispatchTable<RemoteSession> t)
    {
        t.Inline((int)Procedure.AuthList, (IRpcClient c, RemoteSession s, PacketHeader h, in XdrVoid _) =>
        {
            // libvirt lets root past polkit without asking it
            if (c.Auth == ListenerAuth.Polkit && c.Peer.Uid == 0) c.MarkAuthenticated();
            c.Reply(h, new AuthListRet { Types = c.IsAuthenticated ? AuthNone : AuthPolkit });
        }, check: false);
        t.Inline((int)Procedure.AuthPolkit, (IRpcClient c, RemoteSession s, PacketHeader h, in XdrVoid _) =>
        {
            AuthenticateWithPolkit(c);
            c.Reply(h, new AuthPolkitRet { Complete = 1 });
        }, check: false);
        // SASL is never offered on local sockets
        t.Raw((int)Procedure.AuthSaslInit, (c, s, h, body) => throw SaslRefused());
        t.Raw((int)Procedure.AuthSaslStart, (c, s, h, body) => throw SaslRefused());
        t.Raw((int)Procedure.AuthSaslStep, (c, s, h, body) => throw SaslRefused());
        t.Inline((int)Procedure.ConnectOpen, (IRpcClient c, RemoteSession s, PacketHeader h, in ConnectOpenArgs a) =>
        {
            Open(s, a);
            c.Reply(h, new XdrVoid());
        }, check: false);
        t.Inline((int)Procedure.ConnectClose, (IRpcClient c, RemoteSession s, PacketHeader h, in XdrVoid _) =>
        {
            c.Reply(h, new XdrVoid());
            c.CloseAfterReplies();
        }, check: false);
        t.Inline((int)Procedure.ConnectSupportsFeature, (IRpcClient c, RemoteSession s, PacketHeader h, in ConnectSupportsFeatureArgs a) =>
            c.Reply(h, new ConnectSupportsFeatureRet { Supported = SupportsFeature(c, s, a.Feature) }), check: false);
        t.Inline((int)Procedure.ConnectGetUri, (IRpcClient c, RemoteSession s, PacketHeader h, in XdrVoid _) =>
        {
            RequireOpen(s);
            c.Reply(h, new ConnectGetUriRet { Uri = s.Uri! });
        }, check: false);
        t.Inline((int)Procedure.ConnectGetType, (IRpcClient c, RemoteSession s, PacketHeader h, in XdrVoid _) =>
        {
            RequireOpen(s);
            c.Reply(h, new ConnectGetTypeRet { Type = "network" });
        }, check: false);
        t.Inline((int)Procedure.ConnectGetLibVersion, (IRpcClient c, RemoteSession s, PacketHeader h, in XdrVoid _) =>
        {
            RequireOpen(s);
            c.Reply(h, new ConnectGetLibVersionRet { LibVer = DriverInfo.LibVersion });
        }, check: false);
        t.Inline((int)Procedure.ConnectIsSecure, (IRpcClient c, RemoteSession s, PacketHeader h, in XdrVoid _) =>
        {
            RequireOpen(s);
            c.Reply(h, new ConnectIsSecureRet { Secure = 1 });
        }, check: false);
        t.Inline((int)Procedure.ConnectRegisterCloseCallback, (IRpcClient c, RemoteSession s, PacketHeader h, in XdrVoid _) =>
        {
            RequireOpen(s);
            s.CloseCallbackRegistered = true;
            c.Reply(h, new XdrVoid());
        }, check: false);
        t.Inline((int)Procedure.ConnectUnregisterCloseCallback, (IRpcClient c, RemoteSession s, PacketHeader h, in XdrVoid _) =>
        {
            RequireOpen(s);
            s.CloseCallbackRegistered = false;
            c.Reply(h, new XdrVoid());
        }, check: false);
        t.Inline((int)Procedure.ConnectSetIdentity, (IRpcClient c, RemoteSession s, PacketHeader h, in ConnectSetIdentityArgs a) =>
        {
            SetIdentity(c, s, a);
            c.Reply(h, new XdrVoid());
        }, check: false, keepsArgs: true);
    }

    private static LibvirtError SaslRefused() => new(VirErrorCode.AuthFailed, VirErrorDomain.Rpc, "authentication failed");

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
