using VirtNetworkd.Errors;
using VirtNetworkd.NetworkDriver.Backend;
using VirtNetworkd.NetworkDriver.Xml;

namespace VirtNetworkd.NetworkDriver.Driver;

public sealed partial class NetworkDriver
{
    /// <summary>Serialises <see cref="Load"/> and <see cref="Reload"/> with each other (not with other calls: those take the network locks as usual).</summary>
    private readonly Lock _loadLock = new();

    /// <summary>Files that could not be loaded during the last <see cref="Load"/> / <see cref="Reload"/>, with the reason (libvirt logs and skips them).</summary>
    public IReadOnlyList<(string File, string Error)> LoadErrors { get; private set; } = [];

    /// <summary>Temporary files of interrupted writes that the last <see cref="Load"/> removed.</summary>
    public int StaleTempsRemoved { get; private set; }

    /// <summary>
    /// A backend reported a fault on a running network (raised on the backend's thread, outside
    /// every driver lock, before the driver acts on it). For the daemon to log.
    /// </summary>
    public event EventHandler<BackendFaultEventArgs>? BackendFault;

    /// <summary>
    /// networkStateInitialize: status files (networks that were running), then config files
    /// and autostart links; each network the status files call running is reconciled with the
    /// host (the backend re-applies what is missing, or says it is gone: then it is inactive),
    /// inactive transient leftovers are dropped, then autostart networks are started. Like
    /// libvirt at startup, raises no events.
    /// </summary>
    public void Load()
    {
        lock (_loadLock)
        {
            var errors = new List<(string, string)>();
            StaleTempsRemoved = Store.RemoveStaleTemps();
            LoadAllState(errors);
            LoadAllConfigs(errors);
            ReconcileAll(errors, atStartup: true);
            if (ShouldAutostart()) Autostart(errors);
            LoadErrors = errors;
        }
    }

