namespace VirtNetworkd.NetworkDriver.Xml.Net;

/// <summary>
/// libvirt's UUID text handling (viruuid.c). The model keeps UUIDs as <see cref="Guid"/>; the
/// 16 raw bytes libvirt sends on the wire are the bytes in text order (big-endian Guid).
/// </summary>
public static class VirUuid
{
    private static bool IsSpace(char c) => c is ' ' or '\t' or '\n' or '\v' or '\f' or '\r';

    private static int Hex(char c) => c switch
    {
        >= '0' and <= '9' => c - '0',
        >= 'a' and <= 'f' => c - 'a' + 10,
        >= 'A' and <= 'F' => c - 'A' + 10,
        _ => -1,
    };

    /// <summary>
    /// virUUIDParse: 32 hex digits in pairs, with '-' or ' ' allowed anywhere between pairs and
    /// surrounding white space; so both "81ff0d90-c91e-..." and "81ff0d90c91e..." are accepted.
    /// </summary>
    public static bool TryParse(string? s, out Guid uuid)
    {
        uuid = Guid.Empty;
        if (s is null) return false;
        Span<byte> b = stackalloc byte[16];
        int i = 0;
        while (i < s.Length && IsSpace(s[i])) i++;
        for (int n = 0; n < 16;)
        {
            if (i >= s.Length) return false;
            if (s[i] == '-' || s[i] == ' ')
            {
                i++;
                continue;
            }
            int hi = Hex(s[i]);
            if (hi < 0) return false;
            i++;
            if (i >= s.Length) return false;
            int lo = Hex(s[i]);
            if (lo < 0) return false;
            i++;
            b[n++] = (byte)((hi << 4) | lo);
        }
        for (; i < s.Length; i++)
            if (!IsSpace(s[i])) return false;
        uuid = new Guid(b, bigEndian: true);
        return true;
    }

    public static Guid Parse(string s) =>
        TryParse(s, out Guid g) ? g : throw new FormatException($"malformed UUID '{s}'");

    /// <summary>virUUIDFormat: lower-case 8-4-4-4-12.</summary>
    public static string Format(Guid uuid) => uuid.ToString("D");

    /// <summary>The 16 bytes in text order (as libvirt's unsigned char uuid[16]).</summary>
    public static byte[] ToBytes(Guid uuid) => uuid.ToByteArray(bigEndian: true);

    public static Guid FromBytes(ReadOnlySpan<byte> bytes) =>
        bytes.Length == 16 ? new Guid(bytes, bigEndian: true)
            : throw new ArgumentException("a UUID has 16 bytes", nameof(bytes));
}
