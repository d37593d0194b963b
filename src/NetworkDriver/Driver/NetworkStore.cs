using System.Globalization;
using System.Text;
using VirtNetworkd.Errors;
using VirtNetworkd.NetworkDriver.Backend;
using VirtNetworkd.NetworkDriver.Xml;
using VirtNetworkd.NetworkDriver.Xml.Dom;
using VirtNetworkd.NetworkDriver.Xml.Format;
using VirtNetworkd.NetworkDriver.Xml.Net;

namespace VirtNetworkd.NetworkDriver.Driver;

/// <summary>What a status file holds besides the definition: QoS bookkeeping, taints, and the backend's record of what it did.</summary>
public sealed record NetworkStatus(NetworkDef Def, string ClassIdBitmap, ulong FloorSum, IReadOnlyList<string> Taints, BackendRecord Record);

/// <summary>
/// The files libvirt keeps for networks: NAME.xml in the config directory, autostart links
/// in the autostart directory, and &lt;networkstatus&gt; files NAME.xml in the state directory.
/// Every write is atomic (<see cref="AtomicFile"/>).
/// </summary>
public sealed partial class NetworkStore
{
    private static readonly string[] TaintNames = ["hook-script"];

    public NetworkStore(string configDir, string autostartDir, string stateDir)
    {
        ConfigDir = configDir;
        AutostartDir = autostartDir;
        StateDir = stateDir;
    }

    public string ConfigDir { get; }
    public string AutostartDir { get; }
    public string StateDir { get; }

    public string ConfigFile(string name) => Path.Combine(ConfigDir, name + ".xml");
    public string AutostartLink(string name) => Path.Combine(AutostartDir, name + ".xml");
    public string StatusFile(string name) => Path.Combine(StateDir, name + ".xml");

    /// <summary>virXMLSaveFile's warning comment: names that are not shell-safe are replaced by the UUID.</summary>
    public static string ConfigText(NetworkDef def)
    {
        string who = IsShellSafe(def.Name) ? def.Name : VirUuid.Format(def.Uuid);
        return SavedText("net-edit", who, NetworkXml.Format(def, NetworkFormatFlags.Inactive));
    }

    /// <summary>virXMLSaveFile: the XML behind a comment naming the virsh command that changes it.</summary>
    private static string SavedText(string virshCommand, string who, string xml)
    {
        var sb = new StringBuilder();
        sb.Append("<!--\n");
        sb.Append("WARNING: THIS IS AN AUTO-GENERATED FILE. CHANGES TO IT ARE LIKELY TO BE\n");
        sb.Append("OVERWRITTEN AND LOST. Changes to this xml configuration should be made using:\n");
        sb.Append("  virsh ").Append(virshCommand).Append(' ').Append(who).Append('\n');
        sb.Append("or other application using the libvirt API.\n");
        sb.Append("-->\n\n");
        sb.Append(xml);
        return sb.ToString();
    }

    // virXMLPickShellSafeComment / virStringIsPrintable-style check: letters, digits and -_.+:@ only
    private static bool IsShellSafe(string s) =>
        s.Length > 0 && s[0] != '-' && s.All(c => c < 128 && (char.IsAsciiLetterOrDigit(c) || "-_.+:@".Contains(c)));

