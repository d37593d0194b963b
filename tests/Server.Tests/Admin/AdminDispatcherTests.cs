using System.Buffers.Binary;
using VirtNetworkd.Errors;
using VirtNetworkd.Protocol.Admin;
using VirtNetworkd.Protocol.Framing;
using VirtNetworkd.Protocol.Xdr;
using VirtNetworkd.Server.Admin;
using VirtNetworkd.Server.Host;
using VirtNetworkd.Server.Host.Logging;
using VirtNetworkd.Server.Rpc;
using VirtNetworkd.Tests.Shared;

namespace VirtNetworkd.Server.Tests.Admin;

/// <summary>
/// The admin program in memory: the wire details virt-admin does not show (which lookup error a
/// procedure reports, flags, typed-parameter validation, need_results, the uid check).
/// </summary>
public sealed class AdminDispatcherTests
{
    private RpcServer _server = null!;
    private IdleShutdown _idle = null!;
    private AdminDispatcher _admin = null!;

    [SetUp]
    public void SetUp()
    {
        _server = new RpcServer(new ServerLimits(), new ServerLimits { MaxAnonymousClients = 0 }, _ => null, Log.For("test"));
        _idle = new IdleShutdown(() => 1, () => true, () => { }, Log.For("test"));
        _admin = new AdminDispatcher(euid: 0);
        _admin.Attach(new AdminContext(_server, _idle));
    }

    [TearDown]
    public async Task TearDown()
    {
        _idle.Dispose();
        await _server.DisposeAsync();
    }

    private MemorySession Session(uint uid = 0) =>
        new(_admin, ListenerRole.Admin, ListenerAuth.None, new PeerCredentials(Environment.ProcessId, uid, 0));

    private static RawPacket Roundtrip<T>(MemorySession m, Procedure procedure, in T body) where T : IXdrType<T>
    {
        using var w = new PooledBufferWriter();
        PacketWriter.Write(w, new PacketHeader(AdminProgram.Number, 1, (int)procedure, PacketType.Call, 7, PacketStatus.Ok), body);
        m.Feed(w.ToArray());
        byte[] output = m.TakeOutput();
        Assert.That(output, Is.Not.Empty, "no reply");
        int len = (int)BinaryPrimitives.ReadUInt32BigEndian(output);
        var packet = output.AsSpan(0, len);
        return new RawPacket(PacketFraming.ReadHeader(packet), PacketFraming.Body(packet).ToArray());
    }

    private static void AssertError(RawPacket reply, VirErrorCode code, VirErrorDomain domain, string message)
    {
        Assert.That(reply.Header.Status, Is.EqualTo(PacketStatus.Error), "expected an error");
        var e = reply.Error;
        Assert.That((e.Code, e.Domain, e.Message), Is.EqualTo(((int)code, (int)domain, message)));
    }

    private static NonnullServer Srv(string name) => new() { Name = name };

    private static TypedParam UInt(string field, uint v) => new() { Field = field, Value = new TypedParamValue { Type = 2, Ui = v } };

    [Test]
    public void EveryProcedureOfTheProgramHasARow() =>
        Assert.That(_admin.Rows.Procedures, Is.EqualTo(Enumerable.Range(1, 19)));

    [Test]
    public void GeneratedLookupsAndHandWrittenDispatchersWordAnUnknownServerDifferently()
    {
        using var m = Session();
        AssertError(Roundtrip(m, Procedure.ServerGetThreadpoolParameters, new ServerGetThreadpoolParametersArgs { Srv = Srv("x") }),
            VirErrorCode.NoServer, VirErrorDomain.Rpc, "Server not found: No server named 'x'");
        AssertError(Roundtrip(m, Procedure.ServerSetThreadpoolParameters, new ServerSetThreadpoolParametersArgs { Srv = Srv("x"), Params = [] }),
            VirErrorCode.NoServer, VirErrorDomain.Admin, "Server not found: no server with matching name 'x' found");
        AssertError(Roundtrip(m, Procedure.ClientGetInfo, new ClientGetInfoArgs { Clnt = new NonnullClient { Srv = Srv("admin"), Id = 12345 } }),
            VirErrorCode.NoClient, VirErrorDomain.Admin, "Client not found: no client with matching id '12345' found");
        AssertError(Roundtrip(m, Procedure.ServerLookupClient, new ServerLookupClientArgs { Srv = Srv("admin"), Id = 12345 }),
            VirErrorCode.NoClient, VirErrorDomain.Rpc, "Client not found: No client with matching ID '12345'");
    }

