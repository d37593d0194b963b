using VirtNetworkd.Errors;
using VirtNetworkd.NetworkDriver.Backend;
using VirtNetworkd.NetworkDriver.Xml;
using VirtNetworkd.NetworkDriver.Xml.Update;

namespace VirtNetworkd.NetworkDriver.Driver;

public sealed partial class NetworkDriver
{
    public const uint AffectCurrent = 0, AffectLive = 1, AffectConfig = 2;
    public const int MetadataDescription = 0, MetadataTitle = 1, MetadataElement = 2;

    /// <summary>virNetworkObjUpdateModificationImpact + virNetworkObjConfigChangeSetup.</summary>
    private static uint ModificationImpact(NetworkObj obj, uint flags)
    {
        flags = ModificationImpact(obj.Active, obj.Persistent, flags);
        if ((flags & AffectConfig) != 0) obj.SetDefTransient();
        return flags;
    }

    /// <summary>virNetworkObjUpdateModificationImpact: CURRENT resolved, and the checks.</summary>
    private static uint ModificationImpact(bool active, bool persistent, uint flags)
    {
        if ((flags & (AffectLive | AffectConfig)) == AffectCurrent)
            flags |= active ? AffectLive : AffectConfig;
        if (!active && (flags & AffectLive) != 0)
            throw Err(VirErrorCode.OperationInvalid, "network is not running");
        if ((flags & AffectConfig) != 0 && !persistent)
            throw Err(VirErrorCode.OperationInvalid, "cannot change persistent config of a transient network");
        return flags;
    }

    /// <summary>
    /// networkUpdate: flags 0 current, 1 live, 2 config. A live change of a running network goes
    /// to the backend (which makes dnsmasq and the firewall follow) before the status file.
    /// </summary>
    public void Update(NetworkRef net, int command, int section, int parentIndex, string xml, uint flags)
    {
        ArgumentNullException.ThrowIfNull(xml);
        CheckFlags(flags, AffectLive | AffectConfig, "networkUpdate");
        NetworkObj obj = Enter(net);
        try
        {
            flags = ModificationImpact(obj, flags);
            NetworkDef? live = null, config = null;
            if ((flags & AffectLive) != 0)
                live = NetworkUpdate.ApplyToCopy(obj.Def, command, section, parentIndex, xml, flags, NetworkFormatFlags.None);
            if ((flags & AffectConfig) != 0)
                config = NetworkUpdate.ApplyToCopy(obj.PersistentDef, command, section, parentIndex, xml, flags, NetworkFormatFlags.Inactive);

            if (config is not null)
            {
                Io(() => Store.SaveConfig(config), $"cannot write config file '{Store.ConfigFile(obj.Name)}'");
                if (obj.Active) obj.NewDef = config; else obj.Def = config;
            }
            if (live is not null)
            {
                obj.Record = _backend.UpdateLive(obj.Def, live, obj.Record ?? BackendRecord.Empty, section, command);
                SaveStatusOrThrow(obj, live);
                obj.Def = live;
            }
            RunHook(obj, NetworkHookOp.Updated);
        }
        finally
        {
            Publish(obj); // also after a failure: what changed before it (the config) is visible
            obj.Gate.Exit();
        }
    }

    /// <summary>virNetworkGetMetadata + virNetworkObjGetMetadata.</summary>
    public string GetMetadata(NetworkRef net, int type, string? uri, uint flags)
    {
        if ((flags & AffectLive) != 0 && (flags & AffectConfig) != 0)
            throw LibvirtError.InvalidArg(VirErrorDomain.Network, "Flags 'VIR_NETWORK_UPDATE_AFFECT_LIVE' and 'VIR_NETWORK_UPDATE_AFFECT_CONFIG' are mutually exclusive", "virNetworkGetMetadata", "ctl");
        if (type is MetadataTitle or MetadataDescription && uri is not null)
            throw LibvirtError.InvalidArg(VirErrorDomain.Network, "uri in virNetworkGetMetadata must be NULL", "virNetworkGetMetadata", "uri");
        if (type == MetadataElement && uri is null)
            throw LibvirtError.InvalidArg(VirErrorDomain.Network, "uri in virNetworkGetMetadata must not be NULL", "virNetworkGetMetadata", "uri");
        NetworkView view = View(net);
        // networkGetMetadata leaves the flags to virNetworkObjGetMetadata: after the lookup
        CheckFlags(flags, AffectLive | AffectConfig, "virNetworkObjGetMetadata");
        if (type is < 0 or > MetadataElement)
            throw Err(VirErrorCode.InvalidArg, $"unknown metadata type '{type}'");
        flags = ModificationImpact(view.Active, view.Persistent, flags);
        NetworkDef def = view.Active && (flags & AffectConfig) != 0 ? view.PersistentDef : view.Def;
        string? ret = type switch
        {
            MetadataDescription => def.Description,
            MetadataTitle => def.Title,
            _ => NetworkMetadata.GetElementXml(def, uri!),
        };
        return ret ?? throw Err(VirErrorCode.NoNetworkMetadata, "Requested metadata element is not present");
    }

