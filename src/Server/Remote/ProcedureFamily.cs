using VirtNetworkd.Protocol.Programs;

namespace VirtNetworkd.Server.Remote;

/// <summary>
/// Which of a client's driver connections a remote procedure goes to, by libvirt's rules
/// (gendispatch.pl's get_conn_method): in virtnetworkd only the hypervisor connection (the
/// network driver's) and the network connection exist; the others are never open.
/// </summary>
public enum ProcedureFamily
{
    Hypervisor,
    Network,
    Interface,
    NodeDevice,
    NWFilter,
    Secret,
    Storage,
}

public static class ProcedureFamilies
{
    public static ProcedureFamily Of(ProcedureInfo procedure)
    {
        string n = procedure.Name.StartsWith("REMOTE_PROC_", StringComparison.Ordinal) ? procedure.Name["REMOTE_PROC_".Length..] : procedure.Name;
        if (n.StartsWith("INTERFACE_", StringComparison.Ordinal)) return ProcedureFamily.Interface;
        if (n.StartsWith("NETWORK_", StringComparison.Ordinal)) return ProcedureFamily.Network;
        if (n.StartsWith("NWFILTER_", StringComparison.Ordinal)) return ProcedureFamily.NWFilter;
        if (n.StartsWith("SECRET_", StringComparison.Ordinal)) return ProcedureFamily.Secret;
        if (n.StartsWith("STORAGE_", StringComparison.Ordinal)) return ProcedureFamily.Storage;
        if (n.StartsWith("CONNECT_", StringComparison.Ordinal))
        {
            if (n.Contains("INTERFACE", StringComparison.Ordinal)) return ProcedureFamily.Interface;
            if (n.Contains("NETWORK", StringComparison.Ordinal)) return ProcedureFamily.Network;
            if (n.Contains("NWFILTER", StringComparison.Ordinal)) return ProcedureFamily.NWFilter;
            if (n.Contains("SECRET", StringComparison.Ordinal)) return ProcedureFamily.Secret;
            if (n.Contains("STORAGE", StringComparison.Ordinal)) return ProcedureFamily.Storage;
        }
        // Node.*Device, except the few the hypervisor drivers handle
        int node = n.IndexOf("NODE", StringComparison.Ordinal);
        if (node >= 0 && n.IndexOf("DEVICE", node, StringComparison.Ordinal) > node
            && !n.StartsWith("NODE_DEVICE_RESET", StringComparison.Ordinal)
            && !n.StartsWith("NODE_DEVICE_RE_ATTACH", StringComparison.Ordinal)
            && !n.StartsWith("NODE_DEVICE_DETTACH", StringComparison.Ordinal)
            && !n.StartsWith("NODE_DEVICE_DETACH_FLAGS", StringComparison.Ordinal))
        {
            return ProcedureFamily.NodeDevice;
        }
        return ProcedureFamily.Hypervisor;
    }
}
