using System.Buffers.Binary;
using System.Text;

namespace VirtNetworkd.NetworkDriver.Backend.Netlink;

/// <summary>A netlink message that does not hold together (a length past the end, too short).</summary>
public sealed class NetlinkFormatException(string message) : Exception(message);

/// <summary>One message of a netlink datagram: its header and its payload (family header and attributes).</summary>
public readonly ref struct NetlinkMessage(ushort type, ushort flags, uint sequence, ReadOnlySpan<byte> payload, uint portId = 0)
{
    public ushort Type { get; } = type;
    public ushort Flags { get; } = flags;
    public uint Sequence { get; } = sequence;
    public ReadOnlySpan<byte> Payload { get; } = payload;

    /// <summary>nlmsg_pid: in a notification, the port id of the socket whose request caused it.</summary>
    public uint PortId { get; } = portId;

    /// <summary>linux/err.h MAX_ERRNO: the largest errno the kernel reports.</summary>
    public const int MaxErrno = 4095;

    /// <summary>NLMSG_ERROR's error: 0 for an acknowledgement, otherwise a negative errno
    /// (-1..-4095); anything else does not come from a kernel (negated, int.MinValue stays negative).</summary>
    public int ErrorCode
    {
        get
        {
            if (Payload.Length < 4) throw new NetlinkFormatException("short NLMSG_ERROR");
            int code = BinaryPrimitives.ReadInt32LittleEndian(Payload);
            if (code is > 0 or < -MaxErrno) throw new NetlinkFormatException($"NLMSG_ERROR with error {code}, neither 0 nor a negative errno");
            return code;
        }
    }
}

/// <summary>Walks the messages of one received datagram, checking every length against what is there.</summary>
public ref struct NetlinkMessageReader(ReadOnlySpan<byte> datagram)
{
    private ReadOnlySpan<byte> _rest = datagram;

    public bool TryRead(out NetlinkMessage message)
    {
        message = default;
        if (_rest.IsEmpty) return false;
        if (_rest.Length < Nl.HeaderSize) throw new NetlinkFormatException($"{_rest.Length} bytes left, less than a header");
        uint len = BinaryPrimitives.ReadUInt32LittleEndian(_rest);
        if (len < Nl.HeaderSize || len > (uint)_rest.Length) throw new NetlinkFormatException($"message length {len} with {_rest.Length} bytes left");
        message = new NetlinkMessage(BinaryPrimitives.ReadUInt16LittleEndian(_rest[4..]), BinaryPrimitives.ReadUInt16LittleEndian(_rest[6..]),
            BinaryPrimitives.ReadUInt32LittleEndian(_rest[8..]), _rest[Nl.HeaderSize..(int)len], BinaryPrimitives.ReadUInt32LittleEndian(_rest[12..]));
        int next = Math.Min(_rest.Length, Nl.Align((int)len));
        _rest = _rest[next..];
        return true;
    }
}

/// <summary>One attribute: its type (nested flag removed) and value.</summary>
public readonly ref struct NetlinkAttribute(ushort type, ReadOnlySpan<byte> value)
{
    public ushort Type { get; } = type;
    public ReadOnlySpan<byte> Value { get; } = value;

    public byte U8 => Value.Length >= 1 ? Value[0] : throw new NetlinkFormatException($"attribute {Type}: no u8");
    public uint U32 => Value.Length >= 4 ? BinaryPrimitives.ReadUInt32LittleEndian(Value) : throw new NetlinkFormatException($"attribute {Type}: no u32");

    /// <summary>A NUL-terminated string (the NUL and anything after it dropped).</summary>
    public string String
    {
        get
        {
            int nul = Value.IndexOf((byte)0);
            return Encoding.UTF8.GetString(nul >= 0 ? Value[..nul] : Value);
        }
    }

    public NetlinkAttributeReader Nested => new(Value);
}

/// <summary>Walks a run of attributes.</summary>
public ref struct NetlinkAttributeReader(ReadOnlySpan<byte> attributes)
{
    private ReadOnlySpan<byte> _rest = attributes;

    public bool TryRead(out NetlinkAttribute attribute)
    {
        attribute = default;
        if (_rest.Length < Nl.AttrHeaderSize) return false;
        ushort len = BinaryPrimitives.ReadUInt16LittleEndian(_rest);
        if (len < Nl.AttrHeaderSize || len > _rest.Length) throw new NetlinkFormatException($"attribute length {len} with {_rest.Length} bytes left");
        ushort type = (ushort)(BinaryPrimitives.ReadUInt16LittleEndian(_rest[2..]) & 0x3fff);
        attribute = new NetlinkAttribute(type, _rest[Nl.AttrHeaderSize..len]);
        _rest = _rest[Math.Min(_rest.Length, Nl.Align(len))..];
        return true;
    }
}

/// <summary>What one received datagram says about the answer to a request (the socket's read loop,
/// apart from the socket so that it runs on any bytes: tests and the fuzzer's netlink target).</summary>
public static class NetlinkAnswer
{
    /// <summary>
    /// Hands each message of <paramref name="datagram"/> that answers request
    /// <paramref name="sequence"/> to <paramref name="onMessage"/>; messages of other sequences (late
    /// answers to earlier requests) are skipped. True when the answer is complete: acknowledged,
    /// NLMSG_DONE, or the one reply of a non-dump query. Throws <see cref="NetlinkErrorException"/>
    /// for a negative acknowledgement and <see cref="NetlinkFormatException"/> for bytes that do not
    /// hold together.
    /// </summary>
    public static bool Read(ReadOnlySpan<byte> datagram, uint sequence, bool dump, string operation, NetlinkPayloadHandler? onMessage)
    {
        var reader = new NetlinkMessageReader(datagram);
        while (reader.TryRead(out var m))
        {
            if (m.Sequence != sequence) continue;
            if (m.Type == Nl.Error)
            {
                int code = m.ErrorCode;
                if (code < 0) throw new NetlinkErrorException(-code, operation);
                return true; // acknowledged
            }
            if (m.Type == Nl.Done) return true;
            onMessage?.Invoke(m.Type, m.Payload);
            if (!dump && (m.Flags & Nl.FMulti) == 0 && onMessage is not null) return true;
        }
        return false;
    }
}
