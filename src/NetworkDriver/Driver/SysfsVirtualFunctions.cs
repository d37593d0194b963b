using System.Globalization;
using VirtNetworkd.NetworkDriver.Xml;

namespace VirtNetworkd.NetworkDriver.Driver;

/// <summary>virNetDevGetVirtualFunctions from sysfs: /sys/class/net/PF/device/virtfnN links to each VF's PCI device.</summary>
public static class SysfsVirtualFunctions
{
    public static IReadOnlyList<VirtualFunction>? Read(string pfDev, string sysfsNet = "/sys/class/net")
    {
        ArgumentNullException.ThrowIfNull(pfDev);
        if (pfDev.Length == 0 || pfDev.Contains('/', StringComparison.Ordinal) || pfDev is "." or "..") return null;
        string device = Path.Combine(sysfsNet, pfDev, "device");
        if (!Directory.Exists(device)) return null;
        var vfs = new List<(int Index, VirtualFunction Vf)>();
        try
        {
            foreach (string link in Directory.EnumerateFileSystemEntries(device, "virtfn*"))
            {
                if (!int.TryParse(Path.GetFileName(link)["virtfn".Length..], NumberStyles.None, CultureInfo.InvariantCulture, out int index)) continue;
                string? target = new DirectoryInfo(link).LinkTarget;
                if (target is null || !TryParsePci(Path.GetFileName(target), out PciAddress addr)) continue;
                string net = Path.Combine(link, "net");
                string? ifname = Directory.Exists(net) ? Directory.EnumerateDirectories(net).Select(Path.GetFileName).FirstOrDefault() : null;
                vfs.Add((index, new VirtualFunction(addr, ifname)));
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
        return vfs.OrderBy(v => v.Index).Select(v => v.Vf).ToArray();
    }

    /// <summary>"0000:03:10.2" (domain:bus:slot.function, hex).</summary>
    public static bool TryParsePci(string s, out PciAddress addr)
    {
        addr = default;
        string[] p = s.Split(':');
        if (p.Length != 3) return false;
        string[] sf = p[2].Split('.');
        if (sf.Length != 2) return false;
        const NumberStyles Hex = NumberStyles.AllowHexSpecifier;
        if (!uint.TryParse(p[0], Hex, CultureInfo.InvariantCulture, out uint dom)
            || !uint.TryParse(p[1], Hex, CultureInfo.InvariantCulture, out uint bus)
            || !uint.TryParse(sf[0], Hex, CultureInfo.InvariantCulture, out uint slot)
            || !uint.TryParse(sf[1], Hex, CultureInfo.InvariantCulture, out uint fn)) return false;
        addr = new PciAddress(dom, bus, slot, fn);
        return true;
    }
}
