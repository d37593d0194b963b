using System.Buffers.Binary;
using VirtNetworkd.NetworkDriver.Backend;
using VirtNetworkd.NetworkDriver.Backend.Firewall;
using VirtNetworkd.NetworkDriver.Backend.Netlink;
using VirtNetworkd.NetworkDriver.Xml;

namespace VirtNetworkd.NetworkDriver.Tests.Firewall;

/// <summary>
/// The echo of a network start's nft batch made from nf_tables' notifications: the reading of
/// the notifications (bytes as the kernel sends them), the finding of our transaction among
/// others', and the one-to-one match of commands and notifications. The kernel side is in
/// Integration.Tests' NftNoticeEchoKernelTests.
/// </summary>
[TestFixture]
public sealed class NftNoticeEchoTests
{
    private const uint OurPort = 4242, OtherPort = 77;
    private const int OurThread = 1234;

    private static byte[] Be32(uint v) { var b = new byte[4]; BinaryPrimitives.WriteUInt32BigEndian(b, v); return b; }

    private static byte[] Be64(ulong v) { var b = new byte[8]; BinaryPrimitives.WriteUInt64BigEndian(b, v); return b; }

    /// <summary>A notification as nf_tables sends it: nlmsghdr (with the causing socket's port id), nfgenmsg, attributes.</summary>
    private static byte[] Notice(byte message, byte family, uint port, Action<NetlinkWriter> attrs)
    {
        var w = new NetlinkWriter(Nft.Type(message), 0, 1).NfGen(family);
        attrs(w);
        byte[] m = w.ToArray();
        BinaryPrimitives.WriteUInt32LittleEndian(m.AsSpan(12), port);
        return m;
    }

    private static byte[] Rule(byte family, string chain, ulong handle, uint port = OurPort) => Notice(Nft.NewRule, family, port, w => w
        .AttrString(Nft.RuleTable, "libvirt_network").AttrString(Nft.RuleChain, chain).Attr(Nft.RuleHandle, Be64(handle)));

    private static byte[] Chain(byte family, string chain, ulong handle, uint port = OurPort) => Notice(Nft.NewChain, family, port, w => w
        .AttrString(Nft.ChainTable, "libvirt_network").Attr(Nft.ChainHandle, Be64(handle)).AttrString(Nft.ChainName, chain));

    private static byte[] Table(byte family, ulong handle, uint port = OurPort) => Notice(Nft.NewTable, family, port, w => w
        .AttrString(Nft.TableName, "libvirt_network").Attr(Nft.TableHandle, Be64(handle)));

    private static byte[] Gen(uint id, int thread, uint port = OurPort) => Notice(Nft.NewGen, 0, port, w => w
        .Attr(Nft.GenId, Be32(id)).Attr(Nft.GenProcPid, Be32((uint)thread)).AttrString(3, "virtnetworkd"));

    private static List<NfTablesNotice> Read(params byte[][] datagrams)
    {
        var notices = new List<NfTablesNotice>();
        foreach (byte[] d in datagrams) NfTablesMessages.ReadAll(d, notices);
        return notices;
    }

    [Test]
    public void NotificationsAreReadAsTheKernelWritesThem()
    {
        // several messages in one datagram, as nf_tables batches its notifications
        var notices = Read([.. Table(Nft.FamilyIpv4, 3), .. Chain(Nft.FamilyIpv4, "guest_nat", 9), .. Rule(Nft.FamilyIpv6, "guest_input", 0x1_0000_0002)],
            Gen(51, OurThread));
        Assert.That(notices, Is.EqualTo(new[]
        {
            new NfTablesNotice(NfTablesObject.Table, Nft.FamilyIpv4, OurPort, "libvirt_network", null, 3),
            new NfTablesNotice(NfTablesObject.Chain, Nft.FamilyIpv4, OurPort, "libvirt_network", "guest_nat", 9),
            new NfTablesNotice(NfTablesObject.Rule, Nft.FamilyIpv6, OurPort, "libvirt_network", "guest_input", 0x1_0000_0002),
            new NfTablesNotice(NfTablesObject.Generation, 0, OurPort, Generation: 51, ProcessId: OurThread),
        }));
        // another subsystem's message is not ours; a message cut short is refused
        Assert.That(NfTablesMessages.Read(16, 0, new byte[16]), Is.Null);
        Assert.That(() => NfTablesMessages.Read(Nft.Type(Nft.NewRule), 0, new byte[2]), Throws.TypeOf<NetlinkFormatException>());
    }

    [Test]
    public void OurTransactionIsTheOneClosedByOurThreadAndHoldsOnlyOurSocketsMessages()
    {
        var notices = Read(
            Rule(Nft.FamilyIpv4, "x", 90, OtherPort),           // the tail of someone's transaction, joined late
            Rule(Nft.FamilyIpv4, "guest_output", 10),
            Rule(Nft.FamilyIpv4, "guest_input", 11),
            Gen(8, OurThread),
            Rule(Nft.FamilyIpv4, "y", 91, OtherPort),           // someone's next transaction
            Gen(9, 999, OtherPort));
        var ours = NfTablesMessages.Transaction(notices, OurThread)!;
        Assert.That(ours.Select(n => n.Handle), Is.EqualTo(new ulong[] { 10, 11 }));

        // a whole foreign transaction before ours is skipped even with a reused port id
        notices = Read(Rule(Nft.FamilyIpv4, "x", 90), Gen(7, 999), Rule(Nft.FamilyIpv4, "guest_output", 12), Gen(8, OurThread));
        Assert.That(NfTablesMessages.Transaction(notices, OurThread)!.Select(n => n.Handle), Is.EqualTo(new ulong[] { 12 }));
        Assert.That(NfTablesMessages.Transaction(notices, 4321), Is.Null, "no transaction of that thread");
    }

