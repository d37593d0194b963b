using System.Text;
using VirtNetworkd.Protocol.Remote;
using VirtNetworkd.Protocol.Xdr;

namespace VirtNetworkd.Protocol.Tests;

/// <summary>Decoding into a kept value keeps its strings when the bytes spell them again.</summary>
public class StringReuseTests
{
    private static NonnullNetwork DecodeInto(byte[] bytes, NonnullNetwork kept)
    {
        var r = new XdrReader(bytes);
        NonnullNetwork.Decode(ref r, ref kept);
        r.EnsureEnd();
        return kept;
    }

    private static readonly byte[] Uuid = Enumerable.Range(1, 16).Select(i => (byte)i).ToArray();

    [Test]
    public void TheSameNameIsTheSameInstance()
    {
        var kept = new NonnullNetwork { Name = new string("benchnet050".ToCharArray()), Uuid = (byte[])Uuid.Clone() };
        var again = DecodeInto(XdrCodec.ToArray(new NonnullNetwork { Name = "benchnet050", Uuid = Uuid }), kept);
        Assert.That(again.Name, Is.SameAs(kept.Name));
    }

    [TestCase("benchnet051")]
    [TestCase("benchnet05")]
    [TestCase("Benchnet050")]
    [TestCase("")]
    public void ADifferentNameIsDecoded(string name)
    {
        var kept = new NonnullNetwork { Name = "benchnet050", Uuid = (byte[])Uuid.Clone() };
        var next = DecodeInto(XdrCodec.ToArray(new NonnullNetwork { Name = name, Uuid = Uuid }), kept);
        Assert.That(next.Name, Is.EqualTo(name));
    }

    [Test]
    public void NonAsciiNamesAreDecodedNotMatchedByLength()
    {
        // "né" is two chars and three UTF-8 bytes; "néa" three chars, four bytes
        var kept = new NonnullNetwork { Name = "abc", Uuid = (byte[])Uuid.Clone() };
        Assert.That(DecodeInto(XdrCodec.ToArray(new NonnullNetwork { Name = "né", Uuid = Uuid }), kept).Name, Is.EqualTo("né"));
        kept.Name = "néa";
        Assert.That(DecodeInto(XdrCodec.ToArray(new NonnullNetwork { Name = "néa", Uuid = Uuid }), kept).Name, Is.EqualTo("néa"));
    }

    [Test]
    public void InvalidUtf8IsStillRefusedWhateverWasKept()
    {
        // length 3, bytes 'a', 0xFF, 'b', one byte of padding, then the uuid
        var bytes = new byte[] { 0, 0, 0, 3, (byte)'a', 0xFF, (byte)'b', 0 }.Concat(Uuid).ToArray();
        var kept = new NonnullNetwork { Name = "a\u00FFb", Uuid = (byte[])Uuid.Clone() };
        Assert.Throws<XdrDecodeException>(() => DecodeInto(bytes, kept));
        Assert.That(Encoding.Latin1.GetByteCount(kept.Name), Is.EqualTo(3), "the kept name is 3 chars, as the bad bytes are 3 bytes");
    }
}