    /// <summary>
    /// virNetworkObjFormat behind virNetworkSaveXML's warning comment: the status file text,
    /// with the backend's record after the definition (the removal plan where libvirt puts it).
    /// </summary>
    public static string StatusText(NetworkDef def, string classIdBitmap, ulong floorSum, IEnumerable<string> taints, BackendRecord record)
    {
        ArgumentNullException.ThrowIfNull(def);
        ArgumentNullException.ThrowIfNull(taints);
        ArgumentNullException.ThrowIfNull(record);
        var buf = new XmlBuffer();
        buf.Add("<networkstatus>\n");
        buf.AdjustIndent(2);
        buf.Add($"<class_id bitmap='{classIdBitmap}'/>\n");
        buf.Add("<floor sum='" + floorSum.ToString(CultureInfo.InvariantCulture) + "'/>\n");
        foreach (string t in taints) buf.Add($"<taint flag='{t}'/>\n");
        NetworkDefFormatter.FormatBuf(buf, def, NetworkFormatFlags.None);
        buf.AdjustIndent(-2);
        buf.Add(BackendRecordXml.Format(record, 2));
        buf.Add("</networkstatus>");
        string who = IsShellSafe(def.Name) ? def.Name : VirUuid.Format(def.Uuid);
        return SavedText("net-edit", who, buf.ToString());
    }

    public void SaveConfig(NetworkDef def) => AtomicFile.Write(ConfigFile(def.Name), ConfigText(def));

    public void SaveStatus(NetworkDef def, string classIdBitmap, ulong floorSum, IEnumerable<string> taints, BackendRecord record) =>
        AtomicFile.Write(StatusFile(def.Name), StatusText(def, classIdBitmap, floorSum, taints, record));

    /// <summary>
    /// networkShutdownNetwork's unlink of the status file, without syncing the folder (as libvirt):
    /// a status file a power loss brings back names a network whose bridge is gone, which the
    /// start-up reconciliation marks inactive; the sync cost net-destroy up to a few ms.
    /// </summary>
    public void DeleteStatus(string name) => File.Delete(StatusFile(name));

    /// <summary>virNetworkObjDeleteConfig: the config file and the autostart link.</summary>
    public void DeleteConfig(string name)
    {
        AtomicFile.Delete(AutostartLink(name));
        AtomicFile.Delete(ConfigFile(name));
    }

    /// <summary>Creates the autostart link (pointing at the config file's absolute path, as libvirt does) or removes it.</summary>
    public void SetAutostart(string name, bool on)
    {
        string link = AutostartLink(name);
        if (on)
        {
            Directory.CreateDirectory(AutostartDir);
            if (IsAutostart(name)) return;
            AtomicFile.Delete(link);
            File.CreateSymbolicLink(link, Path.GetFullPath(ConfigFile(name)));
            AtomicFile.SyncDirectory(AutostartDir);
        }
        else
        {
            AtomicFile.Delete(link);
        }
    }

    /// <summary>virFileLinkPointsTo: the autostart link resolves to the config file.</summary>
    public bool IsAutostart(string name)
    {
        string link = AutostartLink(name);
        var info = new FileInfo(link);
        if (info.LinkTarget is null) return false;
        string target = info.LinkTarget;
        if (!Path.IsPathRooted(target)) target = Path.Combine(AutostartDir, target);
        try
        {
            return string.Equals(Path.GetFullPath(target), Path.GetFullPath(ConfigFile(name)), StringComparison.Ordinal)
                || ResolveSame(target, ConfigFile(name));
        }
        catch (IOException) { return false; }
    }

    private static bool ResolveSame(string a, string b)
    {
        var fa = new FileInfo(a).ResolveLinkTarget(true)?.FullName ?? Path.GetFullPath(a);
        var fb = new FileInfo(b).ResolveLinkTarget(true)?.FullName ?? Path.GetFullPath(b);
        return string.Equals(fa, fb, StringComparison.Ordinal) && File.Exists(fa);
    }

    /// <summary>Names of NAME.xml files in a directory, sorted. As libvirt's loader, names starting
    /// with a dot count (".x" is a legal network name); our temporary files never end in .xml.</summary>
    public static IEnumerable<string> XmlNames(string dir)
    {
        if (!Directory.Exists(dir)) return [];
        return Directory.EnumerateFiles(dir, "*.xml")
            .Select(Path.GetFileName)
            .Where(f => f is not null && f.EndsWith(".xml", StringComparison.Ordinal) && f.Length > 4 && !AtomicFile.IsTempName(f))
            .Select(f => f![..^4])
            .Order(StringComparer.Ordinal)
            .ToArray();
    }

