namespace VirtNetworkd.Protocol.Xdr;

/// <summary>
/// Malformed XDR input: truncation, a length over its declared maximum, non-zero padding,
/// an undefined enum value or union discriminant, a boolean other than 0/1, trailing bytes.
/// <see cref="Offset"/> is the byte offset (from the start of the decoded span) where the bad
/// item starts.
/// </summary>
public sealed class XdrDecodeException : Exception
{
    public XdrDecodeException(string message, int offset)
        : base($"{message} (at offset {offset})")
    {
        Offset = offset;
        Reason = message;
    }

    public int Offset { get; }

    /// <summary>The message without the offset suffix.</summary>
    public string Reason { get; }
}

/// <summary>A value that cannot be encoded: over its maximum, a null where data is required,
/// a fixed-size field of the wrong size, an undefined enum value or union arm.</summary>
public sealed class XdrEncodeException : Exception
{
    public XdrEncodeException(string message) : base(message) { }
}
