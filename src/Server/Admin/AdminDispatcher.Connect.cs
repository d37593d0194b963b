using VirtNetworkd.NetworkDriver;
using VirtNetworkd.Protocol.Admin;
using VirtNetworkd.Protocol.Framing;
using VirtNetworkd.Protocol.Xdr;
using VirtNetworkd.Server.Rpc;

namespace VirtNetworkd.Server.Admin;

/// <summary>The connection procedures and the daemon-wide ones: servers and the idle timeout.</summary>
public sealed partial class AdminDispatcher
{
    private void AddConnectRows(DispatchTable<AdminSession> t)
    {
        t.Inline((int)Procedure.ConnectOpen, (IRpcClient c, AdminSession s, PacketHeader h, in ConnectOpenArgs a) =>
        {
            AdminParams.CheckNoFlags(a.Flags, "adminDispatchConnectOpen");
            s.Opened = true;
            c.Reply(h, new XdrVoid());
        });
        t.Inline((int)Procedure.ConnectClose, (IRpcClient c, AdminSession s, PacketHeader h, in XdrVoid _) =>
        {
            // virNetServerClientDelayedClose: the reply goes out, then the connection closes
            c.Reply(h, new XdrVoid());
            c.CloseAfterReplies();
        });
        t.Inline((int)Procedure.ConnectGetLibVersion, (IRpcClient c, AdminSession s, PacketHeader h, in XdrVoid _) =>
            c.Reply(h, new ConnectGetLibVersionRet { LibVer = DriverInfo.LibVersion }));
        t.Inline((int)Procedure.ConnectListServers, (IRpcClient c, AdminSession s, PacketHeader h, in ConnectListServersArgs a) =>
        {
            AdminParams.CheckNoFlags(a.Flags, "adminConnectListServers");
            var servers = Context.Server.Servers;
            c.Reply(h, new ConnectListServersRet
            {
                Servers = a.NeedResults != 0 ? [.. servers.Select(Wire)] : [],
                Ret = (uint)servers.Count,
            });
        });
        t.Inline((int)Procedure.ConnectLookupServer, (IRpcClient c, AdminSession s, PacketHeader h, in ConnectLookupServerArgs a) =>
        {
            // adminConnectLookupServer checks its flags against themselves (virCheckFlags(flags, …)): any pass
            c.Reply(h, new ConnectLookupServerRet { Srv = Wire(Server(a.Name)) });
        });
        t.Inline((int)Procedure.ConnectSetDaemonTimeout, (IRpcClient c, AdminSession s, PacketHeader h, in ConnectSetDaemonTimeoutArgs a) =>
        {
            AdminParams.CheckNoFlags(a.Flags, "adminConnectSetDaemonTimeout");
            Context.Idle.SetTimeout(a.Timeout);
            c.Reply(h, new XdrVoid());
        });
    }
}
