using System.Buffers;
using System.Buffers.Binary;
using VirtNetworkd.Protocol.Xdr;

namespace VirtNetworkd.Protocol.Framing;

/// <summary>Writes whole packets: the length slot is reserved, the header and body encoded
/// straight into the output, then the length is patched in.</summary>
public static class PacketWriter
{
    public static long Write<T>(IBufferWriter<byte> output, in PacketHeader header, in T body,
        int maxPacketSize = PacketFraming.MaxPacketSize) where T : IXdrType<T>
    {
        var w = new XdrWriter(output);
        var slot = w.ReserveUInt32();
        WriteHeader(ref w, header);
        T.Encode(ref w, body);
        long length = w.BytesWritten - slot.Offset;
        if (length > maxPacketSize) throw new XdrEncodeException($"packet of {length} bytes is over the maximum {maxPacketSize}");
        XdrWriter.Patch(slot, (uint)length);
        w.Flush();
        return length;
    }

    private static void WriteHeader(ref XdrWriter w, in PacketHeader h)
    {
        w.WriteUInt32(h.Program);
        w.WriteUInt32(h.Version);
        w.WriteInt32(h.Procedure);
        w.WriteInt32(h.Type);
        w.WriteUInt32(h.Serial);
        w.WriteInt32(h.Status);
    }
}