    /// <summary>virNetworkLoadConfig: parses NAME.xml, whose network name must be NAME.</summary>
    public NetworkDef LoadConfig(string name)
    {
        string file = ConfigFile(name);
        NetworkDef def = NetworkXml.Parse(File.ReadAllText(file));
        if (def.Name != name)
            throw new LibvirtError(VirErrorCode.InternalError, VirErrorDomain.Network,
                $"Network config filename '{file}' does not match network name '{def.Name}'");
        return def;
    }

    /// <summary>virNetworkLoadState: parses a &lt;networkstatus&gt; file (or a bare &lt;network&gt;, as very old libvirt wrote).</summary>
    public NetworkStatus LoadStatus(string name)
    {
        string file = StatusFile(name);
        string text = File.ReadAllText(file);
        DomElement root = SafeXmlParser.Parse(text, null, VirErrorDomain.Network);
        string classId = "0-2";
        ulong floor = 0;
        var taints = new List<string>();
        BackendRecord record = BackendRecord.Empty;
        string netXml;
        if (root.LocalName == "networkstatus")
        {
            foreach (DomElement e in root.ChildElements())
            {
                string? Attr(string n) => e.Attributes.FirstOrDefault(a => a.LocalName == n)?.Value;
                switch (e.LocalName)
                {
                    case "class_id": classId = Attr("bitmap") ?? classId; break;
                    case "floor":
                        string? s = Attr("sum");
                        if (s is not null && !ulong.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out floor))
                            throw new LibvirtError(VirErrorCode.InternalError, VirErrorDomain.Network, $"Malformed 'floor_sum' attribute: {s}");
                        break;
                    case "taint":
                        string? t = Attr("flag");
                        if (t is null || !TaintNames.Contains(t))
                            throw new LibvirtError(VirErrorCode.ConfigUnsupported, VirErrorDomain.Network, $"Unknown taint flag {t}");
                        taints.Add(t);
                        break;
                }
            }
            record = BackendRecordXml.Parse(root);
            int start = FindNetworkStart(text);
            int end = text.LastIndexOf("</network>", StringComparison.Ordinal);
            if (start < 0 || end < start)
                throw new LibvirtError(VirErrorCode.InternalError, VirErrorDomain.Network, "Could not find any 'network' element in status file");
            netXml = text[start..(end + "</network>".Length)];
        }
        else
        {
            netXml = text;
        }
        NetworkDef def = NetworkXml.Parse(netXml);
        if (def.Name != name)
            throw new LibvirtError(VirErrorCode.InternalError, VirErrorDomain.Network,
                $"Network config filename '{file}' does not match network name '{def.Name}'");
        return new NetworkStatus(def, classId, floor, taints, record);
    }

    /// <summary>Removes the temporary files of interrupted writes from every folder we write
    /// (config, autostart, status and each network's ports); returns how many.</summary>
    public int RemoveStaleTemps()
    {
        int n = AtomicFile.RemoveStaleTemps(ConfigDir) + AtomicFile.RemoveStaleTemps(AutostartDir) + AtomicFile.RemoveStaleTemps(StateDir);
        if (Directory.Exists(StateDir))
            foreach (string sub in Directory.EnumerateDirectories(StateDir))
                n += AtomicFile.RemoveStaleTemps(Path.Combine(sub, "ports"));
        return n;
    }

    private static int FindNetworkStart(string text)
    {
        int i = 0;
        while ((i = text.IndexOf("<network", i, StringComparison.Ordinal)) >= 0)
        {
            char c = i + 8 < text.Length ? text[i + 8] : '\0';
            if (c is ' ' or '>' or '\n' or '\t' or '\r' or '/') return i;
            i += 8;
        }
        return -1;
    }
}
