using VirtNetworkd.Protocol.Xdr;

namespace VirtNetworkd.Server.Remote;

/// <summary>A reply body encoded earlier (a whole XDR value, so a multiple of 4 bytes), written as it is.</summary>
internal readonly struct EncodedBody(byte[] bytes) : IXdrType<EncodedBody>
{
    public byte[] Bytes { get; } = bytes;

    public static void Encode(ref XdrWriter w, in EncodedBody value) =>
        w.WriteFixedOpaque(value.Bytes, value.Bytes.Length, "body");

    public static void Decode(ref XdrReader r, ref EncodedBody value) =>
        throw new NotSupportedException("an encoded body is only written");

    /// <summary>Encodes <paramref name="value"/> once, to be replayed.</summary>
    public static EncodedBody Of<T>(in T value) where T : IXdrType<T> => new(XdrCodec.ToArray(value));
}

/// <summary>
/// Encoded replies of CONNECT_LIST_ALL_NETWORKS, per flags and need_results, valid while the
/// driver's generation has not moved: a client polling the list gets a copy of bytes.
/// </summary>
internal sealed class ListAllReplyCache
{
    private readonly (long Generation, EncodedBody Body)?[] _entries = new (long, EncodedBody)?[128];
    private readonly Lock _lock = new();

    private static int Slot(uint flags, bool needResults) => (int)(flags * 2) + (needResults ? 1 : 0);

    public bool TryGet(uint flags, bool needResults, long generation, out EncodedBody body)
    {
        body = default;
        if (flags >= 64) return false;
        lock (_lock)
        {
            if (_entries[Slot(flags, needResults)] is not { } e || e.Generation != generation) return false;
            body = e.Body;
            return true;
        }
    }

    public void Set(uint flags, bool needResults, long generation, EncodedBody body)
    {
        if (flags >= 64) return;
        lock (_lock) _entries[Slot(flags, needResults)] = (generation, body);
    }
}

/// <summary>
/// Encoded GET_XML_DESC replies, keyed by the XML string's identity: the driver hands out the
/// same string until the network changes, so a client polling a network's XML gets a copy of
/// bytes instead of a UTF-8 transcoding. Direct-mapped and lock-free: an entry is replaced whole.
/// </summary>
internal sealed class XmlReplyCache
{
    private sealed record Entry(string Xml, EncodedBody Body);

    private readonly Entry?[] _entries = new Entry?[64];

    public EncodedBody For(string xml)
    {
        int slot = System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(xml) & (_entries.Length - 1);
        var entry = Volatile.Read(ref _entries[slot]);
        if (entry is not null && ReferenceEquals(entry.Xml, xml)) return entry.Body;
        var body = EncodedBody.Of(new VirtNetworkd.Protocol.Remote.NetworkGetXmlDescRet { Xml = xml });
        Volatile.Write(ref _entries[slot], new Entry(xml, body));
        return body;
    }
}
