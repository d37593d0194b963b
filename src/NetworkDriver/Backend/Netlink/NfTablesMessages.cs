using System.Buffers.Binary;

namespace VirtNetworkd.NetworkDriver.Backend.Netlink;

/// <summary>The numbers of linux/netfilter/nfnetlink.h and nf_tables.h we use.</summary>
public static class Nft
{
    public const int NetlinkNetfilter = 12;

    /// <summary>NFNLGRP_NFTABLES: the multicast group of nf_tables' change notifications.</summary>
    public const uint GroupNfTables = 7;

    public const byte SubsysNfTables = 10;
    public const int NfGenMsgSize = 4;

    // NFT_MSG_*
    public const byte NewTable = 0, NewChain = 3, NewRule = 6, GetRule = 7, NewGen = 15, GetGen = 16;

    // NFPROTO_*
    public const byte FamilyInet = 1, FamilyIpv4 = 2, FamilyArp = 3, FamilyNetdev = 5, FamilyBridge = 7, FamilyIpv6 = 10;

    // NFTA_TABLE_*, NFTA_CHAIN_*, NFTA_RULE_*, NFTA_GEN_*
    public const ushort TableName = 1, TableHandle = 4;
    public const ushort ChainTable = 1, ChainHandle = 2, ChainName = 3;
    public const ushort RuleTable = 1, RuleChain = 2, RuleHandle = 3;
    public const ushort GenId = 1, GenProcPid = 2;

    /// <summary>The nlmsg_type of an nf_tables message.</summary>
    public static ushort Type(byte message) => (ushort)((SubsysNfTables << 8) | message);

    /// <summary>nft's family keyword as NFPROTO_*; null for a word that is none.</summary>
    public static byte? Family(string keyword) => keyword switch
    {
        "ip" => FamilyIpv4,
        "ip6" => FamilyIpv6,
        "inet" => FamilyInet,
        "arp" => FamilyArp,
        "bridge" => FamilyBridge,
        "netdev" => FamilyNetdev,
        _ => null,
    };
}

/// <summary>What a notification (or a dump answer) of nf_tables says, as far as we read it.</summary>
public enum NfTablesObject { Other, Table, Chain, Rule, Generation }

/// <summary>
/// One nf_tables message: the object it is about, its family and the socket (port id) whose
/// request caused it; table, chain and handle for tables, chains and rules; for the message
/// that closes a transaction (NFT_MSG_NEWGEN) the new generation and the committing thread's id.
/// </summary>
public sealed record NfTablesNotice(NfTablesObject Object, byte Family, uint PortId, string? Table = null, string? Chain = null,
    ulong Handle = 0, uint Generation = 0, int ProcessId = 0);

/// <summary>Requests to nf_tables and the reading of what it sends, apart from any socket.</summary>
public static class NfTablesMessages
{
    /// <summary>NFT_MSG_GETGEN: the ruleset's current generation (answered by one NFT_MSG_NEWGEN).</summary>
    public static byte[] GetGeneration(uint sequence) =>
        new NetlinkWriter(Nft.Type(Nft.GetGen), Nl.FRequest, sequence).NfGen(Nl.AfUnspec).ToArray();

    /// <summary>NFT_MSG_GETRULE dump of one table's rules.</summary>
    public static byte[] DumpRules(uint sequence, byte family, string table) =>
        new NetlinkWriter(Nft.Type(Nft.GetRule), Nl.FRequest | Nl.FDump, sequence).NfGen(family)
            .AttrString(Nft.RuleTable, table).ToArray();

    /// <summary>Reads one nf_tables message (its type and payload); null for another subsystem's.</summary>
    public static NfTablesNotice? Read(ushort type, uint portId, ReadOnlySpan<byte> payload)
    {
        if (type >> 8 != Nft.SubsysNfTables) return null;
        if (payload.Length < Nft.NfGenMsgSize) throw new NetlinkFormatException($"nf_tables message {type} without its nfgenmsg");
        byte family = payload[0];
        var kind = (type & 0xff) switch
        {
            Nft.NewTable => NfTablesObject.Table,
            Nft.NewChain => NfTablesObject.Chain,
            Nft.NewRule => NfTablesObject.Rule,
            Nft.NewGen => NfTablesObject.Generation,
            _ => NfTablesObject.Other,
        };
        string? table = null, chain = null;
        ulong handle = 0;
        uint generation = 0;
        int pid = 0;
        var attrs = new NetlinkAttributeReader(payload[Nft.NfGenMsgSize..]);
        while (attrs.TryRead(out var a))
        {
            switch (kind, a.Type)
            {
                case (NfTablesObject.Table, Nft.TableName): table = a.String; break;
                case (NfTablesObject.Table, Nft.TableHandle): handle = U64(a); break;
                case (NfTablesObject.Chain, Nft.ChainTable): table = a.String; break;
                case (NfTablesObject.Chain, Nft.ChainName): chain = a.String; break;
                case (NfTablesObject.Chain, Nft.ChainHandle): handle = U64(a); break;
                case (NfTablesObject.Rule, Nft.RuleTable): table = a.String; break;
                case (NfTablesObject.Rule, Nft.RuleChain): chain = a.String; break;
                case (NfTablesObject.Rule, Nft.RuleHandle): handle = U64(a); break;
                case (NfTablesObject.Generation, Nft.GenId): generation = U32(a); break;
                case (NfTablesObject.Generation, Nft.GenProcPid): pid = (int)U32(a); break;
            }
        }
        return new NfTablesNotice(kind, family, portId, table, chain, handle, generation, pid);
    }

    /// <summary>Every nf_tables message of a datagram, in order, appended to <paramref name="into"/>.</summary>
    public static void ReadAll(ReadOnlySpan<byte> datagram, List<NfTablesNotice> into)
    {
        ArgumentNullException.ThrowIfNull(into);
        var reader = new NetlinkMessageReader(datagram);
        while (reader.TryRead(out var m))
            if (Read(m.Type, m.PortId, m.Payload) is { } n) into.Add(n);
    }

    /// <summary>
    /// The notifications of the transaction the thread <paramref name="threadId"/> committed, in
    /// the transaction's order: the kernel sends a transaction's notifications together, under its
    /// commit lock, and closes them with NFT_MSG_NEWGEN naming the committing thread; of what came
    /// before that, only the messages of the same netlink socket are the transaction's (a listener
    /// that joined late can see the tail of an earlier one). Null when no such transaction was seen.
    /// </summary>
    public static IReadOnlyList<NfTablesNotice>? Transaction(IReadOnlyList<NfTablesNotice> notices, int threadId)
    {
        ArgumentNullException.ThrowIfNull(notices);
        int start = 0;
        for (int i = 0; i < notices.Count; i++)
        {
            if (notices[i].Object != NfTablesObject.Generation) continue;
            if (notices[i].ProcessId == threadId)
            {
                uint port = notices[i].PortId;
                var ours = new List<NfTablesNotice>();
                for (int k = start; k < i; k++)
                    if (notices[k].PortId == port) ours.Add(notices[k]);
                return ours;
            }
            start = i + 1;
        }
        return null;
    }

    private static uint U32(NetlinkAttribute a) =>
        a.Value.Length >= 4 ? BinaryPrimitives.ReadUInt32BigEndian(a.Value) : throw new NetlinkFormatException($"attribute {a.Type}: no be32");

    private static ulong U64(NetlinkAttribute a) =>
        a.Value.Length >= 8 ? BinaryPrimitives.ReadUInt64BigEndian(a.Value) : throw new NetlinkFormatException($"attribute {a.Type}: no be64");
}
