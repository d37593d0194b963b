namespace VirtNetworkd.NetworkDriver.Backend.Netlink;

/// <summary>
/// What the firewall watch asks nf_tables directly, in the calling thread's network namespace:
/// the ruleset's generation (it changes with every committed transaction) and the handles of a
/// table's rules, read from a rule dump without turning thousands of rules back into text as
/// libnftables' listing does.
/// </summary>
public static class NfTablesClient
{
    /// <summary>The current generation (NFT_MSG_GETGEN).</summary>
    public static uint Generation()
    {
        using var socket = NetlinkSocket.OpenProtocol(Nft.NetlinkNetfilter);
        uint generation = 0;
        socket.Query(NfTablesMessages.GetGeneration(socket.NextSequence()), "nf_tables GETGEN", (type, payload) =>
        {
            if (NfTablesMessages.Read(type, 0, payload) is { Object: NfTablesObject.Generation } g) generation = g.Generation;
        });
        return generation;
    }

    /// <summary>The handles of the rules of table <paramref name="table"/> of
    /// <paramref name="family"/> (NFPROTO_*); empty when there is no such table.</summary>
    public static HashSet<ulong> RuleHandles(byte family, string table)
    {
        using var socket = NetlinkSocket.OpenProtocol(Nft.NetlinkNetfilter);
        var handles = new HashSet<ulong>();
        socket.Query(NfTablesMessages.DumpRules(socket.NextSequence(), family, table), "nf_tables GETRULE", (type, payload) =>
        {
            if (NfTablesMessages.Read(type, 0, payload) is { Object: NfTablesObject.Rule } r && r.Table == table) handles.Add(r.Handle);
        });
        return handles;
    }
}
