using System.Buffers.Binary;

namespace VirtNetworkd.Protocol.Framing;

/// <summary>
/// The 24-byte libvirt packet header (virNetMessageHeader) as raw numbers: type and status are
/// not checked here, so a server can answer a bad one with an error reply instead of dropping
/// the connection.
/// </summary>
public readonly record struct PacketHeader(uint Program, uint Version, int Procedure, int Type, uint Serial, int Status)
{
    public const int Size = 24;

    public static PacketHeader Read(ReadOnlySpan<byte> header) => new(
        BinaryPrimitives.ReadUInt32BigEndian(header),
        BinaryPrimitives.ReadUInt32BigEndian(header[4..]),
        BinaryPrimitives.ReadInt32BigEndian(header[8..]),
        BinaryPrimitives.ReadInt32BigEndian(header[12..]),
        BinaryPrimitives.ReadUInt32BigEndian(header[16..]),
        BinaryPrimitives.ReadInt32BigEndian(header[20..]));

    public void Write(Span<byte> header)
    {
        BinaryPrimitives.WriteUInt32BigEndian(header, Program);
        BinaryPrimitives.WriteUInt32BigEndian(header[4..], Version);
        BinaryPrimitives.WriteInt32BigEndian(header[8..], Procedure);
        BinaryPrimitives.WriteInt32BigEndian(header[12..], Type);
        BinaryPrimitives.WriteUInt32BigEndian(header[16..], Serial);
        BinaryPrimitives.WriteInt32BigEndian(header[20..], Status);
    }
}

/// <summary>Message types (virNetMessageType).</summary>
public static class PacketType
{
    public const int Call = 0, Reply = 1, Message = 2, Stream = 3, CallWithFds = 4, ReplyWithFds = 5, StreamHole = 6;
}

/// <summary>Message status (virNetMessageStatus).</summary>
public static class PacketStatus
{
    public const int Ok = 0, Error = 1, Continue = 2;
}
