using VirtNetworkd.Errors;
using VirtNetworkd.NetworkDriver.Xml;

namespace VirtNetworkd.NetworkDriver.Driver;

public sealed partial class NetworkDriver
{
    /// <summary>Files that could not be loaded during the last <see cref="Load"/> / <see cref="Reload"/>, with the reason (libvirt logs and skips them).</summary>
    public IReadOnlyList<(string File, string Error)> LoadErrors { get; private set; } = [];

    /// <summary>Temporary files of interrupted writes that the last <see cref="Load"/> removed.</summary>
    public int StaleTempsRemoved { get; private set; }

    /// <summary>
    /// networkStateInitialize: status files (networks that were running), then config files
    /// and autostart links; networks whose host side is gone become inactive, inactive
    /// transient leftovers are dropped, then autostart networks are started.
    /// </summary>
    public void Load()
    {
        lock (_lock)
        {
            _generation++;
            var errors = new List<(string, string)>();
            StaleTempsRemoved = Store.RemoveStaleTemps();
            LoadAllState(errors);
            LoadAllConfigs(errors);
            foreach (NetworkObj obj in _byName.Values.ToArray())
            {
                if (!obj.Active) continue;
                if (_backend.IsRunning(obj.Def))
                {
                    ReloadPorts(obj, errors);
                    continue;
                }
                // stale state: the network did not survive
                try { Store.DeleteStatus(obj.Name); } catch (IOException) { }
                obj.Active = false;
                obj.UnsetDefTransient();
            }
            foreach (NetworkObj obj in _byName.Values.Where(o => !o.Active && !o.Persistent).ToArray())
                Remove(obj);
            Autostart(errors);
            LoadErrors = errors;
        }
    }

    /// <summary>networkStateReload (SIGHUP): re-reads the config files and autostart links, then autostarts.</summary>
    public void Reload()
    {
        lock (_lock)
        {
            _generation++;
            var errors = new List<(string, string)>();
            LoadAllConfigs(errors);
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
                (NetworkObj obj, _) = AssignDef(st.Def, live: true, checkLive: false);
                obj.ClassIds = ClassIdMap.Parse(st.ClassIdBitmap) ?? ClassIdMap.Default();
                obj.FloorSum = st.FloorSum;
                obj.Taints.Clear();
                obj.Taints.AddRange(st.Taints);
                obj.Active = true;
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
                if (IsL3(def) && def.Mac is null)
                {
                    SetBridgeMac(def);
                    Store.SaveConfig(def);
                }
                (NetworkObj obj, _) = AssignDef(def, live: false, checkLive: false);
                obj.Autostart = Store.IsAutostart(name);
            }
            catch (Exception e) when (e is LibvirtError or IOException or UnauthorizedAccessException)
            {
                errors.Add((Store.ConfigFile(name), e.Message));
            }
        }
    }

    private void Autostart(List<(string, string)> errors)
    {
        foreach (NetworkObj obj in _byName.Values.Where(o => o.Autostart && !o.Active).OrderBy(o => o.Name, StringComparer.Ordinal).ToArray())
        {
            try
            {
                StartNetwork(obj);
            }
            catch (LibvirtError e)
            {
                errors.Add((Store.ConfigFile(obj.Name), e.Message));
            }
        }
    }
}