    [Test]
    public void FlagsAreRefusedAsVirCheckFlagsDoes()
    {
        using var m = Session();
        AssertError(Roundtrip(m, Procedure.ConnectListServers, new ConnectListServersArgs { NeedResults = 1, Flags = 4 }),
            VirErrorCode.InvalidArg, VirErrorDomain.Admin, "unsupported flags (0x4) in function adminConnectListServers");
        AssertError(Roundtrip(m, Procedure.ConnectOpen, new ConnectOpenArgs { Flags = 1 }),
            VirErrorCode.InvalidArg, VirErrorDomain.Admin, "unsupported flags (0x1) in function adminDispatchConnectOpen");
        // adminConnectLookupServer checks the flags against themselves: any pass
        Assert.That(Roundtrip(m, Procedure.ConnectLookupServer, new ConnectLookupServerArgs { Name = "admin", Flags = 8 })
            .Decode<ConnectLookupServerRet>().Srv.Name, Is.EqualTo("admin"));
    }

    [Test]
    public void TypedParametersAreValidatedAsVirTypedParamsValidate()
    {
        using var m = Session();
        AssertError(Roundtrip(m, Procedure.ServerSetThreadpoolParameters, new ServerSetThreadpoolParametersArgs
        {
            Srv = Srv("admin"), Params = [UInt("maxWorkers", 9), UInt("nWorkers", 3)],
        }), VirErrorCode.ArgumentUnsupported, VirErrorDomain.None, "argument unsupported: parameter 'nWorkers' not supported");
        AssertError(Roundtrip(m, Procedure.ServerSetThreadpoolParameters, new ServerSetThreadpoolParametersArgs
        {
            Srv = Srv("admin"), Params = [new TypedParam { Field = "minWorkers", Value = new TypedParamValue { Type = 4, Ul = 2 } }],
        }), VirErrorCode.InvalidArg, VirErrorDomain.None, "invalid argument: invalid type 'ullong' for parameter 'minWorkers', expected 'uint'");
        AssertError(Roundtrip(m, Procedure.ServerSetClientLimits, new ServerSetClientLimitsArgs
        {
            Srv = Srv("admin"), Params = [UInt("nclients_max", 9), UInt("nclients_max", 8)],
        }), VirErrorCode.InvalidArg, VirErrorDomain.None, "invalid argument: parameter 'nclients_max' occurs multiple times");
        Assert.That(_server.Admin.ClientStats.MaxClients, Is.EqualTo(new ServerLimits().MaxClients), "nothing changed");
    }

    [Test]
    public void SetThreadpoolChangesThePool()
    {
        using var m = Session();
        var reply = Roundtrip(m, Procedure.ServerSetThreadpoolParameters, new ServerSetThreadpoolParametersArgs
        {
            Srv = Srv("virtnetworkd"), Params = [UInt("minWorkers", 2), UInt("maxWorkers", 7)],
        });
        Assert.That(reply.Header.Status, Is.Zero);
        var stats = _server.Main.Workers.Stats;
        Assert.That((stats.MinWorkers, stats.MaxWorkers), Is.EqualTo((2, 7)));
        var info = Roundtrip(m, Procedure.ServerGetThreadpoolParameters, new ServerGetThreadpoolParametersArgs { Srv = Srv("virtnetworkd") })
            .Decode<ServerGetThreadpoolParametersRet>().Params;
        Assert.That(info.Select(p => (p.Field, p.Value.Type)), Is.EqualTo(new[]
        {
            ("minWorkers", 2), ("maxWorkers", 2), ("nWorkers", 2), ("freeWorkers", 2), ("prioWorkers", 2), ("jobQueueDepth", 2),
        }));
        Assert.That(info[0].Value.Ui, Is.EqualTo(2u));
    }

    [Test]
    public void ListServersCountsWithoutNamesWhenNoResultsAreWanted()
    {
        using var m = Session();
        var none = Roundtrip(m, Procedure.ConnectListServers, new ConnectListServersArgs { NeedResults = 0 }).Decode<ConnectListServersRet>();
        Assert.That((none.Ret, none.Servers.Length), Is.EqualTo((2u, 0)));
        var all = Roundtrip(m, Procedure.ConnectListServers, new ConnectListServersArgs { NeedResults = 1 }).Decode<ConnectListServersRet>();
        Assert.That(all.Servers.Select(s => s.Name), Is.EqualTo(new[] { "virtnetworkd", "admin" }));
    }

