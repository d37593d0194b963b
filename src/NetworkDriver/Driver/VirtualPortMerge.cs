using VirtNetworkd.Errors;
using VirtNetworkd.NetworkDriver.Xml;
using VirtNetworkd.NetworkDriver.Xml.Net;

namespace VirtNetworkd.NetworkDriver.Driver;

/// <summary>virNetDevVPortProfileMerge3 and CheckComplete (util/virnetdevvportprofile.c).</summary>
internal static class VirtualPortMerge
{
    private static LibvirtError Err(string detail) => new(VirErrorCode.XmlError, VirErrorDomain.Net, detail);

    /// <summary>
    /// The interface's profile, completed from the network's and then the portgroup's: an attribute
    /// unset so far is taken, one set to another value is an error. Null when all three are empty.
    /// </summary>
    public static VirtualPortProfile? Merge3(VirtualPortProfile? iface, VirtualPortProfile? network, VirtualPortProfile? portgroup)
    {
        static bool Empty(VirtualPortProfile? p) => p is null || p.Type == VirtualPortType.None;
        if (Empty(iface) && Empty(network) && Empty(portgroup)) return null;
        VirtualPortProfile result = iface?.Clone() ?? new VirtualPortProfile();
        Merge(result, network);
        Merge(result, portgroup);
        return result;
    }

    private static void Merge(VirtualPortProfile orig, VirtualPortProfile? mods)
    {
        if (mods is null) return;
        VirtualPortType t = orig.Type;
        if (mods.Type != VirtualPortType.None)
        {
            if (t != VirtualPortType.None && t != mods.Type)
                throw Err($"attempt to merge virtualports with mismatched types ({t.ToXml()} and {mods.Type.ToXml()})");
            t = orig.Type = mods.Type;
        }
        bool qbg = t is VirtualPortType.Ieee8021Qbg or VirtualPortType.None;
        if (mods.ManagerId is { } m && qbg)
        {
            if (orig.ManagerId is { } o && o != m) throw Err($"attempt to merge virtualports with mismatched managerids ({o} and {m})");
            orig.ManagerId = m;
        }
        if (mods.TypeId is { } ti && qbg)
        {
            if (orig.TypeId is { } o && o != ti) throw Err($"attempt to merge virtualports with mismatched typeids ({o} and {ti})");
            orig.TypeId = ti;
        }
        if (mods.TypeIdVersion is { } v && qbg)
        {
            if (orig.TypeIdVersion is { } o && o != v) throw Err($"attempt to merge virtualports with mismatched typeidversions ({o} and {v})");
            orig.TypeIdVersion = v;
        }
        if (mods.InstanceId is { } inst && qbg)
        {
            if (orig.InstanceId is { } o && o != inst)
                throw Err($"attempt to merge virtualports with mismatched instanceids ('{VirUuid.Format(o)}' and '{VirUuid.Format(inst)}')");
            orig.InstanceId = inst;
        }
        if (mods.InterfaceId is { } ifid && t is VirtualPortType.OpenVSwitch or VirtualPortType.None)
        {
            if (orig.InterfaceId is { } o && o != ifid)
                throw Err($"attempt to merge virtualports with mismatched interfaceids ('{VirUuid.Format(o)}' and '{VirUuid.Format(ifid)}')");
            orig.InterfaceId = ifid;
        }
        if (mods.ProfileId.Length > 0 && t is VirtualPortType.OpenVSwitch or VirtualPortType.Ieee8021Qbh or VirtualPortType.None)
        {
            if (orig.ProfileId.Length > 0 && orig.ProfileId != mods.ProfileId)
                throw Err($"attempt to merge virtualports with mismatched profileids ('{orig.ProfileId}' and '{mods.ProfileId}')");
            orig.ProfileId = mods.ProfileId;
        }
    }

    /// <summary>virNetDevVPortProfileCheckComplete(generateMissing = true): random instance/interface ids are filled in.</summary>
    public static void CompleteOrThrow(VirtualPortProfile? vp)
    {
        if (vp is null || vp.Type == VirtualPortType.None) return;
        string? missing = null;
        switch (vp.Type)
        {
            case VirtualPortType.Ieee8021Qbg:
                if (vp.ManagerId is null) missing = "managerid";
                else if (vp.TypeId is null) missing = "typeid";
                else if (vp.TypeIdVersion is null) missing = "typeidversion";
                else vp.InstanceId ??= Guid.NewGuid();
                break;
            case VirtualPortType.Ieee8021Qbh:
                if (vp.ProfileId.Length == 0) missing = "profileid";
                break;
            case VirtualPortType.OpenVSwitch:
                vp.InterfaceId ??= Guid.NewGuid();
                break;
            case VirtualPortType.MidoNet:
                if (vp.InterfaceId is null) missing = "interfaceid";
                break;
        }
        if (missing is not null) throw Err($"missing {missing} in <virtualport type='{vp.Type.ToXml()}'>");
    }
}
