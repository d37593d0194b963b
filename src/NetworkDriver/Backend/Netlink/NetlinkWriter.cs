using System.Buffers.Binary;
using System.Text;

namespace VirtNetworkd.NetworkDriver.Backend.Netlink;

/// <summary>
/// Builds one netlink request: the 16-byte header, the family header (ifinfomsg, ifaddrmsg,
/// rtmsg) and attributes, nested ones included, each padded to 4 bytes; lengths are patched in
/// when a nest or the message ends. Host byte order, as netlink wants.
/// </summary>
public sealed class NetlinkWriter
{
    private byte[] _buffer = new byte[256];
    private int _length;

    public NetlinkWriter(ushort type, ushort flags, uint sequence)
    {
        Reserve(Nl.HeaderSize);
        BinaryPrimitives.WriteUInt16LittleEndian(_buffer.AsSpan(4), type);
        BinaryPrimitives.WriteUInt16LittleEndian(_buffer.AsSpan(6), flags);
        BinaryPrimitives.WriteUInt32LittleEndian(_buffer.AsSpan(8), sequence);
        _length = Nl.HeaderSize;
    }

    private Span<byte> Reserve(int n)
    {
        int padded = Nl.Align(n);
        if (_length + padded > _buffer.Length) Array.Resize(ref _buffer, Math.Max(_buffer.Length * 2, _length + padded));
        var span = _buffer.AsSpan(_length, padded);
        span.Clear();
        return span;
    }

    private void Advance(int n) => _length += Nl.Align(n);

    /// <summary>struct ifinfomsg.</summary>
    public NetlinkWriter IfInfo(byte family, int index, uint flags = 0, uint change = 0)
    {
        var s = Reserve(Nl.IfInfoSize);
        s[0] = family;
        BinaryPrimitives.WriteInt32LittleEndian(s[4..], index);
        BinaryPrimitives.WriteUInt32LittleEndian(s[8..], flags);
        BinaryPrimitives.WriteUInt32LittleEndian(s[12..], change);
        Advance(Nl.IfInfoSize);
        return this;
    }

    /// <summary>struct ifaddrmsg.</summary>
    public NetlinkWriter IfAddr(byte family, byte prefixLength, byte scope, int index)
    {
        var s = Reserve(Nl.IfAddrSize);
        s[0] = family;
        s[1] = prefixLength;
        s[3] = scope;
        BinaryPrimitives.WriteInt32LittleEndian(s[4..], index);
        Advance(Nl.IfAddrSize);
        return this;
    }

    /// <summary>struct rtmsg.</summary>
    public NetlinkWriter RtMsg(byte family, byte dstLength, byte table, byte protocol, byte scope, byte type)
    {
        var s = Reserve(Nl.RtMsgSize);
        s[0] = family;
        s[1] = dstLength;
        s[4] = table;
        s[5] = protocol;
        s[6] = scope;
        s[7] = type;
        Advance(Nl.RtMsgSize);
        return this;
    }

    /// <summary>struct nfgenmsg (nfnetlink): family, version 0, resource id 0.</summary>
    public NetlinkWriter NfGen(byte family)
    {
        var s = Reserve(Nft.NfGenMsgSize);
        s[0] = family;
        Advance(Nft.NfGenMsgSize);
        return this;
    }

    public NetlinkWriter Attr(ushort type, ReadOnlySpan<byte> value)
    {
        int len = Nl.AttrHeaderSize + value.Length;
        var s = Reserve(len);
        BinaryPrimitives.WriteUInt16LittleEndian(s, (ushort)len);
        BinaryPrimitives.WriteUInt16LittleEndian(s[2..], type);
        value.CopyTo(s[Nl.AttrHeaderSize..]);
        Advance(len);
        return this;
    }

    public NetlinkWriter AttrU8(ushort type, byte value) => Attr(type, [value]);

    public NetlinkWriter AttrU32(ushort type, uint value)
    {
        Span<byte> b = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(b, value);
        return Attr(type, b);
    }

    /// <summary>A NUL-terminated string (IFLA_IFNAME, IFLA_INFO_KIND).</summary>
    public NetlinkWriter AttrString(ushort type, string value)
    {
        byte[] bytes = new byte[Encoding.UTF8.GetByteCount(value) + 1];
        Encoding.UTF8.GetBytes(value, bytes);
        return Attr(type, bytes);
    }

    /// <summary>Opens a nested attribute; <see cref="EndNest"/> with the returned offset closes it.</summary>
    public int BeginNest(ushort type)
    {
        int at = _length;
        var s = Reserve(Nl.AttrHeaderSize);
        BinaryPrimitives.WriteUInt16LittleEndian(s[2..], (ushort)(type | Nl.AttrNested));
        Advance(Nl.AttrHeaderSize);
        return at;
    }

    public NetlinkWriter EndNest(int at)
    {
        BinaryPrimitives.WriteUInt16LittleEndian(_buffer.AsSpan(at), (ushort)(_length - at));
        return this;
    }

    /// <summary>The finished message, its length field set.</summary>
    public byte[] ToArray()
    {
        BinaryPrimitives.WriteUInt32LittleEndian(_buffer, (uint)_length);
        return _buffer.AsSpan(0, _length).ToArray();
    }
}
