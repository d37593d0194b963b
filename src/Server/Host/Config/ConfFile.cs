namespace VirtNetworkd.Server.Host.Config;

/// <summary>
/// A parsed conf file and libvirt's typed look-ups (virConfGetValue*). A name set twice takes
/// its first value, as in libvirt. Type errors read
/// <c>internal error: FILE:LINE: expected an unsigned integer for 'NAME' parameter</c> — libvirt's
/// wording, with the line added.
/// </summary>
public sealed class ConfFile
{
    public ConfFile(string fileName, IReadOnlyList<ConfEntry> entries)
    {
        FileName = fileName;
        Entries = entries;
    }

    public string FileName { get; }

    public IReadOnlyList<ConfEntry> Entries { get; }

    /// <summary>The first entry with this name, or null.</summary>
    public ConfEntry? Find(string name)
    {
        foreach (var e in Entries)
        {
            if (e.Name == name)
                return e;
        }
        return null;
    }

    private ConfException Internal(ConfEntry e, string what) =>
        new($"internal error: {FileName}:{e.Line}: {what}", FileName, e.Line);

    /// <summary>A string setting; false when absent.</summary>
    public bool TryGetString(string name, out string value)
    {
        value = "";
        if (Find(name) is not { } e)
            return false;
        if (e.Value.Kind != ConfValueKind.String)
            throw Internal(e, $"expected a string for '{name}' parameter");
        value = e.Value.Text!;
        return true;
    }

    /// <summary>An unsigned 32-bit setting (no '-' allowed); false when absent.</summary>
    public bool TryGetUInt(string name, out uint value)
    {
        value = 0;
        if (Find(name) is not { } e)
            return false;
        if (e.Value.Kind != ConfValueKind.UnsignedInteger)
            throw Internal(e, $"expected an unsigned integer for '{name}' parameter");
        if (e.Value.Number is < 0 or > uint.MaxValue)
            throw Internal(e, $"value for '{name}' parameter must be in range 0:{uint.MaxValue}");
        value = (uint)e.Value.Number;
        return true;
    }

    /// <summary>A signed 32-bit setting; false when absent.</summary>
    public bool TryGetInt(string name, out int value)
    {
        value = 0;
        if (Find(name) is not { } e)
            return false;
        if (e.Value.Kind is not (ConfValueKind.SignedInteger or ConfValueKind.UnsignedInteger))
            throw Internal(e, $"expected a signed integer for '{name}' parameter");
        if (e.Value.Number is < int.MinValue or > int.MaxValue)
            throw Internal(e, $"value for '{name}' parameter must be in range {int.MinValue}:{int.MaxValue}");
        value = (int)e.Value.Number;
        return true;
    }

    /// <summary>A boolean setting, written 0 or 1; false when absent.</summary>
    public bool TryGetBool(string name, out bool value)
    {
        value = false;
        if (Find(name) is not { } e)
            return false;
        if (e.Value.Kind != ConfValueKind.UnsignedInteger)
            throw Internal(e, $"expected a bool for '{name}' parameter");
        if (e.Value.Number is < 0 or > 1)
            throw Internal(e, $"value for '{name}' parameter must be 0 or 1");
        value = e.Value.Number == 1;
        return true;
    }

    /// <summary>A list of strings; false when absent.</summary>
    public bool TryGetStringList(string name, out IReadOnlyList<string> value)
    {
        value = [];
        if (Find(name) is not { } e)
            return false;
        if (e.Value.Kind != ConfValueKind.List)
            throw Internal(e, $"expected a string list for '{name}' parameter");
        var list = new List<string>(e.Value.Items.Count);
        foreach (var item in e.Value.Items)
        {
            if (item.Kind != ConfValueKind.String)
            {
                throw new ConfException(
                    $"configuration file syntax error: {FileName}:{e.Line}: expected a string list for '{name}' parameter",
                    FileName, e.Line);
            }
            list.Add(item.Text!);
        }
        value = list;
        return true;
    }
}
