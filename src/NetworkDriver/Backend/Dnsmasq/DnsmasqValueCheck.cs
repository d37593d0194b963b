using System.Globalization;
using System.Text;
using VirtNetworkd.Errors;

namespace VirtNetworkd.NetworkDriver.Backend.Dnsmasq;

/// <summary>
/// Refuses values that would add a line, an option or a field to dnsmasq's files. libvirt has
/// no such check (its parser refuses only ' ' and ',' in TXT names, odd SRV service/protocol
/// characters and a DHCP host name not starting with a letter or digit), so a value holding
/// "&amp;#10;" becomes a dnsmasq option of its own there. Beyond libvirt:
/// - no value in any of the files may hold a line break (dnsmasq reads one option a line);
/// - a dhcp-host field (host name, id, MAC) may not hold ',' (each comma starts a dhcp-host
///   field: "name,ignore" would refuse the guest);
/// - an addn-hosts name may not hold blanks or '#' (more names, or a comment dropping the rest).
/// The error is VIR_ERR_CONFIG_UNSUPPORTED, raised when the files are made (network start or a
/// live update), with the character shown as libvirt's virXMLCheckIllegalChars would not (hex).
/// </summary>
public static class DnsmasqValueCheck
{
    private const string LineBreaks = "\n\r";

    /// <summary>A value written into a dnsmasq.conf line.</summary>
    public static void ConfValue(string what, string? value, string networkName) =>
        Refuse(what, value, networkName, LineBreaks);

    /// <summary>A field of a dhcp-host line of NAME.hostsfile.</summary>
    public static void HostsFileField(string what, string? value, string networkName) =>
        Refuse(what, value, networkName, "\n\r,");

    /// <summary>A host name of an NAME.addnhosts line (whitespace separated, '#' comments).</summary>
    public static void AddnHostsName(string value, string networkName) =>
        Refuse("name of a DNS host", value, networkName, "\n\r \t\v\f#");

    private static void Refuse(string what, string? value, string networkName, string illegal)
    {
        if (value is null) return;
        int i = value.AsSpan().IndexOfAny(illegal);
        if (i < 0) return;
        throw new LibvirtError(VirErrorCode.ConfigUnsupported, VirErrorDomain.Network,
            string.Create(CultureInfo.InvariantCulture,
                $"character 0x{(int)value[i]:x2} in the {what} '{Printable(value)}' of network '{networkName}' cannot be given to dnsmasq"));
    }

    /// <summary>The value with control characters as \xNN, so the message stays one line.</summary>
    private static string Printable(string value)
    {
        var sb = new StringBuilder(value.Length);
        foreach (char c in value)
        {
            if (c < 0x20 || c == 0x7f) sb.Append(CultureInfo.InvariantCulture, $"\\x{(int)c:x2}");
            else sb.Append(c);
        }
        return sb.ToString();
    }
}
