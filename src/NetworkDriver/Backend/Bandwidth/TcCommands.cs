using System.Globalization;
using VirtNetworkd.Errors;
using VirtNetworkd.NetworkDriver.Xml;
using VirtNetworkd.NetworkDriver.Xml.Net;

namespace VirtNetworkd.NetworkDriver.Backend.Bandwidth;

/// <summary>
/// One <c>tc</c> run, as libvirt's virCommand would make it; <see cref="IgnoreExitStatus"/> where
/// libvirt passes an exit-status pointer and looks no further (virNetDevBandwidthClear, Unplug).
/// </summary>
public sealed record TcCommand(IReadOnlyList<string> Args, bool IgnoreExitStatus = false)
{
    public override string ToString() => "tc " + string.Join(' ', Args);
}

/// <summary>
/// The tc commands of libvirt 10.8's virnetdevbandwidth.c, in its order: virNetDevBandwidthSet
/// (always clearing first: the CLEAR_ALL flag and the "qdisc show handle 1:" probe came in 10.10),
/// Clear, Plug, Unplug and UpdateRate. Pure: nothing runs here (see <see cref="TcRunner"/>).
/// </summary>
public static class TcCommands
{
    private static string U(ulong v) => v.ToString(CultureInfo.InvariantCulture);

    /// <summary>virNetDevBandwidthCmdAddOptimalQuantum: rate/MTU in bytes, at least 1, at most UINT32_MAX.</summary>
    private static string Quantum(BandwidthRate rate)
    {
        ulong r2q = rate.Average * 1024 / 8 / 1500;
        if (r2q == 0) r2q = 1;
        return U(Math.Min(r2q, uint.MaxValue));
    }

    private static TcCommand Cmd(params string[] args) => new(args);

    /// <summary>virNetDevBandwidthClear: the root and ingress qdiscs go, whatever tc says.</summary>
    public static IReadOnlyList<TcCommand> Clear(string ifname) =>
    [
        new(["qdisc", "del", "dev", ifname, "root"], IgnoreExitStatus: true),
        new(["qdisc", "del", "dev", ifname, "ingress"], IgnoreExitStatus: true),
    ];

    /// <summary>
    /// virNetDevBandwidthSet(ifname, bandwidth, hierarchical_class, swapped): <see cref="Clear"/>,
    /// <see cref="Root"/>, <see cref="Ingress"/>. A network's bridge (the one a virtual network
    /// creates, or the host bridge of forward mode 'bridge') gets (bridge, def.Bandwidth, true, true): inbound (to the guests) shapes the bridge's
    /// transmit side with HTB, outbound is policed on its ingress.
    /// </summary>
    public static IReadOnlyList<TcCommand> Set(string? ifname, BandwidthDef? bandwidth, bool hierarchicalClass, bool swapped)
    {
        if (bandwidth is null) return [];
        string dev = Device(ifname);
        return [.. Clear(dev), .. Root(dev, bandwidth, hierarchicalClass, swapped), .. Ingress(dev, bandwidth, swapped)];
    }

    private static string Device(string? ifname) => ifname ?? throw new LibvirtError(VirErrorCode.OperationUnsupported, VirErrorDomain.None,
        "Unable to set bandwidth for interface because device name is unknown");

    /// <summary>The transmit half of virNetDevBandwidthSet: the root HTB qdisc, its classes, the sfq and the fw filter (nothing without an average).</summary>
    public static IReadOnlyList<TcCommand> Root(string ifname, BandwidthDef bandwidth, bool hierarchicalClass, bool swapped)
    {
        ArgumentNullException.ThrowIfNull(bandwidth);
        BandwidthRate? tx = swapped ? bandwidth.Inbound : bandwidth.Outbound;
        if (tx is not { Average: not 0 }) return [];
        string average = U(tx.Average) + "kbps";
        string? peak = tx.Peak != 0 ? U(tx.Peak) + "kbps" : null;
        string? burst = tx.Burst != 0 ? U(tx.Burst) + "kb" : null;
        var cmds = new List<TcCommand>
        {
            Cmd("qdisc", "add", "dev", ifname, "root", "handle", "1:", "htb", "default", hierarchicalClass ? "2" : "1"),
        };
        if (hierarchicalClass)
            cmds.Add(Cmd("class", "add", "dev", ifname, "parent", "1:", "classid", "1:1", "htb", "rate", average,
                "ceil", peak ?? average, "quantum", Quantum(tx)));
        var leaf = new List<string> { "class", "add", "dev", ifname, "parent", hierarchicalClass ? "1:1" : "1:",
            "classid", hierarchicalClass ? "1:2" : "1:1", "htb", "rate", average };
        if (peak is not null) leaf.AddRange(["ceil", peak]);
        if (burst is not null) leaf.AddRange(["burst", burst]);
        leaf.AddRange(["quantum", Quantum(tx)]);
        cmds.Add(new TcCommand(leaf));
        cmds.Add(Cmd("qdisc", "add", "dev", ifname, "parent", hierarchicalClass ? "1:2" : "1:1", "handle", "2:", "sfq", "perturb", "10"));
        cmds.Add(Cmd("filter", "add", "dev", ifname, "parent", "1:0", "protocol", "all", "prio", "1", "handle", "1", "fw", "flowid", "1"));
        return cmds;
    }

