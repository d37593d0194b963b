using System.Buffers;
using System.Buffers.Binary;
using System.Net.Sockets;
using VirtNetworkd.Protocol.Framing;
using VirtNetworkd.Protocol.Xdr;

namespace VirtNetworkd.Tests.Shared;

/// <summary>A reply or message read off the wire.</summary>
public sealed record RawPacket(PacketHeader Header, byte[] Body)
{
    public T Decode<T>() where T : IXdrType<T> => XdrCodec.Decode<T>(Body);
    public VirtNetworkd.Protocol.Net.MessageError Error => XdrCodec.Decode<VirtNetworkd.Protocol.Net.MessageError>(Body);
}

/// <summary>
/// A bare libvirt RPC client for tests: sends any packet (also broken ones), reads packets
/// back. No keepalive of its own: pings from the server are returned like any packet.
/// </summary>
public sealed class RawLibvirtClient : IDisposable
{
    public const uint Remote = 0x20008086;
    private readonly Socket _socket;
    private readonly byte[] _buffer = new byte[1 << 16];
    private int _start, _end;
    private uint _serial;

    public RawLibvirtClient(string socketPath, int timeoutMs = 10_000)
    {
        _socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified) { ReceiveTimeout = timeoutMs, SendTimeout = timeoutMs };
        _socket.Connect(new UnixDomainSocketEndPoint(socketPath));
    }

    public Socket Socket => _socket;

    public uint NextSerial() => ++_serial;

    /// <summary>Takes <paramref name="count"/> serials in a row for pipelined calls; returns the first.</summary>
    public uint NextSerials(int count)
    {
        uint first = _serial + 1;
        _serial += (uint)count;
        return first;
    }

    public void SendRaw(ReadOnlySpan<byte> bytes) => _socket.Send(bytes);

    public uint Send<T>(uint program, int procedure, in T body, int type = PacketType.Call, uint? serial = null, int status = PacketStatus.Ok, uint version = 1) where T : IXdrType<T>
    {
        uint s = serial ?? NextSerial();
        using var w = new PooledBufferWriter();
        PacketWriter.Write(w, new PacketHeader(program, version, procedure, type, s, status), body);
        SendRaw(w.ToArray());
        return s;
    }

    public uint Call<T>(int procedure, in T body) where T : IXdrType<T> => Send(Remote, procedure, body);
    public uint Call(int procedure) => Send(Remote, procedure, new XdrVoid());

    /// <summary>Reads the next packet (null when the server closed the connection).</summary>
    public RawPacket? Read()
    {
        while (true)
        {
            if (_end - _start >= 4)
            {
                int len = (int)BinaryPrimitives.ReadUInt32BigEndian(_buffer.AsSpan(_start));
                if (len > _buffer.Length) throw new InvalidOperationException($"packet of {len} bytes is bigger than the test client's buffer");
                if (_end - _start >= len)
                {
                    var packet = _buffer.AsSpan(_start, len);
                    var result = new RawPacket(PacketFraming.ReadHeader(packet), PacketFraming.Body(packet).ToArray());
                    _start += len;
                    return result;
                }
            }
            if (_start > 0)
            {
                Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
                _end -= _start;
                _start = 0;
            }
            int n = _socket.Receive(_buffer, _end, _buffer.Length - _end, SocketFlags.None);
            if (n == 0) return null;
            _end += n;
        }
    }

    /// <summary>Reads until the reply with <paramref name="serial"/>, skipping keepalive and events.</summary>
    public RawPacket ReadReply(uint serial)
    {
        while (true)
        {
            var p = Read() ?? throw new IOException("the server closed the connection");
            if (p.Header.Type == PacketType.Reply && p.Header.Serial == serial) return p;
        }
    }

    public RawPacket Roundtrip<T>(int procedure, in T body) where T : IXdrType<T> => ReadReply(Call(procedure, body));
    public RawPacket Roundtrip(int procedure) => ReadReply(Call(procedure));

    /// <summary>auth_list + connect_open, as every libvirt client starts.</summary>
    public void Open(string uri = "network:///system", uint flags = 0)
    {
        Roundtrip(66);
        var reply = Roundtrip(1, new VirtNetworkd.Protocol.Remote.ConnectOpenArgs { Name = uri, Flags = flags });
        if (reply.Header.Status != PacketStatus.Ok) throw new InvalidOperationException("connect_open failed: " + reply.Error.Message);
    }

    /// <summary>True when the server has closed the connection (reads until EOF or timeout).</summary>
    public bool IsClosedByServer()
    {
        try
        {
            while (Read() is not null) { }
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    public void Dispose() => _socket.Dispose();
}
