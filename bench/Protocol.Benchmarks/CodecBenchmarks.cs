using BenchmarkDotNet.Attributes;
using VirtNetworkd.Protocol.Xdr;
using Remote = VirtNetworkd.Protocol.Remote;

namespace VirtNetworkd.Benchmarks;

/// <summary>
/// Encode and steady-state decode of one message body.
/// <see cref="Encode"/> writes into a <see cref="PooledBufferWriter"/> kept across iterations
/// (Reset() each time); <see cref="Decode"/> decodes INTO a field kept across iterations, so its
/// arrays are reused and its strings come from the StringPool after the first decode.
/// Every benchmark returns a <c>long</c> so the --verify mode can call it through a Func&lt;long&gt;.
/// </summary>
public abstract class CodecBenchmark<T> : IVerifiable where T : struct, IXdrType<T>
{
    private readonly PooledBufferWriter _writer = new();
    private T _message;
    private T _decoded;
    private byte[] _encoded = [];

    protected abstract T CreateMessage();
    protected abstract bool Same(in T a, in T b);

    /// <summary>Hand-written wire bytes to check the encoder against, where cheap to spell out.</summary>
    protected virtual byte[]? ExpectedWire => null;

    /// <summary>Checks on the sample message itself.</summary>
    protected virtual void CheckMessage(in T value, List<string> errors) { }

    /// <summary>An array the steady-state decode must reuse (null: nothing to check).</summary>
    protected virtual object? ReusedArray(in T value) => null;

    public string Describe() => $"{typeof(T).Name}: {_encoded.Length} bytes encoded";

    [GlobalSetup]
    public void Setup()
    {
        _message = CreateMessage();
        using var w = new PooledBufferWriter();
        XdrCodec.Encode(w, _message);
        _encoded = w.ToArray();
        // prime: the decode target holds its arrays and the pool holds the strings
        _decoded = default;
        XdrCodec.DecodeInto(_encoded, ref _decoded);
        Encode();
    }

    [Benchmark]
    public long Encode()
    {
        _writer.Reset();
        XdrCodec.Encode(_writer, _message);
        return _writer.WrittenCount;
    }

    [Benchmark]
    public long Decode()
    {
        XdrCodec.DecodeInto(_encoded, ref _decoded);
        return _encoded.Length;
    }

    public List<string> Verify()
    {
        var errors = new List<string>();
        Setup();
        CheckMessage(_message, errors);
        long n = Encode();
        var wire = _writer.ToArray();
        if (n != wire.Length) errors.Add($"Encode returned {n}, writer holds {wire.Length} bytes");
        if (!wire.AsSpan().SequenceEqual(_encoded)) errors.Add("Encode is not deterministic (differs from the setup encoding)");
        if (ExpectedWire is { } expected && !wire.AsSpan().SequenceEqual(expected))
            errors.Add($"wire bytes differ from the hand-written encoding:\n  got      {Convert.ToHexString(wire)}\n  expected {Convert.ToHexString(expected)}");
        if (wire.Length % 4 != 0) errors.Add($"encoding is {wire.Length} bytes, not a multiple of 4");
        // fresh decode, no pooling: independent of the benchmark's decode target
        T fresh = default;
        var r = new XdrReader(wire, strings: null);
        T.Decode(ref r, ref fresh);
        r.EnsureEnd();
        if (!Same(fresh, _message)) errors.Add("fresh decode of the encoded bytes differs from the message");
        Decode();
        if (!Same(_decoded, _message)) errors.Add("Decode (into the kept field) differs from the message");
        object? before = ReusedArray(_decoded);
        Decode();
        if (!Same(_decoded, _message)) errors.Add("second Decode (steady state) differs from the message");
        if (!ReferenceEquals(before, ReusedArray(_decoded))) errors.Add("steady-state Decode did not reuse the array of the decode target");
        return errors;
    }
}

[MemoryDiagnoser, BenchmarkCategory("connect_open args")]
public class ConnectOpenArgsBench : CodecBenchmark<Remote.ConnectOpenArgs>
{
    protected override Remote.ConnectOpenArgs CreateMessage() => Messages.ConnectOpen();
    protected override bool Same(in Remote.ConnectOpenArgs a, in Remote.ConnectOpenArgs b) => Messages.Same(a, b);

    // optional name present (1), length 17, "network:///system" + 3 bytes padding, flags 0
    protected override byte[] ExpectedWire => Convert.FromHexString(
        "00000001" + "00000011" + Convert.ToHexString("network:///system"u8) + "000000" + "00000000");
}

[MemoryDiagnoser, BenchmarkCategory("network_lookup_by_name ret")]
public class NetworkLookupByNameRetBench : CodecBenchmark<Remote.NetworkLookupByNameRet>
{
    protected override Remote.NetworkLookupByNameRet CreateMessage() => Messages.LookupByNameReply();
    protected override bool Same(in Remote.NetworkLookupByNameRet a, in Remote.NetworkLookupByNameRet b) => Messages.Same(a, b);
    protected override object? ReusedArray(in Remote.NetworkLookupByNameRet value) => value.Net.Uuid;

    // length 7, "default" + 1 byte padding, 16 uuid bytes
    protected override byte[] ExpectedWire => Convert.FromHexString(
        "00000007" + Convert.ToHexString("default"u8) + "00" + Convert.ToHexString(Messages.Uuid(0)));
}

[MemoryDiagnoser, BenchmarkCategory("connect_list_all_networks ret (100)")]
public class ConnectListAllNetworksRetBench : CodecBenchmark<Remote.ConnectListAllNetworksRet>
{
    protected override Remote.ConnectListAllNetworksRet CreateMessage() => Messages.ListAllNetworksReply();
    protected override bool Same(in Remote.ConnectListAllNetworksRet a, in Remote.ConnectListAllNetworksRet b) => Messages.Same(a, b);
    protected override object? ReusedArray(in Remote.ConnectListAllNetworksRet value) => value.Nets;
}

[MemoryDiagnoser, BenchmarkCategory("network_get_xml_desc ret (4 KiB)")]
public class NetworkGetXmlDescRetBench : CodecBenchmark<Remote.NetworkGetXmlDescRet>
{
    protected override Remote.NetworkGetXmlDescRet CreateMessage() => Messages.XmlDescReply();
    protected override bool Same(in Remote.NetworkGetXmlDescRet a, in Remote.NetworkGetXmlDescRet b) => Messages.Same(a, b);

    protected override void CheckMessage(in Remote.NetworkGetXmlDescRet value, List<string> errors)
    {
        if (value.Xml.Length is < 3584 or > 4608) errors.Add($"the XML is {value.Xml.Length} chars, not about 4 KiB");
        try { System.Xml.Linq.XDocument.Parse(value.Xml); }
        catch (System.Xml.XmlException e) { errors.Add($"the XML is not well-formed: {e.Message}"); }
    }
}

[MemoryDiagnoser, BenchmarkCategory("remote_error")]
public class RemoteErrorBench : CodecBenchmark<Remote.Error>
{
    protected override Remote.Error CreateMessage() => Messages.NoSuchNetworkError();
    protected override bool Same(in Remote.Error a, in Remote.Error b) => Messages.Same(a, b);
}
