using System.Diagnostics;
using VirtNetworkd.Protocol.Framing;
using VirtNetworkd.Protocol.Remote;

namespace VirtNetworkd.Integration.Tests;

/// <summary>net-update, network events, metadata and DHCP leases over the wire.</summary>
public class NetworkUpdateEventTests : DaemonFixture
{
    private string Define(string name, bool start)
    {
        var path = Path.Combine(Daemon.Root, name + ".xml");
        File.WriteAllText(path, $"<network><name>{name}</name><ip address='192.168.152.1' netmask='255.255.255.0'><dhcp><range start='192.168.152.2' end='192.168.152.254'/></dhcp></ip></network>");
        Assert.That(Tools.Virsh(Daemon.Uri, "net-define", path).ExitCode, Is.Zero);
        if (start) Assert.That(Tools.Virsh(Daemon.Uri, "net-start", name).ExitCode, Is.Zero);
        return name;
    }

    [Test]
    public void NetUpdateAddsAndDeletesADhcpHostLiveAndConfig()
    {
        var net = Define("upd1", start: true);
        const string host = "<host mac='52:54:00:00:00:01' name='vm1' ip='192.168.152.10'/>";
        var add = Tools.Virsh(Daemon.Uri, "net-update", net, "add", "ip-dhcp-host", host, "--live", "--config");
        Assert.That(add.ExitCode, Is.Zero, add.ToString());
        Assert.That(Tools.Virsh(Daemon.Uri, "net-dumpxml", net).Stdout, Does.Contain("<host mac='52:54:00:00:00:01' name='vm1' ip='192.168.152.10'/>"));
        Assert.That(Tools.Virsh(Daemon.Uri, "net-dumpxml", "--inactive", net).Stdout, Does.Contain("name='vm1'"));
        var again = Tools.Virsh(Daemon.Uri, "net-update", net, "add", "ip-dhcp-host", host, "--live", "--config");
        Assert.That(again.ExitCode, Is.EqualTo(1));
        var del = Tools.Virsh(Daemon.Uri, "net-update", net, "delete", "ip-dhcp-host", host, "--live", "--config");
        Assert.That(del.ExitCode, Is.Zero, del.ToString());
        Assert.That(Tools.Virsh(Daemon.Uri, "net-dumpxml", net).Stdout, Does.Not.Contain("vm1"));
        Tools.Virsh(Daemon.Uri, "net-destroy", net);
        Tools.Virsh(Daemon.Uri, "net-undefine", net);
    }

