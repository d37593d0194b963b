using System.Runtime.InteropServices;
using VirtNetworkd.Errors;
using VirtNetworkd.NetworkDriver.Driver;
using VirtNetworkd.NetworkDriver.Xml;
using VirtNetworkd.NetworkDriver.Xml.Net;

namespace VirtNetworkd.NetworkDriver.Backend.Dnsmasq;

/// <summary>
/// <c>BRIDGE.status</c> in the dnsmasq state folder: the JSON array of leases the leases helper
/// keeps (<c>ip-address</c>, <c>mac-address</c>, <c>hostname</c>, <c>client-id</c>,
/// <c>expiry-time</c>; <c>iaid</c> and <c>server-duid</c> for DHCPv6), in libvirt's exact format,
/// because third-party tools (libvirt's NSS module among them) read it. Read here as
/// networkGetDHCPLeases reads it; written by the helper (<see cref="LeasesHelperRun"/>).
/// </summary>
public static class LeaseStatusFile
{
    /// <summary>VIR_NETWORK_DHCP_LEASE_FILE_SIZE_MAX: a bigger file is refused.</summary>
    public const int MaxSize = 32 * 1024 * 1024;

    /// <summary>networkDnsmasqLeaseFileNameCustom: <c>STATEDIR/BRIDGE.status</c>.</summary>
    public static string PathFor(string dnsmasqStateDir, string bridge) => Path.Combine(dnsmasqStateDir, bridge + ".status");

    /// <summary>
    /// virFileReadAll with libvirt's size limit: the bytes, or the errno of the failure
    /// (EOVERFLOW for a file over <see cref="MaxSize"/>).
    /// </summary>
    public static byte[]? TryRead(string path, out int errno)
    {
        errno = 0;
        try
        {
            using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1, FileOptions.None);
            var buffer = new MemoryStream();
            byte[] chunk = new byte[64 * 1024];
            int n;
            while ((n = fs.Read(chunk)) > 0)
            {
                if (buffer.Length + n > MaxSize)
                {
                    errno = EOVERFLOW;
                    return null;
                }
                buffer.Write(chunk, 0, n);
            }
            return buffer.ToArray();
        }
        catch (FileNotFoundException) { errno = ENOENT; }
        catch (DirectoryNotFoundException) { errno = ENOENT; }
        catch (UnauthorizedAccessException) { errno = EACCES; }
        catch (IOException e) { errno = e.HResult is > 0 and < 4096 ? e.HResult : EIO; }
        return null;
    }

    internal const int ENOENT = 2, EIO = 5, EACCES = 13, EOVERFLOW = 75;

    /// <summary>strerror as glibc words it, for the errnos <see cref="TryRead"/> gives.</summary>
    public static string StrError(int errno) => errno switch
    {
        EOVERFLOW => "Value too large for defined data type",
        _ => Marshal.GetPInvokeErrorMessage(errno),
    };

    /// <summary>
    /// networkGetDHCPLeases: the leases of <paramref name="def"/> in <paramref name="stateDir"/>,
    /// optionally only those of <paramref name="mac"/> (compared as virMacAddrCompare does), expired
    /// ones left out (an expiry of 0 never expires), each with the prefix of the network's first
    /// &lt;ip&gt; of its family. No file is no leases; a file that is not libvirt's format is an
    /// internal error, as libvirt reports it.
    /// </summary>
    public static IReadOnlyList<DhcpLease> ReadLeases(string stateDir, NetworkDef def, string? mac, long now, bool needResults = true)
    {
        ArgumentNullException.ThrowIfNull(def);
        if (def.Bridge is null) return [];
        string path = PathFor(stateDir, def.Bridge);
        byte[]? bytes = TryRead(path, out int errno);
        if (bytes is null)
        {
            if (errno == ENOENT) return [];
            throw new LibvirtError(VirErrorCode.SystemError, VirErrorDomain.Network, $"Unable to read leases file: {path}: {StrError(errno)}");
        }
        return Parse(bytes, path, def, mac, now, needResults);
    }

    /// <summary>The rules of <see cref="ReadLeases"/> over the file's bytes. Without <paramref name="needResults"/>
    /// (a count), a lease need not have an ip-address, as in libvirt.</summary>
    public static IReadOnlyList<DhcpLease> Parse(ReadOnlySpan<byte> bytes, string path, NetworkDef def, string? mac, long now, bool needResults = true)
    {
        ArgumentNullException.ThrowIfNull(def);
        if (bytes.Length == 0 || bytes[0] == 0) return [];
        LeaseJson array;
        try
        {
            array = LeaseJsonText.Parse(bytes);
        }
        catch (LeaseJsonException)
        {
            throw Internal($"invalid json in file: {path}");
        }
        if (array.Kind != LeaseJsonKind.Array)
            throw Internal("Malformed lease_entries array");

        var leases = new List<DhcpLease>();
        foreach (var lease in array.Items)
        {
            string macTmp = lease.GetString("mac-address") ?? throw Internal("found lease without mac-address");
            if (mac is not null && !MacEquals(mac, macTmp)) continue;
            if (!lease.TryGetLong("expiry-time", out long expiry))
                throw Internal("found lease without expiry-time");
            if (expiry > 0 && expiry < now) continue;
            string? ipOrNull = lease.GetString("ip-address");
            if (ipOrNull is null && needResults) throw Internal("found lease without ip-address");
            string ip = ipOrNull ?? "";
            bool ipv6 = ip.Contains(':', StringComparison.Ordinal);
            leases.Add(new DhcpLease(
                Iface: def.Bridge!, ExpiryTime: expiry, Type: ipv6 ? 1 : 0, Mac: macTmp,
                Iaid: lease.GetString("iaid"), IpAddr: ip, Prefix: PrefixOf(def, ipv6),
                Hostname: lease.GetString("hostname"), ClientId: lease.GetString("client-id")));
        }
        return leases;
    }

    /// <summary>The prefix of the first &lt;ip&gt; of the family (IPv4: virSocketAddrGetIPPrefix, -1 as unsigned on error); 0 without one.</summary>
    private static uint PrefixOf(NetworkDef def, bool ipv6)
    {
        foreach (var ip in def.Ips)
        {
            if (ipv6 && ip.Address.IsIPv6) return ip.Prefix;
            if (!ipv6 && ip.Address.IsIPv4) return unchecked((uint)ip.GetPrefix());
        }
        return 0;
    }

    /// <summary>virMacAddrCompare: case-insensitive, leading zeros of each part ignored.</summary>
    public static bool MacEquals(string p, string q)
    {
        ArgumentNullException.ThrowIfNull(p);
        ArgumentNullException.ThrowIfNull(q);
        int i = 0, j = 0;
        while (true)
        {
            while (i < p.Length && p[i] == '0' && i + 1 < p.Length && char.IsAsciiHexDigit(p[i + 1])) i++;
            while (j < q.Length && q[j] == '0' && j + 1 < q.Length && char.IsAsciiHexDigit(q[j + 1])) j++;
            char c = i < p.Length ? AsciiLower(p[i]) : '\0';
            char d = j < q.Length ? AsciiLower(q[j]) : '\0';
            if (c == '\0' || d == '\0' || c != d) return c == d;
            i++;
            j++;
        }
    }

    private static char AsciiLower(char c) => c is >= 'A' and <= 'Z' ? (char)(c + 32) : c;

    private static LibvirtError Internal(string message) => new(VirErrorCode.InternalError, VirErrorDomain.Network, message);
}
