using System.Net;
using System.Runtime.InteropServices;
using VirtNetworkd.NetworkDriver.Backend.Netlink;

namespace VirtNetworkd.Fuzz;

/// <summary>
/// <c>VirtNetworkd.Fuzz netlink-capture DIR</c>: sends <see cref="RtnlRequest"/>'s requests to the
/// kernel of the current network namespace and writes what it answers, datagram by datagram, as
/// netlink target inputs (hex files, fuzz/seeds/netlink/). Run only in a namespace made for it
/// (fuzz/seeds/netlink/capture.sh): it creates a bridge, addresses and a route there.
/// </summary>
public static unsafe class NetlinkCapture
{
    private const int AfNetlink = 16, SockRaw = 3, NetlinkRoute = 0, MsgDontWait = 0x40;
    // RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV4_ROUTE | RTMGRP_IPV6_IFADDR | RTMGRP_IPV6_ROUTE
    private const uint Groups = 0x1 | 0x10 | 0x40 | 0x100 | 0x400;

    public static int Run(string dir)
    {
        Directory.CreateDirectory(dir);
        string kernel = File.ReadAllText("/proc/sys/kernel/osrelease").Trim();
        int listener = Open(Groups);
        int bridge = 0;

        void Save(string name, int mode, string what, List<byte[]> datagrams)
        {
            var lines = new List<string> { $"# {what}", $"# captured from Linux {kernel} by fuzz/seeds/netlink/capture.sh; netlink target input: mode {mode}, then each datagram behind its 2-byte length" };
            byte[] input = NetlinkTarget.Input(mode, [.. datagrams]);
            for (int i = 0; i < input.Length; i += 32) lines.Add(Convert.ToHexString(input, i, Math.Min(32, input.Length - i)).ToLowerInvariant());
            File.WriteAllLines(Path.Combine(dir, name + ".hex"), lines);
            Console.WriteLine($"{name}: {datagrams.Count} datagrams, {input.Length} bytes");
        }

        void Capture(string name, int mode, string what, byte[] request) => Save(name, mode, what, Exchange(request));

        Capture("create-bridge-ack", 0, "RTM_NEWLINK fzbr0 type bridge (create): the acknowledgement", RtnlRequest.CreateBridge(1, "fzbr0", null, 1400, stp: true, 300));
        Capture("create-bridge-eexist", 0, "RTM_NEWLINK fzbr0 again: EEXIST", RtnlRequest.CreateBridge(1, "fzbr0", null, null, null, null));
        var got = Exchange(RtnlRequest.GetLink(1, "fzbr0"));
        Save("get-link-bridge", 1, "RTM_GETLINK fzbr0", got);
        var r = new NetlinkMessageReader(got[0]);
        r.TryRead(out var m);
        bridge = RtnlParse.Link(m.Payload).Index;
        Capture("get-link-enodev", 1, "RTM_GETLINK of a name that does not exist: ENODEV", RtnlRequest.GetLink(1, "fznone"));
        var veth = Exchange(RtnlRequest.GetLink(1, "fzv0"));
        r = new NetlinkMessageReader(veth[0]);
        r.TryRead(out m);
        int vethIndex = RtnlParse.Link(m.Payload).Index;
        Capture("set-master-ack", 0, "enslave fzv0 to fzbr0", RtnlRequest.SetMaster(1, vethIndex, bridge));
        Capture("set-port-flags-ack", 0, "fzv0: bridge port learning and flooding off", RtnlRequest.SetPortLearningAndFlood(1, vethIndex, false, false));
        Capture("set-up-ack", 0, "fzbr0 up", RtnlRequest.SetUp(1, bridge, true));
        Capture("add-address4-ack", 0, "192.168.150.1/24 on fzbr0", RtnlRequest.AddAddress(1, bridge, IPAddress.Parse("192.168.150.1"), 24, IPAddress.Parse("192.168.150.255")));
        Capture("add-address6-ack", 0, "fd00:150::1/64 on fzbr0", RtnlRequest.AddAddress(1, bridge, IPAddress.Parse("fd00:150::1"), 64, null));
        Capture("add-route-ack", 0, "10.150.0.0/16 via 192.168.150.2 metric 7", RtnlRequest.AddRoute(1, IPAddress.Parse("10.150.0.0"), 16, IPAddress.Parse("192.168.150.2"), bridge, 7));
        Capture("add-route-eexist", 0, "the same route again: EEXIST", RtnlRequest.AddRoute(1, IPAddress.Parse("10.150.0.0"), 16, IPAddress.Parse("192.168.150.2"), bridge, 7));
        Capture("dump-links", 2, "RTM_GETLINK dump", RtnlRequest.DumpLinks(1));
        Capture("dump-addresses4", 3, "RTM_GETADDR dump, AF_INET", RtnlRequest.DumpAddresses(1, Nl.AfInet));
        Capture("dump-addresses6", 3, "RTM_GETADDR dump, AF_INET6", RtnlRequest.DumpAddresses(1, Nl.AfInet6));
        Capture("dump-routes4", 4, "RTM_GETROUTE dump, AF_INET", RtnlRequest.DumpRoutes(1, Nl.AfInet));
        Capture("dump-routes6", 4, "RTM_GETROUTE dump, AF_INET6", RtnlRequest.DumpRoutes(1, Nl.AfInet6));
        Capture("delete-link-ack", 0, "delete fzbr0", RtnlRequest.DeleteLink(1, bridge));
        Save("notifications", 5, "what a listener on RTMGRP_LINK, IPV4/IPV6_IFADDR and IPV4/IPV6_ROUTE received meanwhile", Drain(listener));
        Close(listener);
        return 0;
    }

