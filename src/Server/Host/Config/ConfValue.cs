namespace VirtNetworkd.Server.Host.Config;

/// <summary>The kinds of value libvirt's conf syntax has.</summary>
public enum ConfValueKind
{
    /// <summary>A number written with a leading '-' (libvirt's "long").</summary>
    SignedInteger,

    /// <summary>A number without '-' (libvirt's "unsigned long").</summary>
    UnsignedInteger,

    String,
    List,
}

/// <summary>One value from a conf file: a number, a string or a list of values.</summary>
public sealed class ConfValue
{
    private ConfValue(ConfValueKind kind, long number, string? text, IReadOnlyList<ConfValue>? items)
    {
        Kind = kind;
        Number = number;
        Text = text;
        Items = items ?? [];
    }

    public ConfValueKind Kind { get; }

    /// <summary>The number, for the two integer kinds.</summary>
    public long Number { get; }

    /// <summary>The string, for <see cref="ConfValueKind.String"/>.</summary>
    public string? Text { get; }

    /// <summary>The elements, for <see cref="ConfValueKind.List"/>.</summary>
    public IReadOnlyList<ConfValue> Items { get; }

    public static ConfValue Integer(long n, bool signed) =>
        new(signed ? ConfValueKind.SignedInteger : ConfValueKind.UnsignedInteger, n, null, null);

    public static ConfValue String(string s) => new(ConfValueKind.String, 0, s, null);

    public static ConfValue List(IReadOnlyList<ConfValue> items) => new(ConfValueKind.List, 0, null, items);

    public override string ToString() => Kind switch
    {
        ConfValueKind.String => Text!.Contains('"') ? $"'{Text}'" : $"\"{Text}\"",
        ConfValueKind.List => "[ " + string.Join(", ", Items) + " ]",
        _ => Number.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };
}

/// <summary>A <c>name = value</c> line of a conf file.</summary>
public sealed record ConfEntry(string Name, ConfValue Value, int Line);

/// <summary>
/// An error reading or interpreting a conf file. <see cref="Exception.Message"/> is the whole
/// libvirt-style message (for example
/// <c>configuration file syntax error: /etc/libvirt/virtnetworkd.conf:3: expecting a value</c>);
/// libvirt's daemon prints it as <c>Can't load config file: MESSAGE: FILE</c>.
/// </summary>
public sealed class ConfException : Exception
{
    public ConfException(string message, string? fileName, int line) : base(message)
    {
        FileName = fileName;
        Line = line;
    }

    /// <summary>The file the error is in, when known.</summary>
    public string? FileName { get; }

    /// <summary>The 1-based line, or 0 when the error is not about a line.</summary>
    public int Line { get; }
}
