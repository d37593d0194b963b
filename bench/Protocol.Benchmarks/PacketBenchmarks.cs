using System.Buffers;
using BenchmarkDotNet.Attributes;
using VirtNetworkd.Protocol.Framing;
using VirtNetworkd.Protocol.Xdr;
using Remote = VirtNetworkd.Protocol.Remote;

namespace VirtNetworkd.Benchmarks;

/// <summary>
/// The 24-byte header (PacketHeader.Read/Write), framing a whole packet out of a
/// ReadOnlySequence (PacketFraming.TryReadPacket), and whole-packet write/read of the
/// network_lookup_by_name reply.
/// </summary>
[MemoryDiagnoser, BenchmarkCategory("packet")]
public class PacketBench : IVerifiable
{
    private readonly PooledBufferWriter _writer = new();
    private readonly byte[] _headerBytes = new byte[PacketHeader.Size];
    private PacketHeader _header;
    private Remote.NetworkLookupByNameRet _body;
    private byte[] _packet = [];
    private ReadOnlySequence<byte> _single;
    private ReadOnlySequence<byte> _multi;
    private byte[]? _scratch;
    private PacketHeader _readHeader;
    private Remote.NetworkLookupByNameRet _decoded;

    [GlobalSetup]
    public void Setup()
    {
        _header = Messages.LookupReplyHeader();
        _body = Messages.LookupByNameReply();
        _header.Write(_headerBytes);
        using (var w = new PooledBufferWriter())
        {
            PacketWriter.Write(w, _header, _body);
            _packet = w.ToArray();
        }
        _single = new ReadOnlySequence<byte>(_packet);
        // three segments, the first ending inside the length field (the stackalloc path of
        // TryReadPacket), the second ending inside the header: what a pipe can hand over
        _multi = Segment.Split(_packet, 2, 14);
        _decoded = default;
        ReadPacket();
        WritePacket();
    }

    [Benchmark]
    public long HeaderRead()
    {
        _readHeader = PacketHeader.Read(_headerBytes);
        return _readHeader.Serial;
    }

    [Benchmark]
    public long HeaderWrite()
    {
        _header.Write(_headerBytes);
        return _headerBytes[19];
    }

    /// <summary>TryReadPacket over a single-segment sequence holding exactly one packet.</summary>
    [Benchmark]
    public long TryReadPacket()
    {
        var buffer = _single;
        PacketFraming.TryReadPacket(ref buffer, out var packet);
        return packet.Length;
    }

    /// <summary>TryReadPacket over a three-segment sequence (length field split across segments).</summary>
    [Benchmark]
    public long TryReadPacketMultiSegment()
    {
        var buffer = _multi;
        PacketFraming.TryReadPacket(ref buffer, out var packet);
        return packet.Length;
    }

    /// <summary>PacketWriter.Write of the lookup reply (length + header + body, length back-patched).</summary>
    [Benchmark]
    public long WritePacket()
    {
        _writer.Reset();
        return PacketWriter.Write(_writer, _header, _body);
    }

    /// <summary>The receive side of the same packet: frame it, read the header, decode the body
    /// into a kept field.</summary>
    [Benchmark]
    public long ReadPacket()
    {
        var buffer = _single;
        PacketFraming.TryReadPacket(ref buffer, out var packet);
        var span = PacketFraming.Contiguous(packet, ref _scratch);
        _readHeader = PacketFraming.ReadHeader(span);
        XdrCodec.DecodeInto(PacketFraming.Body(span), ref _decoded);
        return _readHeader.Serial;
    }

    public string Describe() => $"lookup reply packet: {_packet.Length} bytes (4 length + {PacketHeader.Size} header + body)";

    public List<string> Verify()
    {
        var errors = new List<string>();
        Setup();

        Array.Clear(_headerBytes);
        HeaderWrite();
        var expectedHeader = Convert.FromHexString("20008086" + "00000001" + "0000002E" + "00000001" + "00000007" + "00000000");
        if (!_headerBytes.AsSpan().SequenceEqual(expectedHeader))
            errors.Add($"HeaderWrite wrote {Convert.ToHexString(_headerBytes)}, expected {Convert.ToHexString(expectedHeader)}");
        _readHeader = default;
        HeaderRead();
        if (_readHeader != _header) errors.Add($"HeaderRead gave {_readHeader}, expected {_header}");

        long written = WritePacket();
        var wire = _writer.ToArray();
        if (written != wire.Length) errors.Add($"PacketWriter.Write returned {written}, writer holds {wire.Length}");
        if (!wire.AsSpan().SequenceEqual(_packet)) errors.Add("WritePacket is not deterministic");
        uint lengthField = System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(wire);
        if (lengthField != wire.Length) errors.Add($"length field {lengthField}, packet is {wire.Length} bytes");
        if (!wire.AsSpan(4, PacketHeader.Size).SequenceEqual(expectedHeader)) errors.Add("packet header bytes differ");
        var body = new XdrReader(wire.AsSpan(PacketFraming.MinPacketSize), strings: null);
        Remote.NetworkLookupByNameRet fresh = default;
        Remote.NetworkLookupByNameRet.Decode(ref body, ref fresh);
        body.EnsureEnd();
        if (!Messages.Same(fresh, _body)) errors.Add("packet body does not decode to the lookup reply");

        foreach (var (name, seq) in new[] { ("single", _single), ("multi", _multi) })
        {
            var buffer = seq;
            if (!PacketFraming.TryReadPacket(ref buffer, out var packet)) { errors.Add($"TryReadPacket ({name}) found no packet"); continue; }
            if (packet.Length != _packet.Length || !buffer.IsEmpty) errors.Add($"TryReadPacket ({name}) framed {packet.Length} bytes, left {buffer.Length}");
            if (!packet.ToArray().AsSpan().SequenceEqual(_packet)) errors.Add($"TryReadPacket ({name}) framed different bytes");
            var partial = seq.Slice(0, seq.Length - 1);
            if (PacketFraming.TryReadPacket(ref partial, out _)) errors.Add($"TryReadPacket ({name}) framed a packet one byte short");
        }
        if (TryReadPacket() != _packet.Length) errors.Add("TryReadPacket benchmark returned the wrong length");
        if (TryReadPacketMultiSegment() != _packet.Length) errors.Add("TryReadPacketMultiSegment benchmark returned the wrong length");

        _readHeader = default;
        _decoded = default;
        ReadPacket();
        var uuid = _decoded.Net.Uuid;
        ReadPacket();
        if (_readHeader != _header) errors.Add($"ReadPacket header {_readHeader}, expected {_header}");
        if (!Messages.Same(_decoded, _body)) errors.Add("ReadPacket body differs from the lookup reply");
        if (!ReferenceEquals(uuid, _decoded.Net.Uuid)) errors.Add("ReadPacket did not reuse the uuid array");
        return errors;
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        private Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public static ReadOnlySequence<byte> Split(byte[] data, params int[] cuts)
        {
            Segment? first = null, last = null;
            int from = 0;
            foreach (int to in cuts.Append(data.Length))
            {
                var s = new Segment(data.AsMemory(from, to - from), from);
                if (last is null) first = s; else last.Next = s;
                last = s;
                from = to;
            }
            return new ReadOnlySequence<byte>(first!, 0, last!, last!.Memory.Length);
        }
    }
}
