using System.Net.Sockets;
using VirtNetworkd.Protocol.Framing;
using VirtNetworkd.Protocol.Remote;
using VirtNetworkd.Protocol.Xdr;
using VirtNetworkd.Tests.Shared;

namespace VirtNetworkd.Integration.Tests;

/// <summary>Pipelined calls for the transport tests: many calls in one write, and their replies read back.</summary>
internal static class RawPackets
{
    /// <summary><paramref name="count"/> REMOTE calls, serials from <paramref name="firstSerial"/>, as one byte array.</summary>
    public static byte[] Calls(int count, Func<int, (int Procedure, byte[] Body)> call, uint firstSerial)
    {
        using var w = new PooledBufferWriter();
        for (int i = 0; i < count; i++)
        {
            var (procedure, body) = call(i);
            PacketWriter.Write(w, new PacketHeader(RawLibvirtClient.Remote, 1, procedure, PacketType.Call, firstSerial + (uint)i, PacketStatus.Ok), new RawBody(body));
        }
        return w.ToArray();
    }

    /// <summary>Reads <paramref name="n"/> successful replies (events skipped), failing with the round and count reached.</summary>
    public static List<RawPacket> ReadReplies(RawLibvirtClient c, int n, int round, string what)
    {
        var replies = new List<RawPacket>();
        while (replies.Count < n)
        {
            RawPacket? reply;
            try
            {
                reply = c.Read();
            }
            catch (SocketException e)
            {
                throw new AssertionException($"round {round}: {what}: {replies.Count} of {n} replies, then {e.SocketErrorCode}");
            }
            if (reply is null) throw new AssertionException($"round {round}: {what}: connection closed after {replies.Count} of {n} replies");
            if (reply.Header.Type != PacketType.Reply) continue;
            Assert.That(reply.Header.Status, Is.Zero, () => reply.Error.Message ?? "");
            replies.Add(reply);
        }
        return replies;
    }

    /// <summary>
    /// Rounds of <paramref name="networks"/> pipelined defines (names and bridges from
    /// <paramref name="prefix"/>), then as many pipelined undefines, each burst in one write; every
    /// call must be answered without error.
    /// </summary>
    public static void DefineThenUndefineRounds(RawLibvirtClient c, int rounds, int networks, string prefix)
    {
        var defines = Enumerable.Range(0, networks).Select(i => XdrCodec.ToArray(new NetworkDefineXmlArgs
        {
            Xml = $"<network><name>{prefix}{i}</name><bridge name='vb{prefix}{i}'/></network>",
        })).ToList();
        for (int round = 0; round < rounds; round++)
        {
            c.SendRaw(Calls(networks, i => ((int)Procedure.NetworkDefineXml, defines[i]), c.NextSerials(networks)));
            var nets = ReadReplies(c, networks, round, "define").Select(r => r.Decode<NetworkDefineXmlRet>().Net).ToList();
            c.SendRaw(Calls(networks, i => ((int)Procedure.NetworkUndefine, XdrCodec.ToArray(new NetworkUndefineArgs { Net = nets[i] })), c.NextSerials(networks)));
            ReadReplies(c, networks, round, "undefine");
        }
    }

    /// <summary>Bytes already XDR-encoded, written as a packet body.</summary>
    private readonly struct RawBody(byte[] bytes) : IXdrType<RawBody>
    {
        private readonly byte[] _bytes = bytes;

        public static void Encode(ref XdrWriter writer, in RawBody value) => writer.WriteFixedOpaque(value._bytes, value._bytes.Length, "body");
        public static void Decode(ref XdrReader reader, ref RawBody value) => throw new NotSupportedException();
    }
}
