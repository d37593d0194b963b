using System.Globalization;
using VirtNetworkd.Protocol.Admin;
using VirtNetworkd.Server.Remote;
using VirtNetworkd.Server.Rpc;
using RemoteParam = VirtNetworkd.Protocol.Remote.TypedParam;

namespace VirtNetworkd.Server.Admin;

/// <summary>
/// What virAdmClientGetInfo reports of a client, as libvirt's adminClientGetInfo builds it from
/// the client's identity: the one forwarded with CONNECT_SET_IDENTITY if any, else the one read
/// from the socket (SO_PEERCRED, with the user and group names). A Unix socket client is local:
/// no sock_addr nor x509 name, but its Unix ids; each key only when the identity has it.
/// </summary>
internal static class AdminClientInfo
{
    /// <summary>An identity's attributes, libvirt's virIdentity names.</summary>
    private sealed record Identity(string? UserName, long? UserId, string? GroupName, long? GroupId, long? ProcessId,
        string? SaslUserName, string? SelinuxContext);

    public static TypedParam[] Of(IRpcClient client)
    {
        var identity = (client.ProgramState as RemoteSession)?.Identity is { } forwarded
            ? FromForwarded(forwarded)
            : FromSocket(client.Peer);
        bool readOnly = client.ProgramState is RemoteSession s ? s.ReadOnly : client.IsReadOnlySocket;

        var list = new List<TypedParam> { AdminParams.OfBool("readonly", readOnly) };
        if (identity.SaslUserName is { } sasl) list.Add(AdminParams.OfString("sasl_user_name", sasl));
        if (identity.UserId is { } uid) list.Add(AdminParams.OfInt("unix_user_id", unchecked((int)uid)));
        if (identity.UserName is { } user) list.Add(AdminParams.OfString("unix_user_name", user));
        if (identity.GroupId is { } gid) list.Add(AdminParams.OfInt("unix_group_id", unchecked((int)gid)));
        if (identity.GroupName is { } group) list.Add(AdminParams.OfString("unix_group_name", group));
        if (identity.ProcessId is { } pid) list.Add(AdminParams.OfInt("unix_process_id", unchecked((int)pid)));
        if (identity.SelinuxContext is { } context) list.Add(AdminParams.OfString("selinux_context", context));
        return [.. list];
    }

    /// <summary>virNetServerClientCreateIdentity for a Unix socket peer (no SELinux label: we do not ask for one).</summary>
    private static Identity FromSocket(PeerCredentials peer)
    {
        bool known = peer.Uid != uint.MaxValue;
        return new Identity(
            known ? NameOf("/etc/passwd", peer.Uid) : null, known ? peer.Uid : null,
            known ? NameOf("/etc/group", peer.Gid) : null, known ? peer.Gid : null,
            peer.Pid > 0 ? peer.Pid : null, null, null);
    }

    /// <summary>virIdentitySetParameters' keys, as the remote program stored them.</summary>
    private static Identity FromForwarded(RemoteParam[] ps)
    {
        string? Str(string key) => ps.FirstOrDefault(p => p.Field == key) is { Field: not null } p ? p.Value.S : null;
        long? ULong(string key) => ps.FirstOrDefault(p => p.Field == key) is { Field: not null } p ? unchecked((long)p.Value.Ul) : null;
        long? Long(string key) => ps.FirstOrDefault(p => p.Field == key) is { Field: not null } p ? p.Value.L : null;
        return new Identity(Str("user-name"), ULong("unix-user-id"), Str("group-name"), ULong("unix-group-id"),
            Long("process-id"), Str("sasl-user-name"), Str("selinux-context"));
    }

    /// <summary>The name of an id in a passwd-format file (name:x:id:...), or null.</summary>
    private static string? NameOf(string file, uint id)
    {
        try
        {
            string wanted = id.ToString(CultureInfo.InvariantCulture);
            foreach (var line in File.ReadLines(file))
            {
                var parts = line.Split(':');
                if (parts.Length >= 3 && parts[2] == wanted) return parts[0];
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
        return null;
    }
}
