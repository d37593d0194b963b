using System.Globalization;
using System.Text;

namespace VirtNetworkd.NetworkDriver.Driver;

/// <summary>
/// The network's bitmap of QoS class IDs in use (virNetworkObj's classIdMap). Bits 0–2 are
/// reserved for the bridge's own classes; ports with a floor take the lowest free bit above.
/// Text form as virBitmapFormat writes it into the status file: "0-2,5".
/// </summary>
public sealed class ClassIdMap
{
    private readonly SortedSet<uint> _bits = [];

    public static ClassIdMap Default()
    {
        var m = new ClassIdMap();
        m.Set(0); m.Set(1); m.Set(2);
        return m;
    }

    /// <summary>virBitmapParse of the status file's list of ids and ranges; null for malformed text.</summary>
    public static ClassIdMap? Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var m = new ClassIdMap();
        foreach (string part in text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            int dash = part.IndexOf('-', StringComparison.Ordinal);
            if (!uint.TryParse(dash < 0 ? part : part[..dash], NumberStyles.None, CultureInfo.InvariantCulture, out uint lo)) return null;
            uint hi = lo;
            if (dash >= 0 && !uint.TryParse(part[(dash + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out hi)) return null;
            if (hi < lo || hi - lo > 65535) return null;
            for (uint b = lo; b <= hi; b++) m.Set(b);
        }
        return m;
    }

    public bool IsSet(uint bit) => _bits.Contains(bit);
    public void Set(uint bit) => _bits.Add(bit);
    public void Clear(uint bit) => _bits.Remove(bit);

    /// <summary>networkNextClassID: the lowest clear bit, now marked used.</summary>
    public uint TakeNext()
    {
        uint id = 0;
        while (_bits.Contains(id)) id++;
        _bits.Add(id);
        return id;
    }

    public ClassIdMap Clone()
    {
        var m = new ClassIdMap();
        m._bits.UnionWith(_bits);
        return m;
    }

    public override string ToString()
    {
        var sb = new StringBuilder();
        uint? start = null, prev = null;
        foreach (uint b in _bits)
        {
            if (prev is { } p && b == p + 1) { prev = b; continue; }
            Flush();
            start = prev = b;
        }
        Flush();
        return sb.ToString();

        void Flush()
        {
            if (start is not { } s) return;
            if (sb.Length > 0) sb.Append(',');
            sb.Append(s.ToString(CultureInfo.InvariantCulture));
            if (prev != s) sb.Append('-').Append(prev!.Value.ToString(CultureInfo.InvariantCulture));
        }
    }
}
