using VirtNetworkd.NetworkDriver.Backend;
using VirtNetworkd.NetworkDriver.Driver;
using VirtNetworkd.NetworkDriver.Xml;
using VirtNetworkd.NetworkDriver.Xml.Net;
using VirtNetworkd.Protocol.Framing;
using VirtNetworkd.Protocol.Remote;
using VirtNetworkd.Tests.Shared;

namespace VirtNetworkd.Server.Tests.Remote;

/// <summary>
/// The reply of a call run on the worker pool goes out when its handler returns, also when the
/// client sends nothing more (python3-libvirt without an event loop waits for it and nothing
/// else): found with network_get_dhcp_leases, whose reply waited for the client's next packet
/// whenever the handler finished after the I/O loop had flushed the batch the call came in.
/// </summary>
public sealed class WorkerReplyTests
{
    [Test]
    public async Task AWorkerReplyIsSentWithoutFurtherInputFromTheClient()
    {
        var backend = new GatedLeasesBackend();
        await using var server = new InProcessServer(backend: backend);
        var net = server.Driver.DefineXml("<network><name>leases</name><bridge name='vbwr0'/></network>", 0);
        server.Driver.Create(net);
        using var client = new RawLibvirtClient(server.SocketPath, timeoutMs: 5000);
        client.Open();
        using var other = server.OpenClient();

        uint serial = client.Call((int)Procedure.NetworkGetDhcpLeases, new NetworkGetDhcpLeasesArgs
        {
            Net = new NonnullNetwork { Name = net.Name, Uuid = net.Uuid.ToByteArray(bigEndian: true) },
            NeedResults = 1,
        });
        Assert.That(backend.Entered.Wait(TimeSpan.FromSeconds(10)), Is.True, "the call reached the worker");
        // the loop serves the other client only after it has finished with (and flushed) the batch of the first
        Assert.That(other.Roundtrip((int)Procedure.ConnectGetLibVersion).Header.Status, Is.EqualTo(PacketStatus.Ok));
        backend.Release.Set();

        RawPacket reply;
        try
        {
            reply = client.ReadReply(serial);
        }
        catch (System.Net.Sockets.SocketException e)
        {
            Assert.Fail($"no reply within 5 s of the handler's return: {e.Message}");
            return;
        }
        Assert.That(reply.Header.Status, Is.EqualTo(PacketStatus.Ok));
        Assert.That(reply.Decode<NetworkGetDhcpLeasesRet>().Ret, Is.Zero);
    }

    /// <summary>The in-process backend whose lease lookup waits for the test.</summary>
    private sealed class GatedLeasesBackend : INetworkBackend
    {
        private readonly InProcessBackend _inner = new();

        public ManualResetEventSlim Entered { get; } = new();
        public ManualResetEventSlim Release { get; } = new();

        public event EventHandler<BackendFaultEventArgs>? Fault { add { } remove { } }

        public IReadOnlyList<DhcpLease> GetDhcpLeases(NetworkDef def, string? mac, bool needResults)
        {
            Entered.Set();
            Release.Wait(TimeSpan.FromSeconds(30));
            return _inner.GetDhcpLeases(def, mac, needResults);
        }

        public BackendRecord Start(NetworkDef def) => _inner.Start(def);
        public void Stop(NetworkDef def, BackendRecord record) => _inner.Stop(def, record);
        public BackendRecord UpdateLive(NetworkDef oldDef, NetworkDef newDef, BackendRecord record, int section, int command) =>
            _inner.UpdateLive(oldDef, newDef, record, section, command);
        public ReconcileResult Reconcile(NetworkDef def, BackendRecord record) => _inner.Reconcile(def, record);
        public bool DeviceExists(string name) => _inner.DeviceExists(name);
        public IReadOnlyList<VirtualFunction>? GetVirtualFunctions(string pfDev) => _inner.GetVirtualFunctions(pfDev);
        public void PlugBandwidth(NetworkDef net, MacAddr mac, BandwidthDef portBandwidth, uint classId) => _inner.PlugBandwidth(net, mac, portBandwidth, classId);
        public void UnplugBandwidth(NetworkDef net, uint classId) => _inner.UnplugBandwidth(net, classId);
        public void UpdateBandwidthRate(NetworkDef net, uint classId, ulong rate) => _inner.UpdateBandwidthRate(net, classId, rate);
        public void ReconcileBandwidth(NetworkDef net, IReadOnlyList<PortFloor> floors, ulong? unguaranteedRate) => _inner.ReconcileBandwidth(net, floors, unguaranteedRate);
    }
}
