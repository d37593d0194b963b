using VirtNetworkd.NetworkDriver.Xml;

namespace VirtNetworkd.NetworkDriver.Driver;

public sealed partial class NetworkDriver
{
    /// <summary>The network hook scripts; null runs none (tests, and a daemon without a hooks folder).</summary>
    public NetworkHooks? Hooks { get; set; }

    /// <summary>Warnings of the driver (a network tainted by a hook); the daemon logs them.</summary>
    public Action<string>? Warn { get; set; }

    /// <summary>
    /// networkRunHook: the scripts get the network's current definition (and the port's), and a
    /// network a script ran for is tainted "hook" (kept in its status file). Throws the hook
    /// error; callers that ignore it, as libvirt does for stopped and port-deleted, catch it.
    /// </summary>
    private void RunHook(NetworkObj obj, NetworkHookOp op, bool end = false, NetworkPortDef? port = null)
    {
        if (Hooks is not { Present: true } hooks) return;
        string input = NetworkHooks.HookData(NetworkXml.Format(obj.Def), port is null ? null : NetworkPortXml.Format(port));
        if (hooks.Run(obj.Name, op, end, input) && !obj.Taints.Contains("hook"))
        {
            obj.Taints.Add("hook");
            Warn?.Invoke($"Network name='{obj.Name}' uuid={Xml.Net.VirUuid.Format(obj.Uuid)} is tainted: hook");
        }
    }

    /// <summary>A hook whose failure libvirt ignores (stopped, port-deleted): logged only.</summary>
    private void RunHookIgnoringFailure(NetworkObj obj, NetworkHookOp op, bool end = false, NetworkPortDef? port = null)
    {
        try { RunHook(obj, op, end, port); }
        catch (VirtNetworkd.Errors.LibvirtError e) { Warn?.Invoke($"network '{obj.Name}': {e.Message}"); }
    }
}