    /// <summary>
    /// virDriverShouldAutostart: autostart networks are started by the first daemon start after
    /// the host booted, not by every restart (a network stopped on purpose stays stopped). The
    /// mark is <c>STATEDIR/autostarted</c>, in /run, which a boot empties.
    /// </summary>
    private bool ShouldAutostart()
    {
        string mark = Path.Combine(Store.StateDir, "autostarted");
        if (File.Exists(mark)) return false;
        Directory.CreateDirectory(Store.StateDir);
        using (new FileStream(mark, FileMode.OpenOrCreate, FileAccess.Write, FileShare.ReadWrite, 1, FileOptions.None)) { }
        if (OperatingSystem.IsLinux()) File.SetUnixFileMode(mark, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        return true;
    }

    /// <summary>
    /// networkStateReload (SIGHUP): re-reads the config files and autostart links, reconciles
    /// the running networks with the host (a network found gone raises its Stopped event), then
    /// autostarts.
    /// </summary>
    public void Reload()
    {
        lock (_loadLock)
        {
            var errors = new List<(string, string)>();
            LoadAllConfigs(errors);
            ReconcileAll(errors, atStartup: false);
            Autostart(errors);
            LoadErrors = errors;
        }
    }

    private void LoadAllState(List<(string, string)> errors)
    {
        foreach (string name in NetworkStore.XmlNames(Store.StateDir))
        {
            try
            {
                NetworkStatus st = Store.LoadStatus(name);
                (NetworkObj obj, _, _) = AssignDef(st.Def, live: true, checkLive: false);
                try
                {
                    obj.ClassIds = ClassIdMap.Parse(st.ClassIdBitmap) ?? ClassIdMap.Default();
                    obj.FloorSum = st.FloorSum;
                    obj.Taints.Clear();
                    obj.Taints.AddRange(st.Taints);
                    obj.Record = st.Record;
                    obj.State = NetworkState.Active;
                    PublishCommitted(obj);
                }
                finally { obj.Gate.Exit(); }
            }
            catch (Exception e) when (e is LibvirtError or IOException or UnauthorizedAccessException)
            {
                errors.Add((Store.StatusFile(name), e.Message));
            }
        }
    }

    private void LoadAllConfigs(List<(string, string)> errors)
    {
        foreach (string name in NetworkStore.XmlNames(Store.ConfigDir))
        {
            try
            {
                NetworkDef def = Store.LoadConfig(name);
                (NetworkObj obj, bool created, Saved? before) = AssignDef(def, live: false, checkLive: false);
                try
                {
                    if (IsL3(def) && def.Mac is null)
                    {
                        SetBridgeMac(def);
                        try { Store.SaveConfig(def); }
                        catch
                        {
                            UndoAssignDef(obj, created, before);
                            throw;
                        }
                    }
                    obj.Autostart = Store.IsAutostart(name);
                    PublishCommitted(obj);
                }
                finally { obj.Gate.Exit(); }
            }
            catch (Exception e) when (e is LibvirtError or IOException or UnauthorizedAccessException)
            {
                errors.Add((Store.ConfigFile(name), e.Message));
            }
        }
    }

    /// <summary>Every network, as the maps hold them now (a copy: callers take network locks while walking it).</summary>
    private NetworkObj[] AllObjects()
    {
        lock (_lock) return [.. _byName.Values.OrderBy(o => o.Name, StringComparer.Ordinal)];
    }

    /// <summary>
    /// networkUpdateState / networkReloadFirewallRules + networkRefreshDaemons: each network that
    /// is active is reconciled with the host; at startup its ports are counted again and inactive
    /// transient networks (stale state) are dropped; then (beyond libvirt) the tc tree of its
    /// &lt;bandwidth&gt; and of its ports' floors is put back where someone removed it.
    /// </summary>
    private void ReconcileAll(List<(string, string)> errors, bool atStartup)
    {
        foreach (NetworkObj obj in AllObjects())
        {
            QueuedEvent? ev = null;
            obj.Gate.Enter();
            try
            {
                if (obj.Removed) continue;
                if (obj.Active)
                {
                    if (ReconcileLocked(obj, errors))
                    {
                        if (atStartup) ReloadPorts(obj, errors);
                        ReconcileBandwidth(obj, errors);
                        Publish(obj);
                        continue;
                    }
                    if (!atStartup) ev = Queue(obj, NetworkLifecycleEvent.Stopped);
                }
                if (!obj.Active && !obj.Persistent) Remove(obj);
            }
            finally { obj.Gate.Exit(); }
            RaiseQueued(ev);
        }
    }

    /// <summary>
    /// Asks the backend whether an active network still runs (it repairs what it can); keeps
    /// the record it returns. A network that is gone becomes inactive, its status file removed,
    /// and is published (or removed, if transient). Returns whether it still runs.
    /// </summary>
    private bool ReconcileLocked(NetworkObj obj, List<(string, string)>? errors)
    {
        BackendRecord record = obj.Record ?? BackendRecord.Empty;
        ReconcileResult result;
        try
        {
            result = _backend.Reconcile(obj.Def, record);
        }
        catch (LibvirtError e)
        {
            // a failed repair leaves the network running as it is; the error is reported
            errors?.Add((Store.StatusFile(obj.Name), e.Message));
            return true;
        }
        if (result.Running)
        {
            if (result.Record != record)
            {
                obj.Record = result.Record;
                try { SaveStatusOrThrow(obj); }
                catch (LibvirtError e) { errors?.Add((Store.StatusFile(obj.Name), e.Message)); }
            }
            return true;
        }
        // gone from the host: shut it down fully, what is left of it too (its firewall rules)
        _backend.Stop(obj.Def, record);
        try { Store.DeleteStatus(obj.Name); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        SetInactive(obj);
        PublishStopped(obj);
        return false;
    }

    private void Autostart(List<(string, string)> errors)
    {
        foreach (NetworkObj obj in AllObjects())
        {
            obj.Gate.Enter();
            try
            {
                if (obj.Removed || !obj.Autostart || obj.Active) continue;
                try
                {
                    StartNetwork(obj);
                }
                catch (LibvirtError e)
                {
                    errors.Add((Store.ConfigFile(obj.Name), e.Message));
                }
                Publish(obj);
            }
            finally { obj.Gate.Exit(); }
        }
    }

    /// <summary>
    /// A backend's fault report: passed on to <see cref="BackendFault"/>, then acted on. A network
    /// the backend calls gone is stopped (what is left of it removed, using its record); otherwise
    /// the backend is asked to repair it, and if it cannot, it is stopped the same way. Either
    /// stop raises the Stopped event.
    /// </summary>
    private void OnBackendFault(object? sender, BackendFaultEventArgs fault)
    {
        Dispatch(BackendFault, fault);
        NetworkObj obj;
        try { obj = Enter(new NetworkRef(fault.Network, fault.Uuid)); }
        catch (LibvirtError) { return; } // undefined meanwhile
        QueuedEvent? ev = null;
        try
        {
            if (!obj.Active) return; // stopped meanwhile: the fault is about a run that is over
            if (fault.NetworkGone)
            {
                obj.State = NetworkState.Stopping;
                Publish(obj);
                try { Store.DeleteStatus(obj.Name); } catch (IOException) { } catch (UnauthorizedAccessException) { }
                _backend.Stop(obj.Def, obj.Record ?? BackendRecord.Empty);
                SetInactive(obj);
                PublishStopped(obj);
                ev = Queue(obj, NetworkLifecycleEvent.Stopped);
            }
            else if (!ReconcileLocked(obj, null))
            {
                ev = Queue(obj, NetworkLifecycleEvent.Stopped);
            }
            else
            {
                Publish(obj);
            }
        }
        finally { obj.Gate.Exit(); }
        RaiseQueued(ev);
    }
}