    [Test]
    public void NetEventLoopSeesLifecycleEvents()
    {
        var psi = new ProcessStartInfo(Tools.Require("virsh", "libvirt-clients")) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { "-c", Daemon.Uri, "net-event", "--loop", "--timeout", "6", "--event", "lifecycle" }) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        Thread.Sleep(1500);
        Define("evt1", start: true);
        Tools.Virsh(Daemon.Uri, "net-destroy", "evt1");
        Tools.Virsh(Daemon.Uri, "net-undefine", "evt1");
        Assert.That(p.WaitForExit(20_000), Is.True);
        var output = p.StandardOutput.ReadToEnd();
        Assert.That(output, Does.Contain("event 'lifecycle' for network evt1: Defined"));
        Assert.That(output, Does.Contain("event 'lifecycle' for network evt1: Started"));
        Assert.That(output, Does.Contain("event 'lifecycle' for network evt1: Stopped"));
        Assert.That(output, Does.Contain("event 'lifecycle' for network evt1: Undefined"));
    }

    [Test]
    public void EventsGoOnlyToSubscribersAndMatchTheirFilter()
    {
        using var listener = Raw();
        listener.Open();
        using var other = Raw();
        other.Open();
        var reg = listener.Roundtrip((int)Procedure.ConnectNetworkEventRegisterAny, new ConnectNetworkEventRegisterAnyArgs { EventID = 0 });
        int id = reg.Decode<ConnectNetworkEventRegisterAnyRet>().CallbackID;
        Define("evt2", start: false);
        RawEvent(listener, out var msg);
        Assert.That(msg.CallbackID, Is.EqualTo(id));
        Assert.That(msg.Net.Name, Is.EqualTo("evt2"));
        Assert.That(msg.Event, Is.Zero, "DEFINED");
        other.Socket.ReceiveTimeout = 500;
        Assert.That(() => other.Read(), Throws.InstanceOf<System.Net.Sockets.SocketException>(), "no event for a client that did not register");
        Assert.That(listener.Roundtrip((int)Procedure.ConnectNetworkEventDeregisterAny, new ConnectNetworkEventDeregisterAnyArgs { CallbackID = id }).Header.Status, Is.Zero);
        var bad = listener.Roundtrip((int)Procedure.ConnectNetworkEventDeregisterAny, new ConnectNetworkEventDeregisterAnyArgs { CallbackID = id });
        Assert.That(bad.Error.Message, Is.EqualTo($"internal error: network event callback {id} not registered"));
        var unsupported = listener.Roundtrip((int)Procedure.ConnectNetworkEventRegisterAny, new ConnectNetworkEventRegisterAnyArgs { EventID = 7 });
        Assert.That(unsupported.Error.Message, Is.EqualTo("internal error: unsupported network event ID 7"));
        Tools.Virsh(Daemon.Uri, "net-undefine", "evt2");
    }

    private static void RawEvent(VirtNetworkd.Tests.Shared.RawLibvirtClient c, out NetworkEventLifecycleMsg msg)
    {
        while (true)
        {
            var p = c.Read()!;
            if (p.Header.Type == PacketType.Message && p.Header.Procedure == (int)Procedure.NetworkEventLifecycle)
            {
                Assert.That(p.Header.Serial, Is.EqualTo(1u), "libvirt sends events with serial 1");
                msg = p.Decode<NetworkEventLifecycleMsg>();
                return;
            }
        }
    }

    [Test]
    public void MetadataSetGetAndItsEvent()
    {
        Define("meta1", start: false);
        using var c = Raw();
        c.Open();
        var net = c.Roundtrip((int)Procedure.NetworkLookupByName, new NetworkLookupByNameArgs { Name = "meta1" }).Decode<NetworkLookupByNameRet>().Net;
        c.Roundtrip((int)Procedure.ConnectNetworkEventRegisterAny, new ConnectNetworkEventRegisterAnyArgs { EventID = 1 });
        var set = c.Roundtrip((int)Procedure.NetworkSetMetadata, new NetworkSetMetadataArgs { Network = net, Type = 1, Metadata = "A title", Flags = 2 });
        Assert.That(set.Header.Status, Is.Zero, set.Header.Status == 0 ? "" : set.Error.Message);
        var get = c.Roundtrip((int)Procedure.NetworkGetMetadata, new NetworkGetMetadataArgs { Network = net, Type = 1, Flags = 2 });
        Assert.That(get.Decode<NetworkGetMetadataRet>().Metadata, Is.EqualTo("A title"));
        var missing = c.Roundtrip((int)Procedure.NetworkGetMetadata, new NetworkGetMetadataArgs { Network = net, Type = 0, Flags = 2 });
        Assert.That(missing.Error.Code, Is.EqualTo(111));
        Assert.That(missing.Error.Message, Is.EqualTo("metadata not found: Requested metadata element is not present"));
        Assert.That(Tools.Virsh(Daemon.Uri, "net-dumpxml", "meta1").Stdout, Does.Contain("<title>A title</title>"));
        Tools.Virsh(Daemon.Uri, "net-undefine", "meta1");
    }

    [Test]
    public void DhcpLeasesAnswerAtOnceWithoutOtherTrafficOnTheConnection()
    {
        // the call runs on a worker; its reply waited unsent for the connection's next event (a
        // python client polling leases hung until its keepalive; virsh's own traffic hid it)
        Define("lease2", start: true);
        using var c = Raw();
        c.Open();
        var net = c.Roundtrip((int)Procedure.NetworkLookupByName, new NetworkLookupByNameArgs { Name = "lease2" }).Decode<NetworkLookupByNameRet>().Net;
        var clock = Stopwatch.StartNew();
        var leases = c.Roundtrip((int)Procedure.NetworkGetDhcpLeases, new NetworkGetDhcpLeasesArgs { Net = net, NeedResults = 1 });
        Assert.That(clock.ElapsedMilliseconds, Is.LessThan(2000), "the reply was held back");
        Assert.That(leases.Header.Status, Is.Zero, leases.Header.Status == 0 ? "" : leases.Error.Message);
        Assert.That(leases.Decode<NetworkGetDhcpLeasesRet>().Ret, Is.Zero);
        Tools.Virsh(Daemon.Uri, "net-destroy", "lease2");
        Tools.Virsh(Daemon.Uri, "net-undefine", "lease2");
    }

    [Test]
    public void DhcpLeasesOfTheInProcessBackendAreEmpty()
    {
        Define("lease1", start: true);
        var r = Tools.Virsh(Daemon.Uri, "net-dhcp-leases", "lease1");
        Assert.That(r.ExitCode, Is.Zero, r.ToString());
        Assert.That(r.Stdout, Is.Empty, "virsh -q prints no header, and there are no leases");
        Tools.Virsh(Daemon.Uri, "net-destroy", "lease1");
        Tools.Virsh(Daemon.Uri, "net-undefine", "lease1");
    }
}
