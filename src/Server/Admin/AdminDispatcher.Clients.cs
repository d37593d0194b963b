using VirtNetworkd.Errors;
using VirtNetworkd.Protocol.Admin;
using VirtNetworkd.Protocol.Framing;
using VirtNetworkd.Protocol.Xdr;
using VirtNetworkd.Server.Rpc;

namespace VirtNetworkd.Server.Admin;

/// <summary>A server's clients: list, lookup, information, forced close.</summary>
public sealed partial class AdminDispatcher
{
    private void AddClientRows(DispatchTable<AdminSession> t)
    {
        t.Inline((int)Procedure.ServerListClients, (IRpcClient c, AdminSession s, PacketHeader h, in ServerListClientsArgs a) =>
        {
            var server = Server(a.Srv.Name);
            AdminParams.CheckNoFlags(a.Flags, "adminServerListClients");
            // in the order they connected, as libvirt keeps them
            var clients = server.Clients.OrderBy(x => x.Id).ToArray();
            c.Reply(h, new ServerListClientsRet
            {
                Clients = a.NeedResults != 0 ? [.. clients.Select(x => Wire(server, x))] : [],
                Ret = (uint)clients.Length,
            });
        });
        t.Inline((int)Procedure.ServerLookupClient, (IRpcClient c, AdminSession s, PacketHeader h, in ServerLookupClientArgs a) =>
        {
            var server = Server(a.Srv.Name);
            var client = Client(server, a.Id);
            AdminParams.CheckNoFlags(a.Flags, "adminServerLookupClient");
            c.Reply(h, new ServerLookupClientRet { Clnt = Wire(server, client) });
        });
        // the user and group names come from /etc/passwd and /etc/group: on a worker
        t.Worker((int)Procedure.ClientGetInfo, (IRpcClient c, AdminSession s, PacketHeader h, in ClientGetInfoArgs a) =>
        {
            var server = ServerOrNoMatch(a.Clnt.Srv.Name);
            if (a.Clnt.Id > long.MaxValue || !server.TryGetClient((long)a.Clnt.Id, out var client))
                throw new LibvirtError(VirErrorCode.NoClient, VirErrorDomain.Admin, $"no client with matching id '{a.Clnt.Id}' found");
            AdminParams.CheckNoFlags(a.Flags, "adminClientGetInfo");
            c.Reply(h, new ClientGetInfoRet { Params = AdminClientInfo.Of(client) }, flush: true);
        });
        t.Inline((int)Procedure.ClientClose, (IRpcClient c, AdminSession s, PacketHeader h, in ClientCloseArgs a) =>
        {
            var server = Server(a.Clnt.Srv.Name);
            var client = Client(server, a.Clnt.Id);
            AdminParams.CheckNoFlags(a.Flags, "adminClientClose");
            // virNetServerClientClose: the connection goes now; a call of its still running on a
            // worker finishes, and its reply is dropped
            c.Log.Info($"closing client {client.Id} of server {server.Name} (pid {client.Peer.Pid}) on request of client {c.Id}");
            client.Abort();
            c.Reply(h, new XdrVoid());
        });
    }
}
