namespace VirtNetworkd.Protocol.Xdr;

/// <summary>
/// A generated XDR type: encode, and decode into an existing value so that arrays and nested
/// values are reused when the shape repeats (steady-state decoding allocates nothing).
/// </summary>
public interface IXdrType<T> where T : IXdrType<T>
{
    static abstract void Encode(ref XdrWriter writer, in T value);
    static abstract void Decode(ref XdrReader reader, ref T value);
}

/// <summary>The XDR <c>void</c>: procedures without arguments or without a reply body.</summary>
public struct XdrVoid : IXdrType<XdrVoid>
{
    public static void Encode(ref XdrWriter writer, in XdrVoid value) { }
    public static void Decode(ref XdrReader reader, ref XdrVoid value) { }
}

public static class XdrCodec
{
    /// <summary>Encodes <paramref name="value"/> as a whole message body into <paramref name="output"/>.</summary>
    public static void Encode<T>(System.Buffers.IBufferWriter<byte> output, in T value) where T : IXdrType<T>
    {
        var w = new XdrWriter(output);
        T.Encode(ref w, value);
        w.Flush();
    }

    /// <summary>Encodes <paramref name="value"/> into a new array: for set-up, caches and tests, not for a per-call path.</summary>
    public static byte[] ToArray<T>(in T value) where T : IXdrType<T>
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        Encode(buffer, value);
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Decodes a whole message body: trailing bytes are an error.</summary>
    public static T Decode<T>(ReadOnlySpan<byte> data) where T : IXdrType<T>
    {
        T value = default!;
        DecodeInto(data, ref value);
        return value;
    }

    /// <summary>Decodes a whole message body into <paramref name="value"/>, reusing what it holds.</summary>
    public static void DecodeInto<T>(ReadOnlySpan<byte> data, ref T value) where T : IXdrType<T>
    {
        var r = new XdrReader(data);
        T.Decode(ref r, ref value);
        r.EnsureEnd();
    }
}
