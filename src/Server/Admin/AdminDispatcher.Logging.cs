using VirtNetworkd.Errors;
using VirtNetworkd.Protocol.Admin;
using VirtNetworkd.Protocol.Framing;
using VirtNetworkd.Protocol.Xdr;
using VirtNetworkd.Server.Host.Logging;
using VirtNetworkd.Server.Rpc;

namespace VirtNetworkd.Server.Admin;

/// <summary>The daemon's logging outputs and filters, read and replaced while it runs.</summary>
public sealed partial class AdminDispatcher
{
    /// <summary>The process's logging, unless the context gives another (the fuzzing harness).</summary>
    private LogRuntime Logging => _context?.Logging ?? LogRuntime.Daemon;

    private void AddLoggingRows(DispatchTable<AdminSession> t)
    {
        t.Inline((int)Procedure.ConnectGetLoggingOutputs, (IRpcClient c, AdminSession s, PacketHeader h, in ConnectGetLoggingOutputsArgs a) =>
        {
            AdminParams.CheckNoFlags(a.Flags, "adminConnectGetLoggingOutputs");
            string outputs = Logging.OutputsText(out int count);
            c.Reply(h, new ConnectGetLoggingOutputsRet { Outputs = outputs, Noutputs = (uint)count });
        });
        t.Inline((int)Procedure.ConnectGetLoggingFilters, (IRpcClient c, AdminSession s, PacketHeader h, in ConnectGetLoggingFiltersArgs a) =>
        {
            AdminParams.CheckNoFlags(a.Flags, "adminConnectGetLoggingFilters");
            string? filters = Logging.FiltersText(out int count);
            c.Reply(h, new ConnectGetLoggingFiltersRet { Filters = filters, Nfilters = (uint)count });
        });
        // opening a log file may block: on a worker (and so, the filters' change too, under the same lock)
        t.Worker((int)Procedure.ConnectSetLoggingOutputs, (IRpcClient c, AdminSession s, PacketHeader h, in ConnectSetLoggingOutputsArgs a) =>
        {
            AdminParams.CheckNoFlags(a.Flags, "adminConnectSetLoggingOutputs");
            string? outputs = a.Outputs;
            Apply(() => Logging.SetOutputs(outputs));
            c.Reply(h, new XdrVoid(), flush: true);
        });
        t.Worker((int)Procedure.ConnectSetLoggingFilters, (IRpcClient c, AdminSession s, PacketHeader h, in ConnectSetLoggingFiltersArgs a) =>
        {
            AdminParams.CheckNoFlags(a.Flags, "adminConnectSetLoggingFilters");
            string? filters = a.Filters;
            Apply(() => Logging.SetFilters(filters));
            c.Reply(h, new XdrVoid(), flush: true);
        });
    }

    /// <summary>A logging change, its errors as libvirt's virlog.c reports them (VIR_FROM_NONE).</summary>
    private static void Apply(Action change)
    {
        const string invalid = "invalid argument: ";
        try
        {
            change();
        }
        catch (LogConfigException e) when (e.Message.StartsWith(invalid, StringComparison.Ordinal))
        {
            throw new LibvirtError(VirErrorCode.InvalidArg, VirErrorDomain.None, e.Message[invalid.Length..]);
        }
        catch (LogConfigException e)
        {
            // an output that cannot be opened: virReportSystemError's "failed to open PATH: reason"
            throw new LibvirtError(VirErrorCode.SystemError, VirErrorDomain.None, e.Message);
        }
    }
}
