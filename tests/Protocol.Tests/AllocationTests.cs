using VirtNetworkd.Protocol.Framing;
using VirtNetworkd.Protocol.Remote;
using VirtNetworkd.Protocol.Xdr;

namespace VirtNetworkd.Protocol.Tests;

/// <summary>
/// The hot path's allocation contract, counted (not timed): encoding allocates nothing, and
/// decoding a message again into the same value allocates nothing once its strings are pooled.
/// bench/Protocol.Benchmarks measures the same with BenchmarkDotNet's MemoryDiagnoser.
/// </summary>
public class AllocationTests
{
    private static long Allocated(Action action, int iterations = 200)
    {
        for (int i = 0; i < 5; i++) action(); // warm-up: JIT, pools, string pool
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < iterations; i++) action();
        return GC.GetAllocatedBytesForCurrentThread() - before;
    }

    [Test]
    public void EncodingAPacketAllocatesNothing()
    {
        using var output = new PooledBufferWriter();
        var reply = XdrCodec.Decode<ConnectListAllNetworksRet>(GoldenPacket.Load("connect_list_all_networks.reply").Body);
        var error = XdrCodec.Decode<Error>(GoldenPacket.Load("network_lookup_by_name.error").Body);
        var header = new PacketHeader(RemoteProgram.Number, 1, 283, PacketType.Reply, 7, PacketStatus.Ok);
        long bytes = Allocated(() =>
        {
            output.Reset();
            PacketWriter.Write(output, header, reply);
            PacketWriter.Write(output, header with { Status = PacketStatus.Error }, error);
        });
        Assert.That(bytes, Is.Zero);
    }

    [TestCase("connect_open.call", typeof(ConnectOpenArgs))]
    [TestCase("connect_list_all_networks.reply", typeof(ConnectListAllNetworksRet))]
    [TestCase("network_lookup_by_name.reply", typeof(NetworkLookupByNameRet))]
    [TestCase("network_get_xml_desc.reply", typeof(NetworkGetXmlDescRet))]
    [TestCase("network_lookup_by_name.error", typeof(Error))]
    [TestCase("network_event_lifecycle.msg", typeof(NetworkEventLifecycleMsg))]
    public void SteadyStateDecodingAllocatesNothing(string packet, Type type)
    {
        var body = GoldenPacket.Load(packet).Body;
        long bytes = (long)typeof(AllocationTests).GetMethod(nameof(DecodeRepeatedly), System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static)!
            .MakeGenericMethod(type).Invoke(null, [body])!;
        Assert.That(bytes, Is.Zero);
    }

    private static long DecodeRepeatedly<T>(byte[] body) where T : IXdrType<T>
    {
        T value = default!;
        return Allocated(() => XdrCodec.DecodeInto(body, ref value));
    }

    [Test]
    public void FramingASplitPacketAllocatesNothingOnceTheScratchBufferExists()
    {
        var a = GoldenPacket.Load("network_get_xml_desc.reply").Bytes;
        var seq0 = FramingTests.Segmented(a[..100], a[100..]);
        byte[]? scratch = null;
        NetworkGetXmlDescRet value = default;
        long bytes = Allocated(() =>
        {
            var seq = seq0;
            PacketFraming.TryReadPacket(ref seq, out var p);
            var span = PacketFraming.Contiguous(p, ref scratch);
            XdrCodec.DecodeInto(PacketFraming.Body(span), ref value);
        });
        Assert.That(bytes, Is.Zero);
    }
}
