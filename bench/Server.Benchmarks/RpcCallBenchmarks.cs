using BenchmarkDotNet.Attributes;
using VirtNetworkd.Protocol.Remote;

namespace VirtNetworkd.Benchmarks;

/// <summary>
/// One synchronous round trip per operation over the Unix socket to the real RPC stack hosted
/// in this process (<see cref="InProcessDaemon"/>). The client allocates nothing per call, so
/// MemoryDiagnoser's "Allocated" (GC.GetTotalAllocatedBytes(precise: true), every thread) is
/// what the server allocated for the call. Every method here is expected to show 0 B; --verify
/// checks the replies and measures the same calls.
/// </summary>
[MemoryDiagnoser]
public class RpcCallBenchmarks
{
    public const string DefaultName = "default";
    public static readonly Guid DefaultUuid = Guid.Parse("c0ffee00-1234-4cde-8f00-0123456789ab");

    private const string DefaultXml = """
        <network>
          <name>default</name>
          <uuid>c0ffee00-1234-4cde-8f00-0123456789ab</uuid>
          <forward mode='nat'/>
          <bridge name='virbr0' stp='on' delay='0'/>
          <ip address='192.168.122.1' netmask='255.255.255.0'>
            <dhcp><range start='192.168.122.2' end='192.168.122.254'/></dhcp>
          </ip>
        </network>
        """;

    private const string IsolatedXml = """
        <network>
          <name>isolated</name>
          <bridge name='virbr1'/>
          <ip address='192.168.100.1' netmask='255.255.255.0'/>
        </network>
        """;

    private InProcessDaemon _daemon = null!;
    private CallClient _client = null!;
    private byte[] _libVersion = null!, _numOfNetworks = null!, _numOfDefined = null!, _lookupByName = null!,
        _lookupByUuid = null!, _isActive = null!, _isPersistent = null!, _getAutostart = null!, _bridgeName = null!,
        _xmlDesc = null!;

    /// <summary>The network every per-network call names.</summary>
    public static NonnullNetwork Default => new() { Name = DefaultName, Uuid = DefaultUuid.ToByteArray(bigEndian: true) };

    public CallClient Client => _client;

    /// <summary>
    /// Starts the server (VND_BENCH_SERVER: "server", the default, or "daemon"; see
    /// <see cref="InProcessDaemon"/>), connects, and defines over RPC "default" (active,
    /// persistent, autostart) and "isolated" (defined, inactive).
    /// </summary>
    [GlobalSetup]
    public void Setup()
    {
        _daemon = InProcessDaemon.Start(Environment.GetEnvironmentVariable("VND_BENCH_SERVER"));
        _client = new CallClient(_daemon.SocketPath);
        _client.RoundTrip(CallClient.Request(Procedure.ConnectOpen, new ConnectOpenArgs { Name = InProcessDaemon.Uri }));
        var net = _client.Call<NetworkDefineXmlArgs, NetworkDefineXmlRet>(Procedure.NetworkDefineXml, new() { Xml = DefaultXml }).Net;
        _client.RoundTrip(CallClient.Request(Procedure.NetworkCreate, new NetworkCreateArgs { Net = net }));
        _client.RoundTrip(CallClient.Request(Procedure.NetworkSetAutostart, new NetworkSetAutostartArgs { Net = net, Autostart = 1 }));
        _client.RoundTrip(CallClient.Request(Procedure.NetworkDefineXml, new NetworkDefineXmlArgs { Xml = IsolatedXml }));

        _libVersion = CallClient.Request(Procedure.ConnectGetLibVersion);
        _numOfNetworks = CallClient.Request(Procedure.ConnectNumOfNetworks);
        _numOfDefined = CallClient.Request(Procedure.ConnectNumOfDefinedNetworks);
        _lookupByName = CallClient.Request(Procedure.NetworkLookupByName, new NetworkLookupByNameArgs { Name = DefaultName });
        _lookupByUuid = CallClient.Request(Procedure.NetworkLookupByUuid, new NetworkLookupByUuidArgs { Uuid = Default.Uuid });
        _isActive = CallClient.Request(Procedure.NetworkIsActive, new NetworkIsActiveArgs { Net = Default });
        _isPersistent = CallClient.Request(Procedure.NetworkIsPersistent, new NetworkIsPersistentArgs { Net = Default });
        _getAutostart = CallClient.Request(Procedure.NetworkGetAutostart, new NetworkGetAutostartArgs { Net = Default });
        _bridgeName = CallClient.Request(Procedure.NetworkGetBridgeName, new NetworkGetBridgeNameArgs { Net = Default });
        _xmlDesc = CallClient.Request(Procedure.NetworkGetXmlDesc, new NetworkGetXmlDescArgs { Net = Default });
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _client.Dispose();
        _daemon.DisposeAsync().AsTask().GetAwaiter().GetResult();
    }

    [Benchmark] public int ConnectGetLibVersion() => _client.RoundTrip(_libVersion);
    [Benchmark] public int ConnectNumOfNetworks() => _client.RoundTrip(_numOfNetworks);
    [Benchmark] public int ConnectNumOfDefinedNetworks() => _client.RoundTrip(_numOfDefined);
    [Benchmark] public int NetworkLookupByName() => _client.RoundTrip(_lookupByName);
    [Benchmark] public int NetworkLookupByUuid() => _client.RoundTrip(_lookupByUuid);
    [Benchmark] public int NetworkIsActive() => _client.RoundTrip(_isActive);
    [Benchmark] public int NetworkIsPersistent() => _client.RoundTrip(_isPersistent);
    [Benchmark] public int NetworkGetAutostart() => _client.RoundTrip(_getAutostart);
    [Benchmark] public int NetworkGetBridgeName() => _client.RoundTrip(_bridgeName);
    [Benchmark] public int NetworkGetXmlDesc() => _client.RoundTrip(_xmlDesc);
}
