using System.Runtime.InteropServices;

namespace VirtNetworkd.NetworkDriver.Backend.Netlink;

/// <summary>A request the kernel refused: its errno, and the operation named for the message.</summary>
public sealed class NetlinkErrorException(int errno, string operation)
    : Exception($"{operation}: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})")
{
    public const int EExist = 17, ENoDev = 19, ENoEnt = 2, EPerm = 1, EOpNotSupp = 95;
    public int Errno { get; } = errno;
}

/// <summary>
/// An rtnetlink socket (AF_NETLINK, NETLINK_ROUTE; or another netlink protocol, such as
/// <see cref="Nft.NetlinkNetfilter"/>) in the calling thread's network namespace, or
/// in the one named by a path (/var/run/netns/NAME: the socket is made on a thread that enters
/// it, so the daemon's other threads stay where they are). One request at a time: send, then
/// read until its acknowledgement, its answer or the end of its dump.
/// </summary>
public sealed class NetlinkSocket : IDisposable
{
    private const int AfNetlink = 16, SockRaw = 3, SockCloexec = 0x80000, NetlinkRoute = 0;
    private const int SolSocket = 1, SoRcvTimeo = 20, SoRcvBufForce = 33, SolNetlink = 270, NetlinkAddMembership = 1;
    private const int MsgTrunc = 0x20, MsgDontWait = 0x40, EAgain = 11, ENoBufs = 105;
    private readonly int _fd;
    private readonly Lock _lock = new();
    private readonly byte[] _receive = new byte[64 * 1024];
    private uint _sequence;

    private NetlinkSocket(int fd) => _fd = fd;

    public static NetlinkSocket Open(string? networkNamespacePath = null)
    {
        if (networkNamespacePath is null) return new NetlinkSocket(CreateSocket());
        using var inside = new Linux.NamespaceThread(networkNamespacePath);
        return new NetlinkSocket(inside.Run(() => CreateSocket()));
    }

    /// <summary>A socket in the calling thread's namespace that also receives the notifications of
    /// <paramref name="groups"/> (RTMGRP_* bits, e.g. <see cref="Nl.GroupLink"/>).</summary>
    public static NetlinkSocket OpenSubscribed(uint groups) => new(CreateSocket(NetlinkRoute, groups));

    /// <summary>The descriptor, for poll().</summary>
    public int Descriptor => _fd;

    /// <summary>One datagram (notifications on a subscribed socket): its length, or -errno.</summary>
    public unsafe int ReceiveDatagram(Span<byte> buffer)
    {
        nint n;
        fixed (byte* p = buffer) n = Native.Recv(_fd, p, buffer.Length, MsgDontWait);
        return n < 0 ? -Marshal.GetLastPInvokeError() : (int)n;
    }

    private static unsafe int CreateSocket(int protocol = NetlinkRoute, uint groups = 0)
    {
        int fd = Native.Socket(AfNetlink, SockRaw | SockCloexec, protocol);
        if (fd < 0) throw new NetlinkErrorException(Marshal.GetLastPInvokeError(), "socket(AF_NETLINK)");
        var address = new SockaddrNl { Family = AfNetlink, Groups = groups };
        if (Native.Bind(fd, &address, sizeof(SockaddrNl)) != 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            Native.Close(fd);
            throw new NetlinkErrorException(errno, "bind(AF_NETLINK)");
        }
        // a kernel that never answers must not hang a start: 5 s
        var timeout = new TimeVal { Seconds = 5 };
        Native.SetSockOpt(fd, SolSocket, SoRcvTimeo, &timeout, sizeof(TimeVal));
        return fd;
    }

    /// <summary>The next sequence number, for a request built by <see cref="RtnlRequest"/>.</summary>
    public uint NextSequence() => Interlocked.Increment(ref _sequence);

    /// <summary>Sends a request that asks for an acknowledgement; throws on a negative one.</summary>
    public void Ack(byte[] request, string operation) => Exchange(request, operation, null);

    /// <summary>Sends a request (a GET or a dump) and hands each answering message's payload to
    /// <paramref name="onMessage"/>.</summary>
    public void Query(byte[] request, string operation, NetlinkPayloadHandler onMessage) => Exchange(request, operation, onMessage);