    private static string StartScript()
    {
        NetworkDef def = NetworkXml.Parse("""
            <network><name>default</name><bridge name="virbr0"/><forward/>
              <ip address="192.168.122.1" netmask="255.255.255.0"/><ip family="ipv6" address="2001:db8:ca2:2::1" prefix="64"/></network>
            """);
        FirewallRuleSet set = FirewallRulesGenerator.Build(def, FirewallBackendType.Nftables);
        var chains = PrivateChains.Create(FirewallBackendType.Nftables, FirewallLayer.Ipv4, [null, null]);
        return FirewallBatch.Nft([.. chains, .. set.Groups[0].Rules.Select(r => r.Add)]);
    }

    [Test]
    public void AStartsBatchIsReadAsOneAddCommandPerLine()
    {
        string script = StartScript();
        var commands = NftNoticeEcho.Commands(script)!;
        Assert.That(commands, Has.Count.EqualTo(script.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length));
        Assert.That(commands[0], Is.EqualTo(new NftAddCommand("add table ip libvirt_network", NfTablesObject.Table, Nft.FamilyIpv4, "libvirt_network", null)));
        Assert.That(commands[1].Object, Is.EqualTo(NfTablesObject.Chain));
        Assert.That(commands[1].Chain, Is.EqualTo("forward"), "a base chain's { type …; policy …; } is part of its one command");
        Assert.That(commands.Where(c => c.Object == NfTablesObject.Rule).Select(c => c.Family).Distinct(), Is.EquivalentTo(new[] { Nft.FamilyIpv4, Nft.FamilyIpv6 }));
        Assert.That(commands.Last(), Is.EqualTo(new NftAddCommand(script.Split('\n', StringSplitOptions.RemoveEmptyEntries).Last(),
            NfTablesObject.Rule, Nft.FamilyIpv6, "libvirt_network", commands.Last().Chain)));
    }

    [TestCase("delete rule ip libvirt_network guest_nat handle 5")]
    [TestCase("flush ruleset")]
    [TestCase("add rule ip libvirt_network guest_nat counter; add rule ip libvirt_network guest_nat counter")]
    [TestCase("add rule libvirt_network guest_nat counter")]
    [TestCase("add element ip libvirt_network s { 1.2.3.4 }")]
    [TestCase("add table ip libvirt_network { flags dormant; }")]
    [TestCase("add rule ip libvirt_network \"guest nat\" counter")]
    [TestCase("# a comment")]
    public void AnythingButOneAddPerLineIsLeftToNftsOwnEcho(string line)
    {
        Assert.That(NftNoticeEcho.Commands("add rule ip libvirt_network guest_nat counter accept\n" + line + "\n"), Is.Null);
    }

    [Test]
    public void TheEchoPairsEachCommandWithItsNotificationAndParsesAsNftsEcho()
    {
        var commands = NftNoticeEcho.Commands("add table ip t\nadd chain ip t c { type nat hook postrouting priority 100; policy accept; }\n"
                                              + "insert rule ip t c counter accept\nadd rule ip6 t d oif \"vb0\" counter\n")!;
        var notices = new[]
        {
            new NfTablesNotice(NfTablesObject.Table, Nft.FamilyIpv4, OurPort, "t", null, 1),
            new NfTablesNotice(NfTablesObject.Chain, Nft.FamilyIpv4, OurPort, "t", "c", 2),
            new NfTablesNotice(NfTablesObject.Rule, Nft.FamilyIpv4, OurPort, "t", "c", 3),
            new NfTablesNotice(NfTablesObject.Rule, Nft.FamilyIpv6, OurPort, "t", "d", 40),
        };
        string echo = NftNoticeEcho.Echo(commands, notices)!;
        Assert.That(echo, Does.EndWith("add rule ip6 t d oif \"vb0\" counter # handle 40\n"));
        Assert.That(FirewallBatch.ParseEcho(echo), Is.EqualTo(new[]
        {
            new NftEcho("add", "table", "ip", 1), new NftEcho("add", "chain", "ip", 2),
            new NftEcho("insert", "rule", "ip", 3), new NftEcho("add", "rule", "ip6", 40),
        }));

        // anything that does not pair up gives no echo: the handles cannot be told
        Assert.That(NftNoticeEcho.Echo(commands, notices[..3]), Is.Null, "one missing");
        Assert.That(NftNoticeEcho.Echo(commands, [notices[0], notices[1], notices[3], notices[2]]), Is.Null, "out of order");
        Assert.That(NftNoticeEcho.Echo(commands, [.. notices[..3], notices[3] with { Chain = "e" }]), Is.Null, "another chain");
        Assert.That(NftNoticeEcho.Echo(commands, [.. notices[..3], notices[3] with { Family = Nft.FamilyIpv4 }]), Is.Null, "another family");
        Assert.That(NftNoticeEcho.Echo(commands, [.. notices[..3], notices[3] with { Object = NfTablesObject.Chain }]), Is.Null, "another kind");
    }
}
