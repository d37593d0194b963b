using System.Text;

namespace VirtNetworkd.NetworkDriver.Backend.Dnsmasq;

/// <summary>
/// Where libvirt keeps a network's dnsmasq files: NAME.conf, NAME.hostsfile and NAME.addnhosts
/// in the dnsmasq state folder (/var/lib/libvirt/dnsmasq), BRIDGE.macs beside them, and the pid
/// file NAME.pid in the network pid folder (/run/libvirt/network).
/// </summary>
public sealed record DnsmasqPaths(string StateDir, string PidDir)
{
    public const string DefaultStateDir = "/var/lib/libvirt/dnsmasq";
    public const string DefaultPidDir = "/run/libvirt/network";

    /// <summary>networkDnsmasqConfigFileName: the name as it is.</summary>
    public string ConfigFile(string networkName) => StateDir + "/" + networkName + ".conf";

    /// <summary>hostsfileNew: the name goes through virBufferEscapeString (XML escapes, control characters dropped).</summary>
    public string HostsFile(string networkName) => StateDir + "/" + XmlEscape(networkName) + ".hostsfile";

    /// <summary>addnhostsNew: as <see cref="HostsFile"/>.</summary>
    public string AddnHostsFile(string networkName) => StateDir + "/" + XmlEscape(networkName) + ".addnhosts";

    /// <summary>virMacMapFileName.</summary>
    public string MacMapFile(string bridge) => StateDir + "/" + bridge + ".macs";

    /// <summary>virPidFileBuildPath.</summary>
    public string PidFile(string networkName) => PidDir + "/" + networkName + ".pid";

    /// <summary>virBufferEscapeString's escaping.</summary>
    public static string XmlEscape(string s)
    {
        ArgumentNullException.ThrowIfNull(s);
        var sb = new StringBuilder(s.Length);
        foreach (char c in s)
        {
            switch (c)
            {
                case '<': sb.Append("&lt;"); break;
                case '>': sb.Append("&gt;"); break;
                case '&': sb.Append("&amp;"); break;
                case '"': sb.Append("&quot;"); break;
                case '\'': sb.Append("&apos;"); break;
                case < (char)0x20 when c is not ('\t' or '\n' or '\r'): break;
                default: sb.Append(c); break;
            }
        }
        return sb.ToString();
    }
}