    /// <summary>One request on a fresh socket (so its sequence 1 is the one the target expects),
    /// and every datagram until its answer is complete.</summary>
    private static List<byte[]> Exchange(byte[] request)
    {
        int fd = Open(0);
        try
        {
            fixed (byte* p = request)
                if (Send(fd, p, request.Length, 0) < 0) throw new IOException($"send: errno {Marshal.GetLastPInvokeError()}");
            bool dump = (BitConverter.ToUInt16(request, 6) & Nl.FDump) == Nl.FDump;
            bool wantsAnswer = BitConverter.ToUInt16(request, 4) is Nl.GetLink or Nl.GetAddr or Nl.GetRoute;
            var datagrams = new List<byte[]>();
            byte[] buffer = new byte[64 * 1024];
            while (true)
            {
                nint n;
                fixed (byte* p = buffer) n = Recv(fd, p, buffer.Length, 0);
                if (n < 0) throw new IOException($"recv: errno {Marshal.GetLastPInvokeError()}");
                datagrams.Add(buffer[..(int)n]);
                try
                {
                    if (NetlinkAnswer.Read(buffer.AsSpan(0, (int)n), 1, dump, "capture", wantsAnswer ? (_, _) => { } : null)) return datagrams;
                }
                catch (NetlinkErrorException)
                {
                    return datagrams;
                }
            }
        }
        finally
        {
            Close(fd);
        }
    }

    private static List<byte[]> Drain(int fd)
    {
        var datagrams = new List<byte[]>();
        byte[] buffer = new byte[64 * 1024];
        while (true)
        {
            nint n;
            fixed (byte* p = buffer) n = Recv(fd, p, buffer.Length, MsgDontWait);
            if (n <= 0) return datagrams;
            datagrams.Add(buffer[..(int)n]);
        }
    }

    private static int Open(uint groups)
    {
        int fd = Socket(AfNetlink, SockRaw, NetlinkRoute);
        if (fd < 0) throw new IOException($"socket: errno {Marshal.GetLastPInvokeError()}");
        var address = new SockaddrNl { Family = AfNetlink, Groups = groups };
        if (Bind(fd, &address, sizeof(SockaddrNl)) != 0) throw new IOException($"bind: errno {Marshal.GetLastPInvokeError()}");
        return fd;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct SockaddrNl
    {
        public ushort Family;
        public ushort Pad;
        public uint Pid;
        public uint Groups;
    }

    [DllImport("libc", EntryPoint = "socket", SetLastError = true)]
    private static extern int Socket(int domain, int type, int protocol);

    [DllImport("libc", EntryPoint = "bind", SetLastError = true)]
    private static extern int Bind(int fd, SockaddrNl* address, int length);

    [DllImport("libc", EntryPoint = "send", SetLastError = true)]
    private static extern nint Send(int fd, byte* buffer, nint length, int flags);

    [DllImport("libc", EntryPoint = "recv", SetLastError = true)]
    private static extern nint Recv(int fd, byte* buffer, nint length, int flags);

    [DllImport("libc", EntryPoint = "close", SetLastError = true)]
    private static extern int Close(int fd);
}
