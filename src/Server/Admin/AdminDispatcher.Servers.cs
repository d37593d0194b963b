using VirtNetworkd.Errors;
using VirtNetworkd.Protocol.Admin;
using VirtNetworkd.Protocol.Framing;
using VirtNetworkd.Protocol.Xdr;
using VirtNetworkd.Server.Rpc;

namespace VirtNetworkd.Server.Admin;

/// <summary>A server's worker pool, client limits and TLS files.</summary>
public sealed partial class AdminDispatcher
{
    private const string MinWorkers = "minWorkers", MaxWorkers = "maxWorkers", Workers = "nWorkers",
        FreeWorkers = "freeWorkers", PrioWorkers = "prioWorkers", JobQueueDepth = "jobQueueDepth";

    private const string ClientsMax = "nclients_max", Clients = "nclients", UnauthMax = "nclients_unauth_max", Unauth = "nclients_unauth";

    private void AddServerRows(DispatchTable<AdminSession> t)
    {
        t.Inline((int)Procedure.ServerGetThreadpoolParameters, (IRpcClient c, AdminSession s, PacketHeader h, in ServerGetThreadpoolParametersArgs a) =>
        {
            var server = Server(a.Srv.Name);
            AdminParams.CheckNoFlags(a.Flags, "adminServerGetThreadPoolParameters");
            var st = server.Workers.Stats;
            c.Reply(h, new ServerGetThreadpoolParametersRet
            {
                Params =
                [
                    AdminParams.OfUInt(MinWorkers, st.MinWorkers), AdminParams.OfUInt(MaxWorkers, st.MaxWorkers),
                    AdminParams.OfUInt(Workers, st.Workers), AdminParams.OfUInt(FreeWorkers, st.FreeWorkers),
                    AdminParams.OfUInt(PrioWorkers, st.PrioWorkers), AdminParams.OfUInt(JobQueueDepth, st.JobQueueDepth),
                ],
            });
        });
        // starting threads is cheap, and stopping them is left to the threads themselves: inline
        t.Inline((int)Procedure.ServerSetThreadpoolParameters, (IRpcClient c, AdminSession s, PacketHeader h, in ServerSetThreadpoolParametersArgs a) =>
        {
            var server = ServerOrNoMatch(a.Srv.Name);
            AdminParams.CheckNoFlags(a.Flags, "adminServerSetThreadPoolParameters");
            AdminParams.Validate(a.Params, (MinWorkers, AdminParams.UInt), (MaxWorkers, AdminParams.UInt), (PrioWorkers, AdminParams.UInt));
            long min = AdminParams.UIntOrUnset(a.Params, MinWorkers);
            long max = AdminParams.UIntOrUnset(a.Params, MaxWorkers);
            long prio = AdminParams.UIntOrUnset(a.Params, PrioWorkers);
            server.Workers.SetParameters(min, max, prio);
            c.Log.Info($"server {server.Name}: worker pool set to min {min} max {max} prio {prio} (-1: unchanged)");
            c.Reply(h, new XdrVoid());
        });
        t.Inline((int)Procedure.ServerGetClientLimits, (IRpcClient c, AdminSession s, PacketHeader h, in ServerGetClientLimitsArgs a) =>
        {
            var server = Server(a.Srv.Name);
            AdminParams.CheckNoFlags(a.Flags, "adminServerGetClientLimits");
            var st = server.ClientStats;
            c.Reply(h, new ServerGetClientLimitsRet
            {
                Params =
                [
                    AdminParams.OfUInt(ClientsMax, st.MaxClients), AdminParams.OfUInt(Clients, st.Clients),
                    AdminParams.OfUInt(UnauthMax, st.MaxUnauthClients), AdminParams.OfUInt(Unauth, st.UnauthClients),
                ],
            });
        });
        t.Inline((int)Procedure.ServerSetClientLimits, (IRpcClient c, AdminSession s, PacketHeader h, in ServerSetClientLimitsArgs a) =>
        {
            var server = ServerOrNoMatch(a.Srv.Name);
            AdminParams.CheckNoFlags(a.Flags, "adminServerSetClientLimits");
            AdminParams.Validate(a.Params, (ClientsMax, AdminParams.UInt), (UnauthMax, AdminParams.UInt));
            // clients above a lowered limit stay; new ones wait until there is room again
            server.SetClientLimits(AdminParams.UIntOrUnset(a.Params, ClientsMax), AdminParams.UIntOrUnset(a.Params, UnauthMax));
            c.Reply(h, new XdrVoid());
        });
        t.Inline((int)Procedure.ServerUpdateTlsFiles, (IRpcClient c, AdminSession s, PacketHeader h, in ServerUpdateTlsFilesArgs a) =>
        {
            Server(a.Srv.Name);
            AdminParams.CheckNoFlags(a.Flags, "adminServerUpdateTlsFiles");
            // virNetServerUpdateTlsFiles on a server without a TLS service (we have none)
            throw RpcErrors.Internal("no tls service found, unable to update tls files");
        });
    }
}