    [Test]
    public void TheDaemonTimeoutIsSet()
    {
        using var m = Session();
        Assert.That(Roundtrip(m, Procedure.ConnectSetDaemonTimeout, new ConnectSetDaemonTimeoutArgs { Timeout = 42 }).Header.Status, Is.Zero);
        Assert.That(_idle.Seconds, Is.EqualTo(42u));
        AssertError(Roundtrip(m, Procedure.ConnectSetDaemonTimeout, new ConnectSetDaemonTimeoutArgs { Timeout = 1, Flags = 1 }),
            VirErrorCode.InvalidArg, VirErrorDomain.Admin, "unsupported flags (0x1) in function adminConnectSetDaemonTimeout");
        Assert.That(_idle.Seconds, Is.EqualTo(42u));
    }

    [Test]
    public void NoFilterIsANullString()
    {
        using var m = Session();
        var ret = Roundtrip(m, Procedure.ConnectGetLoggingFilters, new ConnectGetLoggingFiltersArgs()).Decode<ConnectGetLoggingFiltersRet>();
        Assert.That((ret.Filters, ret.Nfilters), Is.EqualTo(((string?)null, 0u)));
    }

    /// <summary>The fuzzing harness's seam: with a <see cref="LogRuntime"/> of its own in the
    /// context, the logging procedures read and change that one, open no output and leave the
    /// process's logging as it was.</summary>
    [Test]
    public void TheLoggingCallsUseTheContextsOwnLogRuntimeWhenGiven()
    {
        var stderr = new LogOutput(LogPriority.Warning, LogDestination.Stderr);
        var own = new LogSettings { Outputs = [stderr], DefaultOutputs = [stderr] };
        var admin = new AdminDispatcher(euid: 0);
        admin.Attach(new AdminContext(_server, _idle, new LogRuntime(() => own, x => own = x, x => own = x)));
        var process = Log.Settings;
        using var m = new MemorySession(admin, ListenerRole.Admin, ListenerAuth.None, new PeerCredentials(Environment.ProcessId, 0, 0));

        Assert.That(Roundtrip(m, Procedure.ConnectSetLoggingOutputs, new ConnectSetLoggingOutputsArgs { Outputs = "1:file:/nonexistent-vnd/x.log" }).Header.Status, Is.Zero);
        Assert.That(own.Outputs, Is.EqualTo(new[] { new LogOutput(LogPriority.Debug, LogDestination.File, "/nonexistent-vnd/x.log") }));
        Assert.That(File.Exists("/nonexistent-vnd/x.log"), Is.False);
        Assert.That(Roundtrip(m, Procedure.ConnectSetLoggingFilters, new ConnectSetLoggingFiltersArgs { Filters = "3:rpc" }).Header.Status, Is.Zero);
        var filters = Roundtrip(m, Procedure.ConnectGetLoggingFilters, new ConnectGetLoggingFiltersArgs()).Decode<ConnectGetLoggingFiltersRet>();
        Assert.That((filters.Filters, filters.Nfilters), Is.EqualTo(("3:*rpc* ", 1u)));
        Assert.That(Roundtrip(m, Procedure.ConnectSetLoggingOutputs, new ConnectSetLoggingOutputsArgs { Outputs = "" }).Header.Status, Is.Zero);
        Assert.That(own.Outputs, Is.EqualTo(new[] { stderr }), "back to the default outputs");
        Assert.That(Log.Settings, Is.SameAs(process), "the process's logging is untouched");
    }

    [Test]
    public void AClientOfAnotherUserIsRefused()
    {
        using var m = Session(uid: 1000);
        m.Feed(Call(Procedure.ConnectOpen, new ConnectOpenArgs()));
        Assert.That(m.Closed, Is.True, "remoteAdmClientNew refuses a uid other than the daemon's");
        Assert.That(m.TakeOutput(), Is.Empty);
    }

    private static byte[] Call<T>(Procedure procedure, in T body) where T : IXdrType<T>
    {
        using var w = new PooledBufferWriter();
        PacketWriter.Write(w, new PacketHeader(AdminProgram.Number, 1, (int)procedure, PacketType.Call, 1, PacketStatus.Ok), body);
        return w.ToArray();
    }
}
