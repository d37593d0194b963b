namespace VirtNetworkd.Server.Remote;

/// <summary>
/// The parts of a libvirt connection URI that decide which driver opens it
/// (scheme://[user@]server[:port]/path?query), parsed as leniently as libxml2 does for the
/// URIs libvirt clients send.
/// </summary>
public sealed record ConnectUri(string? Scheme, string? Server, string Path, string Original)
{
    public static bool TryParse(string text, out ConnectUri uri)
    {
        uri = new ConnectUri(null, null, "", text);
        if (text.Length == 0) return true;
        int colon = text.IndexOf(':');
        string? scheme = null;
        string rest = text;
        if (colon > 0 && IsScheme(text.AsSpan(0, colon)))
        {
            scheme = text[..colon];
            rest = text[(colon + 1)..];
        }
        else if (colon == 0)
        {
            return false;
        }
        int cut = rest.IndexOfAny(['?', '#']);
        if (cut >= 0) rest = rest[..cut];
        string? server = null;
        if (rest.StartsWith("//", StringComparison.Ordinal))
        {
            rest = rest[2..];
            int slash = rest.IndexOf('/');
            string authority = slash >= 0 ? rest[..slash] : rest;
            rest = slash >= 0 ? rest[slash..] : "";
            int at = authority.LastIndexOf('@');
            if (at >= 0) authority = authority[(at + 1)..];
            int port = authority.LastIndexOf(':');
            if (port >= 0 && !authority.EndsWith(']')) authority = authority[..port];
            server = authority.Length == 0 ? null : authority;
        }
        if (rest.Contains(' ')) return false;
        uri = new ConnectUri(scheme, server, rest, text);
        return true;
    }

    private static bool IsScheme(ReadOnlySpan<char> s)
    {
        if (s.Length == 0 || !char.IsAsciiLetter(s[0])) return false;
        foreach (char c in s)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c != '+' && c != '-' && c != '.') return false;
        }
        return true;
    }
}