    private unsafe void Exchange(byte[] request, string operation, NetlinkPayloadHandler? onMessage)
    {
        uint sequence = BitConverter.ToUInt32(request, 8);
        bool dump = (BitConverter.ToUInt16(request, 6) & Nl.FDump) == Nl.FDump;
        lock (_lock)
        {
            fixed (byte* p = request)
            {
                if (Native.Send(_fd, p, request.Length, 0) < 0) throw new NetlinkErrorException(Marshal.GetLastPInvokeError(), operation);
            }
            while (true)
            {
                nint n;
                // MSG_TRUNC: the datagram's real length, so that a reply larger than the buffer is an error, not a cut parse
                fixed (byte* p = _receive) n = Native.Recv(_fd, p, _receive.Length, MsgTrunc);
                if (n < 0)
                {
                    int errno = Marshal.GetLastPInvokeError();
                    if (errno == 4 /* EINTR */) continue;
                    throw new NetlinkErrorException(errno, operation);
                }
                if (n > _receive.Length) throw new NetlinkErrorException(90 /* EMSGSIZE */, operation);
                if (NetlinkAnswer.Read(_receive.AsSpan(0, (int)n), sequence, dump, operation, onMessage)) return;
            }
        }
    }

    /// <summary>A socket of another netlink protocol (<see cref="Nft.NetlinkNetfilter"/>) in the
    /// calling thread's namespace, made as an rtnetlink one.</summary>
    public static NetlinkSocket OpenProtocol(int protocol) => new(CreateSocket(protocol));

    /// <summary>
    /// Joins multicast group <paramref name="group"/> (NETLINK_ADD_MEMBERSHIP), with a receive
    /// buffer of <paramref name="receiveBuffer"/> bytes (SO_RCVBUFFORCE, beyond rmem_max: a
    /// burst of notifications must not overflow it; kernel memory is only taken as it fills).
    /// </summary>
    public unsafe void Subscribe(uint group, int receiveBuffer)
    {
        Native.SetSockOpt(_fd, SolSocket, SoRcvBufForce, &receiveBuffer, sizeof(int));
        if (Native.SetSockOpt(_fd, SolNetlink, NetlinkAddMembership, &group, sizeof(uint)) != 0)
            throw new NetlinkErrorException(Marshal.GetLastPInvokeError(), $"joining netlink group {group}");
    }

    /// <summary>
    /// Hands every datagram already queued (multicast notifications) to <paramref name="onDatagram"/>,
    /// without waiting. False when the queue overflowed since the socket joined (ENOBUFS: some were lost).
    /// </summary>
    public unsafe bool Drain(NetlinkDatagramHandler onDatagram)
    {
        ArgumentNullException.ThrowIfNull(onDatagram);
        lock (_lock)
        {
            while (true)
            {
                nint n;
                fixed (byte* p = _receive) n = Native.Recv(_fd, p, _receive.Length, MsgDontWait);
                if (n < 0)
                {
                    int errno = Marshal.GetLastPInvokeError();
                    if (errno == 4 /* EINTR */) continue;
                    if (errno == EAgain) return true;
                    if (errno == ENoBufs) return false;
                    throw new NetlinkErrorException(errno, "reading netlink notifications");
                }
                onDatagram(_receive.AsSpan(0, (int)n));
            }
        }
    }

    public void Dispose() => Native.Close(_fd);

    [StructLayout(LayoutKind.Sequential)]
    private struct SockaddrNl
    {
        public ushort Family;
        public ushort Pad;
        public uint Pid;
        public uint Groups;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct TimeVal
    {
        public long Seconds;
        public long Microseconds;
    }

    private static unsafe class Native
    {
        [DllImport("libc", EntryPoint = "socket", SetLastError = true)]
        public static extern int Socket(int domain, int type, int protocol);

        [DllImport("libc", EntryPoint = "bind", SetLastError = true)]
        public static extern int Bind(int fd, SockaddrNl* address, int length);

        [DllImport("libc", EntryPoint = "setsockopt", SetLastError = true)]
        public static extern int SetSockOpt(int fd, int level, int name, void* value, int length);

        [DllImport("libc", EntryPoint = "send", SetLastError = true)]
        public static extern nint Send(int fd, byte* buffer, nint length, int flags);

        [DllImport("libc", EntryPoint = "recv", SetLastError = true)]
        public static extern nint Recv(int fd, byte* buffer, nint length, int flags);

        [DllImport("libc", EntryPoint = "close", SetLastError = true)]
        public static extern int Close(int fd);
    }
}

/// <summary>Receives one datagram (valid during the call).</summary>
public delegate void NetlinkDatagramHandler(ReadOnlySpan<byte> datagram);

/// <summary>Receives one message of an answer: its type and payload (valid during the call).</summary>
public delegate void NetlinkPayloadHandler(ushort type, ReadOnlySpan<byte> payload);
