using System.Globalization;
using System.Text.RegularExpressions;
using VirtNetworkd.NetworkDriver.Xml;

namespace VirtNetworkd.NetworkDriver.Driver;

/// <summary>
/// virNetDevGetVirtualFunctions from sysfs (<paramref name="sysfsNet"/> stands for /sys/class/net,
/// so tests can give a tree of their own): PF/device/virtfn0, virtfn1, … until one is missing, each
/// a link to its VF's PCI device; the VF's netdev is the one under that device's net/ whose
/// phys_port_id is the PF's (when the PF has one), else the one whose phys_port_name looks like a
/// PF port's, else the first (virPCIGetNetName). A PF that does not exist has no VFs.
/// </summary>
public static partial class SysfsVirtualFunctions
{
    /// <summary>The VFs in index order; null when sysfs says something libvirt fails on (a link that is no PCI address, a VF with an empty net/).</summary>
    public static IReadOnlyList<VirtualFunction>? Read(string pfDev, string sysfsNet = "/sys/class/net")
    {
        ArgumentNullException.ThrowIfNull(pfDev);
        if (pfDev.Length == 0 || pfDev.Contains('/', StringComparison.Ordinal) || pfDev is "." or "..") return null;
        string device = Path.Combine(sysfsNet, pfDev, "device");
        var vfs = new List<VirtualFunction>();
        try
        {
            string totalVfs = Path.Combine(device, "sriov_totalvfs");
            if (File.Exists(totalVfs) && !ulong.TryParse(File.ReadAllText(totalVfs).TrimEnd('\n'), NumberStyles.None, CultureInfo.InvariantCulture, out _))
                return null;
            string? pfPortId = ReadAttribute(sysfsNet, pfDev, "phys_port_id");
            for (int index = 0; ; index++)
            {
                string link = Path.Combine(device, "virtfn" + index.ToString(CultureInfo.InvariantCulture));
                if (!Path.Exists(link)) break;
                string resolved = Path.GetFileName(Path.TrimEndingDirectorySeparator(ResolveLink(link)));
                if (!TryParsePci(resolved, out PciAddress addr)) return null;
                if (!TryNetName(sysfsNet, link, pfPortId, out string? ifname)) return null;
                vfs.Add(new VirtualFunction(addr, ifname));
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
        return vfs;
    }

    /// <summary>virPCIGetNetName with index 0; false for a net/ folder with nothing in it.</summary>
    private static bool TryNetName(string sysfsNet, string deviceLink, string? pfPortId, out string? ifname)
    {
        ifname = null;
        string net = Path.Combine(deviceLink, "net");
        if (!Directory.Exists(net)) return true; // not bound to a network driver: no netdev, no error
        string? first = null;
        foreach (string entry in Directory.EnumerateFileSystemEntries(net).Select(Path.GetFileName).OfType<string>())
        {
            first ??= entry;
            if (pfPortId is not null)
            {
                if (ReadAttribute(sysfsNet, entry, "phys_port_id") != pfPortId) continue;
            }
            else if (ReadAttribute(sysfsNet, entry, "phys_port_name") is { } portName)
            {
                if (!PfPortName().IsMatch(portName)) continue;
            }
            ifname = entry;
            return true;
        }
        ifname = first;
        return first is not null;
    }

    /// <summary>virNetDevGetSysfsFileValue: the file's text (libvirt keeps its newline), null when it cannot be read.</summary>
    private static string? ReadAttribute(string sysfsNet, string ifname, string file)
    {
        try { return File.ReadAllText(Path.Combine(sysfsNet, ifname, file)); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return null; }
    }

    private static string ResolveLink(string path) =>
        new FileInfo(path).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? Path.GetFullPath(path);

    [GeneratedRegex("(p[0-9]+$)|(p[0-9]+s[0-9]+$)")]
    private static partial Regex PfPortName();

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