    /// <summary>virNetworkSetMetadata + networkSetMetadata: saves status/config, then raises the metadata event.</summary>
    public void SetMetadata(NetworkRef net, int type, string? metadata, string? key, string? uri, uint flags)
    {
        switch (type)
        {
            case MetadataTitle or MetadataDescription:
                if (type == MetadataTitle && metadata is not null && metadata.Contains('\n'))
                    throw LibvirtError.InvalidArg(VirErrorDomain.Network, "metadata title can't contain newlines", "virNetworkSetMetadata", "metadata");
                if (uri is not null) throw LibvirtError.InvalidArg(VirErrorDomain.Network, "uri in virNetworkSetMetadata must be NULL", "virNetworkSetMetadata", "uri");
                if (key is not null) throw LibvirtError.InvalidArg(VirErrorDomain.Network, "key in virNetworkSetMetadata must be NULL", "virNetworkSetMetadata", "key");
                break;
            case MetadataElement:
                if (uri is null) throw LibvirtError.InvalidArg(VirErrorDomain.Network, "uri in virNetworkSetMetadata must not be NULL", "virNetworkSetMetadata", "uri");
                if (metadata is not null && key is null)
                    throw LibvirtError.InvalidArg(VirErrorDomain.Network, "key in virNetworkSetMetadata must not be NULL", "virNetworkSetMetadata", "key");
                break;
        }
        CheckFlags(flags, AffectLive | AffectConfig, "networkSetMetadata");
        NetworkObj obj = Enter(net);
        QueuedEvent ev;
        try
        {
            if (type is < 0 or > MetadataElement)
                throw Err(VirErrorCode.InvalidArg, $"unknown metadata type '{type}'");
            flags = ModificationImpact(obj, flags);
            bool doLive = obj.Active && (flags & AffectLive) != 0;
            bool doConfig = obj.Active ? (flags & AffectConfig) != 0 : true;

            // build both new definitions first so that a bad element changes nothing
            NetworkDef? live = doLive ? WithMetadata(obj.Def, type, metadata, key, uri) : null;
            NetworkDef? config = doConfig ? WithMetadata(obj.PersistentDef, type, metadata, key, uri) : null;
            try
            {
                if (live is not null)
                {
                    SaveStatusOrThrow(obj, live);
                    obj.Def = live;
                }
                if (config is not null)
                {
                    Io(() => Store.SaveConfig(config), $"cannot write config file '{Store.ConfigFile(obj.Name)}'");
                    if (obj.Active) obj.NewDef = config; else obj.Def = config;
                }
            }
            finally { Publish(obj); }
            var args = new NetworkMetadataChangeEventArgs(Ref(obj), type, uri);
            ev = new QueuedEvent(_events.Take(), () => Dispatch(MetadataChange, args));
        }
        finally { obj.Gate.Exit(); }
        RaiseQueued(ev);
    }

    private static NetworkDef WithMetadata(NetworkDef src, int type, string? metadata, string? key, string? uri)
    {
        NetworkDef def = src.Clone();
        switch (type)
        {
            case MetadataDescription: def.Description = string.IsNullOrEmpty(metadata) ? null : metadata; break;
            case MetadataTitle: def.Title = string.IsNullOrEmpty(metadata) ? null : metadata; break;
            default: NetworkMetadata.SetElementXml(def, metadata, key, uri!); break;
        }
        return def;
    }
}