    /// <summary>The receive half of virNetDevBandwidthSet: the ingress qdisc and its police filter.</summary>
    public static IReadOnlyList<TcCommand> Ingress(string ifname, BandwidthDef bandwidth, bool swapped)
    {
        ArgumentNullException.ThrowIfNull(bandwidth);
        BandwidthRate? rx = swapped ? bandwidth.Outbound : bandwidth.Inbound;
        if (rx is null) return [];
        string average = U(rx.Average) + "kbps";
        // tc keeps the burst in a u32 of bytes; libvirt's default is the average, capped to fit
        string burst = U(rx.Burst != 0 ? rx.Burst : Math.Min(rx.Average, uint.MaxValue / 1024)) + "kb";
        return
        [
            Cmd("qdisc", "add", "dev", ifname, "ingress"),
            Cmd("filter", "add", "dev", ifname, "parent", "ffff:", "protocol", "all", "u32", "match", "u32", "0", "0",
                "police", "rate", average, "burst", burst, "mtu", "64kb", "drop", "flowid", ":1"),
        ];
    }

    /// <summary>The class id tc knows a port's class by: 1:(id in hex).</summary>
    public static string ClassId(uint id) => "1:" + id.ToString("x", CultureInfo.InvariantCulture);

    private static string FilterId(uint id) => "800::" + (800 + id).ToString(CultureInfo.InvariantCulture);

    private static void CheckId(uint id)
    {
        if (id <= 2) throw new LibvirtError(VirErrorCode.InternalError, VirErrorDomain.None, $"Invalid class ID {id}");
    }

    private static string Ceil(BandwidthRate netIn) => U(netIn.Peak != 0 ? netIn.Peak : netIn.Average) + "kbps";

    /// <summary>virNetDevBandwidthPlug: the port's class (its floor as rate) under 1:1, its sfq, and the u32 filter on its MAC.</summary>
    public static IReadOnlyList<TcCommand> Plug(string bridge, BandwidthDef? netBandwidth, MacAddr mac, BandwidthDef portBandwidth, uint id)
    {
        ArgumentNullException.ThrowIfNull(portBandwidth);
        CheckId(id);
        if (netBandwidth?.Inbound is not { } netIn)
            throw new LibvirtError(VirErrorCode.ConfigUnsupported, VirErrorDomain.None,
                $"Bridge '{bridge}' has no QoS set, therefore unable to set 'floor' on '{mac}'");
        BandwidthRate portIn = portBandwidth.Inbound ?? new BandwidthRate();
        string classId = ClassId(id);
        byte[] m = mac.GetBytes();
        return
        [
            Cmd("class", "add", "dev", bridge, "parent", "1:1", "classid", classId, "htb", "rate", U(portIn.Floor) + "kbps",
                "ceil", Ceil(netIn), "quantum", Quantum(portIn)),
            Cmd("qdisc", "add", "dev", bridge, "parent", classId, "handle", id.ToString("x", CultureInfo.InvariantCulture) + ":", "sfq", "perturb", "10"),
            Cmd("filter", "add", "dev", bridge, "protocol", "ip", "prio", "2", "handle", FilterId(id), "u32",
                "match", "u16", "0x0800", "0xffff", "at", "-2",
                "match", "u32", $"0x{m[2]:x2}{m[3]:x2}{m[4]:x2}{m[5]:x2}", "0xffffffff", "at", "-12",
                "match", "u16", $"0x{m[0]:x2}{m[1]:x2}", "0xffff", "at", "-14",
                "flowid", classId),
        ];
    }

    /// <summary>virNetDevBandwidthUnplug: the port's sfq, filter and class; tc's complaints do not stop it.</summary>
    public static IReadOnlyList<TcCommand> Unplug(string bridge, uint id)
    {
        CheckId(id);
        return
        [
            new(["qdisc", "del", "dev", bridge, "handle", id.ToString("x", CultureInfo.InvariantCulture) + ":"], IgnoreExitStatus: true),
            new(["filter", "del", "dev", bridge, "prio", "2", "handle", FilterId(id), "u32"], IgnoreExitStatus: true),
            new(["class", "del", "dev", bridge, "classid", ClassId(id)], IgnoreExitStatus: true),
        ];
    }

    /// <summary>virNetDevBandwidthUpdateRate: class 1:id gets a new rate (the ceiling stays the network's).</summary>
    public static IReadOnlyList<TcCommand> UpdateRate(string ifname, uint id, BandwidthDef netBandwidth, ulong rate)
    {
        ArgumentNullException.ThrowIfNull(netBandwidth);
        BandwidthRate netIn = netBandwidth.Inbound ?? new BandwidthRate();
        return
        [
            Cmd("class", "change", "dev", ifname, "classid", ClassId(id), "htb", "rate", U(rate) + "kbps",
                "ceil", Ceil(netIn), "quantum", Quantum(netIn)),
        ];
    }
}
