using System.Text;
using VirtNetworkd.NetworkDriver.Backend.Dnsmasq;

namespace VirtNetworkd.NetworkDriver.Tests.Backend.Dnsmasq;

/// <summary>
/// json-c 0.18 as libvirt 10.8 drives it (strict tokener, UTF-8 checked; pretty, spaced, no
/// slash escaping). The expected texts were printed by json-c itself (Debian 13's libjson-c5,
/// through python3 ctypes in reference-daemon-11.sh's root).
/// </summary>
public sealed class LeaseJsonTests
{
    private static string RoundTrip(string json) => LeaseJsonText.Format(LeaseJsonText.Parse(Encoding.UTF8.GetBytes(json)));

    [TestCase("[]", "[]\n")]
    [TestCase("{}", "{}\n")]
    [TestCase("[{}]", "[\n  {}\n]\n")]
    [TestCase("[[]]", "[\n  []\n]\n")]
    [TestCase("[{\"a\":{}}]", "[\n  {\n    \"a\": {}\n  }\n]\n")]
    [TestCase("[1,-0,1.50,1e3,true,null,\"x/y\\u0001\\u007f\\t\\b\\f\\r\\n\\\"\\\\\"]",
              "[\n  1,\n  0,\n  1.50,\n  1e3,\n  true,\n  null,\n  \"x/y\\u0001\u007f\\t\\b\\f\\r\\n\\\"\\\\\"\n]\n")]
    [TestCase("[1]  ", "[\n  1\n]\n")]
    [TestCase("[\"\\ud800\"]", "[\n  \"\uFFFD\"\n]\n")]
    [TestCase("[\"\\uDC00\"]", "[\n  \"\uFFFD\"\n]\n")]
    [TestCase("[\"\\ud800x\"]", "[\n  \"\uFFFDx\"\n]\n")]
    [TestCase("[\"\\ud83d\\ude00\"]", "[\n  \"\U0001F600\"\n]\n")]
    [TestCase("{\"a\":1,\"a\":2,\"b\":3}", "{\n  \"a\": 2,\n  \"b\": 3\n}\n")]
    [TestCase("[NaN]", "[\n  NaN\n]\n")]
    [TestCase("[Infinity,-Infinity]", "[\n  Infinity,\n  -Infinity\n]\n")]
    [TestCase("[-1.0e+2,1E5,1.,-0.0]", "[\n  -1.0e+2,\n  1E5,\n  1.,\n  -0.0\n]\n")]
    [TestCase("[9223372036854775807,-9223372036854775808,18446744073709551615]",
              "[\n  9223372036854775807,\n  -9223372036854775808,\n  18446744073709551615\n]\n")]
    [TestCase("[\"\\u00e9\",\"é\"]", "[\n  \"é\",\n  \"é\"\n]\n")]
    public void PrintsAsJsonC(string input, string expected) => Assert.That(RoundTrip(input), Is.EqualTo(expected));

    [Test]
    public void StringsEndAtTheirFirstNulAsLibvirtCopiesThem() =>
        Assert.That(RoundTrip("[\"a\\u0000b\",{\"k\\u0000x\":1,\"k\":2}]"), Is.EqualTo("[\n  \"a\",\n  {\n    \"k\": 2\n  }\n]\n"));

    [Test]
    public void TheTextEndsAtItsFirstNulByte() =>
        Assert.That(LeaseJsonText.Format(LeaseJsonText.Parse("[1]\0garbage"u8)), Is.EqualTo("[\n  1\n]\n"));

    [TestCase("[1] x", "unexpected character")]
    [TestCase("[01]", "number expected")]
    [TestCase("[99999999999999999999]", "number expected")]
    [TestCase("[-99999999999999999999]", "number expected")]
    [TestCase("[1,]", "unexpected character")]
    [TestCase("['a']", "unexpected character")]
    [TestCase("[1]/*c*/", "unexpected character")]
    [TestCase("1", "continue")]
    [TestCase("", "continue")]
    [TestCase("   ", "continue")]
    [TestCase("[\v1]", "unexpected character")]
    [TestCase("[\f1]", "unexpected character")]
    [TestCase("[\"a\tb\"]", "invalid string sequence")]
    [TestCase("[\"a\u0001b\"]", "invalid string sequence")]
    [TestCase("[\"\\x\"]", "invalid string sequence")]
    [TestCase("[nan]", "null expected")]
    [TestCase("[infinity]", "unexpected character")]
    [TestCase("[True]", "boolean expected")]
    [TestCase("[1e]", "number expected")]
    [TestCase("[1e+]", "number expected")]
    [TestCase("[-]", "number expected")]
    [TestCase("[.5]", "unexpected character")]
    [TestCase("[1", "continue")]
    [TestCase("{\"a\" 1}", "object property name separator ':' expected")]
    public void RefusesWhatJsonCRefuses(string input, string message) =>
        Assert.That(Assert.Throws<LeaseJsonException>(() => LeaseJsonText.Parse(Encoding.UTF8.GetBytes(input)))!.Message, Is.EqualTo(message));

    [Test]
    public void InvalidUtf8AndAByteOrderMarkAreRefused()
    {
        Assert.Throws<LeaseJsonException>(() => LeaseJsonText.Parse([(byte)'[', (byte)'"', 0xff, (byte)'"', (byte)']']));
        Assert.Throws<LeaseJsonException>(() => LeaseJsonText.Parse("\uFEFF[1]"u8));
    }

    [Test]
    public void NestingStopsAt32Levels()
    {
        Assert.That(RoundTrip(new string('[', 32) + new string(']', 32)), Does.StartWith("[\n  [\n"));
        Assert.That(Assert.Throws<LeaseJsonException>(() => RoundTrip(new string('[', 33) + new string(']', 33)))!.Message, Is.EqualTo("nesting too deep"));
        Assert.Throws<LeaseJsonException>(() => RoundTrip(new string('[', 100_000)), "deep garbage fails without overflowing the stack");
    }

    [Test]
    public void ManyRepeatedKeysStayLinear()
    {
        var sb = new StringBuilder("{");
        for (int i = 0; i < 200_000; i++) sb.Append(i == 0 ? "" : ",").Append("\"k").Append(i % 1000).Append("\":").Append(i);
        sb.Append('}');
        var sw = System.Diagnostics.Stopwatch.StartNew();
        var v = LeaseJsonText.Parse(Encoding.UTF8.GetBytes(sb.ToString()));
        Assert.That(v.Members, Has.Count.EqualTo(1000));
        Assert.That(v.Get("k0")!.Text, Is.EqualTo("199000"));
        Assert.That(sw.Elapsed, Is.LessThan(TimeSpan.FromSeconds(5)));
    }

    [TestCase("5", true, 5L)]
    [TestCase("-0", true, 0L)]
    [TestCase("+7", true, 7L)]
    [TestCase("1.5", false, 0L)]
    [TestCase("1e3", false, 0L)]
    [TestCase("NaN", false, 0L)]
    [TestCase("9223372036854775808", false, 0L)]
    [TestCase("", false, 0L)]
    public void LongLongAsStrtoll(string text, bool ok, long value)
    {
        Assert.That(LeaseJsonText.TryParseLongLong(text, out long v), Is.EqualTo(ok));
        if (ok) Assert.That(v, Is.EqualTo(value));
    }
}
