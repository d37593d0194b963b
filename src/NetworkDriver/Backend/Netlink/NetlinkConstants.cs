namespace VirtNetworkd.NetworkDriver.Backend.Netlink;

/// <summary>The numbers of linux/netlink.h and linux/rtnetlink.h (and if_link.h, if_addr.h) we use.</summary>
public static class Nl
{
    public const int AfUnspec = 0, AfInet = 2, AfBridge = 7, AfInet6 = 10;

    // nlmsghdr
    public const int HeaderSize = 16;
    public const ushort Noop = 1, Error = 2, Done = 3;
    public const ushort FRequest = 0x1, FMulti = 0x2, FAck = 0x4, FDump = 0x300;
    public const ushort FReplace = 0x100, FExcl = 0x200, FCreate = 0x400;

    // multicast groups (RTMGRP_* bits for sockaddr_nl.nl_groups)
    public const uint GroupLink = 1;

    // rtnetlink message types
    public const ushort NewLink = 16, DelLink = 17, GetLink = 18, SetLink = 19;
    public const ushort NewAddr = 20, DelAddr = 21, GetAddr = 22;
    public const ushort NewRoute = 24, DelRoute = 25, GetRoute = 26;

    // struct sizes
    public const int IfInfoSize = 16, IfAddrSize = 8, RtMsgSize = 12, AttrHeaderSize = 4;
    public const ushort AttrNested = 0x8000;

    // IFLA_*
    public const ushort IflaAddress = 1, IflaBroadcast = 2, IflaIfName = 3, IflaMtu = 4, IflaLink = 5,
        IflaMaster = 10, IflaProtInfo = 12, IflaLinkInfo = 18, IflaInfoKind = 1, IflaInfoData = 2;

    // IFLA_BR_* (bridge attributes inside IFLA_INFO_DATA)
    public const ushort IflaBrForwardDelay = 1, IflaBrStpState = 5, IflaBrVlanFiltering = 7;

    // IFLA_BRPORT_* (inside IFLA_PROTINFO, family AF_BRIDGE)
    public const ushort IflaBrportLearning = 8, IflaBrportUnicastFlood = 9;

    public const uint IffUp = 0x1;

    // IFA_*
    public const ushort IfaAddress = 1, IfaLocal = 2, IfaBroadcast = 4;

    // RTA_* and rtmsg values
    public const ushort RtaDst = 1, RtaOif = 4, RtaGateway = 5, RtaPriority = 6, RtaTable = 15;
    public const byte RtTableMain = 254, RtProtBoot = 3, RtProtStatic = 4, RtScopeUniverse = 0, RtScopeLink = 253, RtnUnicast = 1;

    /// <summary>NLMSG_ALIGN / NLA_ALIGN: 4 bytes.</summary>
    public static int Align(int n) => (n + 3) & ~3;
}
