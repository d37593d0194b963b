using System.Buffers.Binary;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using VirtNetworkd.Protocol.Framing;
using VirtNetworkd.Protocol.Remote;
using VirtNetworkd.Protocol.Xdr;

namespace VirtNetworkd.Benchmarks;

/// <summary>
/// A libvirt RPC client that allocates nothing per call, so that bytes counted process-wide
/// during <see cref="RoundTrip"/> are the server's: a pre-encoded call whose serial is patched in
/// place, one blocking send, blocking receives into one reused buffer, and the reply header
/// checked in place. One call at a time; no keepalive is negotiated, so the only packets the
/// server sends are replies.
/// </summary>
public sealed class CallClient : IDisposable
{
    private const int SerialOffset = PacketFraming.LengthFieldSize + 16;
    private readonly Socket _socket;
    private readonly byte[] _reply = new byte[PacketFraming.InitialPacketSize];
    private int _replyLength;
    private uint _serial;

    public CallClient(string socketPath)
    {
        _socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified)
        {
            ReceiveTimeout = 10_000,
            SendTimeout = 10_000,
        };
        _socket.Connect(new UnixDomainSocketEndPoint(socketPath));
    }

    /// <summary>The body of the last reply (valid until the next call).</summary>
    public ReadOnlySpan<byte> ReplyBody => _reply.AsSpan(PacketFraming.MinPacketSize, _replyLength - PacketFraming.MinPacketSize);

    /// <summary>A whole call packet of the remote program, serial 0 (patched by <see cref="RoundTrip"/>).</summary>
    public static byte[] Request<T>(Procedure procedure, in T args) where T : IXdrType<T>
    {
        using var w = new PooledBufferWriter();
        PacketWriter.Write(w, new PacketHeader(RemoteProgram.Number, RemoteProgram.Version, (int)procedure, PacketType.Call, 0, PacketStatus.Ok), args);
        return w.ToArray();
    }

    public static byte[] Request(Procedure procedure) => Request(procedure, new XdrVoid());

    /// <summary>Sends <paramref name="request"/> with the next serial and reads its reply; returns the reply's length.</summary>
    public int RoundTrip(byte[] request)
    {
        uint serial = ++_serial;
        BinaryPrimitives.WriteUInt32BigEndian(request.AsSpan(SerialOffset), serial);
        ReadOnlySpan<byte> left = request;
        while (!left.IsEmpty) left = left[_socket.Send(left, SocketFlags.None)..];
        var header = ReceivePacket();
        if (header.Type != PacketType.Reply || header.Serial != serial || header.Status != PacketStatus.Ok) ThrowUnexpected(header, serial);
        return _replyLength;
    }

    private static readonly byte[] KeepalivePing = PingPacket();

    private static byte[] PingPacket()
    {
        using var w = new PooledBufferWriter();
        PacketWriter.Write(w, new PacketHeader(VirtNetworkd.Protocol.Keepalive.KeepaliveProgram.Number, VirtNetworkd.Protocol.Keepalive.KeepaliveProgram.Version,
            (int)VirtNetworkd.Protocol.Keepalive.Procedure.Ping, PacketType.Message, 0, PacketStatus.Ok), new XdrVoid());
        return w.ToArray();
    }

    /// <summary>A keepalive PING; true when the next packet is its PONG.</summary>
    public bool Ping()
    {
        ReadOnlySpan<byte> left = KeepalivePing;
        while (!left.IsEmpty) left = left[_socket.Send(left, SocketFlags.None)..];
        var header = ReceivePacket();
        return header.Program == VirtNetworkd.Protocol.Keepalive.KeepaliveProgram.Number && header.Procedure == (int)VirtNetworkd.Protocol.Keepalive.Procedure.Pong;
    }

    /// <summary>Reads one whole packet into the reply buffer; returns its header.</summary>
    private PacketHeader ReceivePacket()
    {
        int have = 0, length = int.MaxValue;
        while (have < length)
        {
            int n = _socket.Receive(_reply.AsSpan(have), SocketFlags.None);
            if (n == 0) ThrowClosed();
            have += n;
            if (length == int.MaxValue && have >= PacketFraming.LengthFieldSize)
            {
                length = BinaryPrimitives.ReadInt32BigEndian(_reply);
                if (length < PacketFraming.MinPacketSize || length > _reply.Length) ThrowBadLength(length);
            }
        }
        if (have != length) ThrowExtraBytes(have - length);
        _replyLength = length;
        return PacketHeader.Read(_reply.AsSpan(PacketFraming.LengthFieldSize));
    }

    /// <summary>A set-up call: round trip and decode of the reply (allocates).</summary>
    public TRet Call<TArgs, TRet>(Procedure procedure, in TArgs args) where TArgs : IXdrType<TArgs> where TRet : IXdrType<TRet>
    {
        RoundTrip(Request(procedure, args));
        return XdrCodec.Decode<TRet>(ReplyBody);
    }

    public void Dispose() => _socket.Dispose();

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowClosed() => throw new IOException("the server closed the connection");

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowBadLength(int length) => throw new IOException($"reply length {length} out of range");

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowExtraBytes(int n) => throw new IOException($"{n} bytes after the reply");

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ThrowUnexpected(PacketHeader header, uint serial)
    {
        string detail = header.Status == PacketStatus.Error
            ? XdrCodec.Decode<VirtNetworkd.Protocol.Net.MessageError>(ReplyBody).Message ?? "(no message)"
            : $"type {header.Type}, serial {header.Serial} (want {serial}), status {header.Status}";
        throw new IOException($"proc {header.Procedure}: unexpected reply: {detail}");
    }
}
