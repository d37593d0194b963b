using System.Text;

namespace VirtNetworkd.NetworkDriver.Xml.Net;

/// <summary>
/// Linux network device names (the kernel's dev_valid_name). libvirt leaves this check to the
/// kernel; the driver should use it before a name from XML reaches a command line, a
/// configuration file or a path.
/// </summary>
public static class NetDevName
{
    /// <summary>IFNAMSIZ: names are at most 15 bytes.</summary>
    public const int MaxLength = 15;

    public static bool IsValid(string? name)
    {
        if (string.IsNullOrEmpty(name) || name == "." || name == "..") return false;
        if (Encoding.UTF8.GetByteCount(name) > MaxLength) return false;
        foreach (char c in name)
        {
            if (c == '/' || c == ':' || c == '\0' || c is ' ' or '\t' or '\n' or '\v' or '\f' or '\r') return false;
        }
        return true;
    }
}
