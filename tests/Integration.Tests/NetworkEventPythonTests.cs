using VirtNetworkd.Protocol.Framing;
using VirtNetworkd.Protocol.Remote;

namespace VirtNetworkd.Integration.Tests;

/// <summary>
/// Network events through python3-libvirt's default event loop (python/network_events.py), on our
/// daemon and on the reference; metadata-change events, which Debian 12's 9.0 bindings cannot ask
/// for, over the raw protocol.
/// </summary>
public class NetworkEventPythonTests : DaemonFixture
{
    private static Tools.Result RunScript(string uri, string prefix)
    {
        var r = Tools.PythonScript("network_events.py", [uri, prefix, "182"]);
        Assert.That(r.ExitCode, Is.Zero, r.ToString());
        return r;
    }

    private static string[] Callback(Tools.Result r, string tag) =>
        r.Stdout.Split('\n').Where(l => l.StartsWith(tag + " ", StringComparison.Ordinal)).ToArray();

    [Test]
    public void LifecycleEventsForAllNetworksAndForOne()
    {
        string prefix = "vdev" + Guid.NewGuid().ToString("N")[..4];
        var ours = RunScript(Daemon.Uri, prefix);
        Assert.That(Callback(ours, "all"), Is.EqualTo(new[]
        {
            "all a Defined 0", "all a Started 0", "all b Started 0", "all a Stopped 0", "all a Undefined 0",
            "all b Stopped 0", "all b Undefined 0", "all b Started 0", "all b Stopped 0",
        }), ours.Stdout);
        Assert.That(Callback(ours, "one"), Is.EqualTo(new[] { "one b Started 0", "one b Stopped 0", "one b Undefined 0" }), ours.Stdout);
        bool bindingsHaveMetadata = !ours.Stdout.Contains("meta unsupported", StringComparison.Ordinal);
        if (bindingsHaveMetadata)
            Assert.That(Callback(ours, "meta"), Is.EqualTo(new[]
            {
                "meta a metadata-change 1 None", "meta b metadata-change 0 None", "meta a metadata-change 2 http://example.org/x",
            }), ours.Stdout);
        else
            Assert.That(ours.Stdout, Does.StartWith("meta unsupported by these bindings: "), "python3-libvirt 9.0 refuses event ID 1 itself");

        var theirs = RunScript(ReferenceDaemon.Uri, prefix);
        Assert.That(Callback(ours, "all"), Is.EqualTo(Callback(theirs, "all")), theirs.Stdout);
        Assert.That(Callback(ours, "one"), Is.EqualTo(Callback(theirs, "one")), theirs.Stdout);
        // the reference is libvirt 9.0: no metadata events (new in 9.8), so nothing to compare there
    }

    [Test]
    public void MetadataChangeEventsOverTheRawProtocol()
    {
        var xml = Path.Combine(Daemon.Root, "metaev.xml");
        File.WriteAllText(xml, "<network><name>metaev</name><ip address='192.168.183.1' netmask='255.255.255.0'/></network>");
        Assert.That(Tools.Virsh(Daemon.Uri, "net-define", xml).ExitCode, Is.Zero);
        // the listener only listens: a roundtrip on it would skip the events that come before the reply
        using var c = Raw();
        c.Open();
        using var setter = Raw();
        setter.Open();
        var net = c.Roundtrip((int)Procedure.NetworkLookupByName, new NetworkLookupByNameArgs { Name = "metaev" }).Decode<NetworkLookupByNameRet>().Net;
        int all = c.Roundtrip((int)Procedure.ConnectNetworkEventRegisterAny, new ConnectNetworkEventRegisterAnyArgs { EventID = 1 })
            .Decode<ConnectNetworkEventRegisterAnyRet>().CallbackID;
        int one = c.Roundtrip((int)Procedure.ConnectNetworkEventRegisterAny, new ConnectNetworkEventRegisterAnyArgs { EventID = 1, Net = net })
            .Decode<ConnectNetworkEventRegisterAnyRet>().CallbackID;
        Set(setter, net, type: 1, "A title", null, null, flags: 2);
        Set(setter, net, type: 2, "<x/>", "k", "http://example.org/x", flags: 0);
        Set(setter, net, type: 0, null, null, null, flags: 2); // removing the (absent) description is a change too
        var events = Enumerable.Range(0, 6).Select(_ => MetadataEvent(c)).ToList();
        var expected = new[] { (1, (string?)null), (2, "http://example.org/x"), (0, null) }
            .SelectMany(e => new[] { (all, e.Item1, e.Item2), (one, e.Item1, e.Item2) });
        Assert.That(events.Select(e => (e.CallbackID, e.Type, e.Nsuri)).Order(), Is.EqualTo(expected.Order()));
        Assert.That(events.Select(e => e.Net.Name).Distinct(), Is.EqualTo(new[] { "metaev" }));
        Tools.Virsh(Daemon.Uri, "net-undefine", "metaev");
    }

    private static void Set(VirtNetworkd.Tests.Shared.RawLibvirtClient c, NonnullNetwork net, int type, string? value, string? key, string? uri, uint flags)
    {
        var r = c.Roundtrip((int)Procedure.NetworkSetMetadata,
            new NetworkSetMetadataArgs { Network = net, Type = type, Metadata = value, Key = key, Uri = uri, Flags = flags });
        Assert.That(r.Header.Status, Is.Zero, r.Header.Status == 0 ? "" : r.Error.Message);
    }

    private static NetworkEventCallbackMetadataChangeMsg MetadataEvent(VirtNetworkd.Tests.Shared.RawLibvirtClient c)
    {
        while (true)
        {
            var p = c.Read() ?? throw new AssertionException("the daemon closed the connection");
            if (p.Header.Type == PacketType.Message && p.Header.Procedure == (int)Procedure.NetworkEventCallbackMetadataChange)
                return p.Decode<NetworkEventCallbackMetadataChangeMsg>();
        }
    }
}
