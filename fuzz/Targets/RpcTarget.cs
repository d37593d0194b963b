using System.Buffers.Binary;
using System.Text;
using VirtNetworkd.NetworkDriver.Driver;
using Admin = VirtNetworkd.Protocol.Admin;
using AdminProcedure = VirtNetworkd.Protocol.Admin.Procedure;
using AdminProgram = VirtNetworkd.Protocol.Admin.AdminProgram;
using VirtNetworkd.Protocol.Framing;
using KeepaliveProcedure = VirtNetworkd.Protocol.Keepalive.Procedure;
using KeepaliveProgram = VirtNetworkd.Protocol.Keepalive.KeepaliveProgram;
using VirtNetworkd.Protocol.Remote;
using VirtNetworkd.Protocol.Xdr;
using VirtNetworkd.Server.Admin;
using VirtNetworkd.Server.Host;
using VirtNetworkd.Server.Host.Logging;
using VirtNetworkd.Server.Remote;
using VirtNetworkd.Server.Rpc;

namespace VirtNetworkd.Fuzz;

/// <summary>
/// Target 1: an RPC session fed a raw byte stream, in memory (<see cref="MemorySession"/>, worker
/// calls inline), against a network driver with the in-process backend over a fresh folder in
/// /dev/shm. Input: byte 0 picks the socket (0 remote read-write, 1 remote read-only, 2 admin,
/// 3 remote read-write with polkit auth and a non-root peer); byte 1 is the size of the pieces the
/// stream is fed in (0: all at once); the rest is the stream (packets of every program: remote,
/// admin, keepalive). The admin program is attached to a real <see cref="RpcServer"/> (its two named
/// servers, limits and worker pools, no socket) with three in-memory clients registered (ids 1–3:
/// remote read-write, remote read-only as uid 1000, admin), an <see cref="IdleShutdown"/> that never
/// fires and a <see cref="LogRuntime"/> of its own (fuzzed log outputs open no file and leave the
/// process's logging alone); after each admin input the limits, worker counts, timeout and log
/// settings are put back, so every input starts from the same daemon. Oracle: nothing escapes the session; no call ends in the catch-all
/// ("proc N failed: exception", logged at error level: the handler threw something other than
/// LibvirtError / XdrDecodeException / XdrEncodeException); what the daemon sends is whole packets
/// of our programs, replies and messages only.
/// </summary>
public sealed class RpcTarget : FuzzTarget
{
    public override string Name => "rpc";
    public override string Summary => "RPC session in memory fed raw packet streams (remote rw/ro, admin, keepalive); no unexpected exception, well-framed output";

    private string _root = "";
    private string _errorLog = "";
    private long _errorLogSeen;

    public override void Setup()
    {
        if (_root.Length > 0) return;
        string shm = Directory.Exists("/dev/shm") ? "/dev/shm" : Path.GetTempPath();
        _root = Path.Combine(shm, $"vnd-fuzz-rpc-{Environment.ProcessId}");
        Directory.CreateDirectory(_root);
        AppDomain.CurrentDomain.ProcessExit += (_, _) => { try { Directory.Delete(_root, true); } catch (IOException) { } };
        // the session logs a call that ended in its catch-all at error level: send errors to a file we read back
        _errorLog = Path.Combine(_root, "errors.log");
        Log.Configure(new LogSettings
        {
            DefaultPriority = LogPriority.Error,
            Outputs = [new LogOutput(LogPriority.Error, LogDestination.File, _errorLog)],
        });
        AdminDaemon();
    }

    // ---- the admin program's daemon

    private static readonly LogOutput AdminLogOutput = new(LogPriority.Warning, LogDestination.Stderr);
    private static readonly LogSettings AdminLogStart = new() { Outputs = [AdminLogOutput], DefaultOutputs = [AdminLogOutput] };

    /// <summary>The most threads a fuzzed SERVER_SET_THREADPOOL_PARAMETERS may ask for (see <see cref="CappedAdmin"/>).</summary>
    private const uint MaxFuzzedWorkers = 8;

    private RpcServer? _server;
    private IdleShutdown? _idle;
    private LogSettings _adminLog = AdminLogStart;
    private readonly List<(NetServer Server, ClientLimitStats Limits, WorkerPoolStats Workers)> _serverStart = [];
    private MemorySession[] _registered = [];

    private void AdminDaemon()
    {
        var limits = new ServerLimits { MinWorkers = 1, MaxWorkers = 4, PrioWorkers = 1 };
        _server = new RpcServer(limits, limits, _ => null, Log.For("rpc"));
        _idle = new IdleShutdown(() => 1, () => true, () => { }, Log.For("fuzz"));
        var admin = new AdminDispatcher(euid: 0);
        admin.Attach(new AdminContext(_server, _idle, new LogRuntime(() => _adminLog, s => _adminLog = s, s => _adminLog = s)));
        _adminProgram = new CappedAdmin(admin);
        // clients the admin calls can list, look up, describe and close: made first, so their ids are 1, 2, 3
        _registered =
        [
            Register(_server.Main, ListenerRole.ReadWrite, new PeerCredentials(4001, 0, 0)),
            Register(_server.Main, ListenerRole.ReadOnly, new PeerCredentials(4002, 1000, 1000)),
            Register(_server.Admin, ListenerRole.Admin, new PeerCredentials(4003, 0, 0)),
        ];
        foreach (var server in _server.Servers) _serverStart.Add((server, server.ClientStats, server.Workers.Stats));
    }

    private static MemorySession Register(NetServer server, ListenerRole role, PeerCredentials peer)
    {
        var client = new MemorySession(null, role, ListenerAuth.None, peer);
        server.TakeSlotAsync(CancellationToken.None).GetAwaiter().GetResult();
        server.Add(client.Session);
        return client;
    }

    /// <summary>Puts back what admin calls change: client limits, worker counts, the idle timeout, the log settings
    /// (a closed registered client stays closed: closing it again or describing it answers the same).</summary>
    private void ResetAdminDaemon()
    {
        foreach (var (server, limits, workers) in _serverStart)
        {
            server.SetClientLimits(limits.MaxClients, limits.MaxUnauthClients);
            server.Workers.SetParameters(workers.MinWorkers, workers.MaxWorkers, workers.PrioWorkers);
        }
        _idle!.SetTimeout(0);
        _adminLog = AdminLogStart;
    }

    /// <summary>
    /// The admin program as the daemon serves it, except that SERVER_SET_THREADPOOL_PARAMETERS's
    /// worker counts are capped at <see cref="MaxFuzzedWorkers"/> before the call runs: like
    /// libvirt's virThreadPoolSetParameters, ours starts as many threads as asked, so an input
    /// asking for millions would only measure thread creation (and hang afl-fuzz).
    /// </summary>
    private sealed class CappedAdmin(AdminDispatcher inner) : IProgramDispatcher
    {
        public uint Program => inner.Program;
        public uint Version => inner.Version;
        public bool IsKnownProcedure(int procedure) => inner.IsKnownProcedure(procedure);
        public bool NeedsAuth(int procedure) => inner.NeedsAuth(procedure);
        public void OnClientClosed(IRpcClient client) => inner.OnClientClosed(client);

        public void Dispatch(IRpcClient client, in PacketHeader header, ReadOnlySpan<byte> body)
        {
            if (header.Procedure == (int)AdminProcedure.ServerSetThreadpoolParameters && Capped(body) is { } capped)
                inner.Dispatch(client, header, capped);
            else
                inner.Dispatch(client, header, body);
        }

        private static byte[]? Capped(ReadOnlySpan<byte> body)
        {
            Admin.ServerSetThreadpoolParametersArgs args;
            try
            {
                args = XdrCodec.Decode<Admin.ServerSetThreadpoolParametersArgs>(body);
            }
            catch (XdrDecodeException)
            {
                return null;
            }
            bool changed = false;
            var ps = args.Params ?? [];
            for (int i = 0; i < ps.Length; i++)
            {
                if (ps[i].Value.Type != 2 /* VIR_TYPED_PARAM_UINT */ || ps[i].Value.Ui <= MaxFuzzedWorkers) continue;
                ps[i].Value.Ui = MaxFuzzedWorkers;
                changed = true;
            }
            return changed ? XdrCodec.ToArray(args) : null;
        }
    }

    public override void Run(ReadOnlySpan<byte> input)
    {
        Setup();
        if (input.Length < 2) return;
        int mode = input[0] & 3;
        int chunk = input[1];
        var stream = input[2..];

        // a fresh driver per input, unless the last input left it untouched (its generation counts
        // every change): building one costs more than most inputs
        if (_driver is null || _driver.Generation != _driverGeneration)
            NewDriver();
        IProgramDispatcher program = mode == 2 ? _adminProgram! : _remote!;
        var role = mode switch { 1 => ListenerRole.ReadOnly, 2 => ListenerRole.Admin, _ => ListenerRole.ReadWrite };
        var auth = mode == 3 ? ListenerAuth.Polkit : ListenerAuth.None;
        var peer = new PeerCredentials(4242, mode == 3 ? 1000u : 0u, mode == 3 ? 1000u : 0u);
        var output = new MemoryStream();
        using (var session = new MemorySession(program, role, auth, peer))
        {
            if (chunk == 0)
            {
                session.Feed(stream);
            }
            else
            {
                for (int i = 0; i < stream.Length && !session.Closed; i += chunk)
                {
                    session.Feed(stream.Slice(i, Math.Min(chunk, stream.Length - i)));
                    output.Write(session.TakeOutput());
                }
            }
            session.EndOfInput();
            output.Write(session.TakeOutput());
        }
        if (mode == 2) ResetAdminDaemon();
        CheckOutput(output.ToArray());
        CheckErrorLog();
    }

    private NetworkDriver.Driver.NetworkDriver? _driver;
    private long _driverGeneration;
    private IProgramDispatcher? _remote;
    private IProgramDispatcher? _adminProgram;

    private void NewDriver()
    {
        string dir = Path.Combine(_root, "driver");
        if (Directory.Exists(dir)) Directory.Delete(dir, true);
        _driver = new NetworkDriver.Driver.NetworkDriver(Path.Combine(dir, "networks"), Path.Combine(dir, "networks", "autostart"),
            Path.Combine(dir, "state"), privileged: true, new InProcessBackend());
        _driver.Load();
        _driverGeneration = _driver.Generation;
        _remote = new RemoteDispatcher(new RemoteContext(true, 5, 5, _driver, new NetworkEventHub(_driver)));
    }

    private static void CheckOutput(byte[] output)
    {
        for (int i = 0; i < output.Length;)
        {
            if (output.Length - i < PacketFraming.MinPacketSize)
                throw new FuzzFinding($"the daemon sent a truncated packet at offset {i} of {output.Length}");
            int len = (int)BinaryPrimitives.ReadUInt32BigEndian(output.AsSpan(i));
            if (len < PacketFraming.MinPacketSize || len > output.Length - i)
                throw new FuzzFinding($"the daemon sent a packet of length {len} at offset {i} of {output.Length}");
            var h = PacketFraming.ReadHeader(output.AsSpan(i, len));
            if (h.Program is not (RemoteProgram.Number or AdminProgram.Number or KeepaliveProgram.Number)
                && h.Status != PacketStatus.Error)
                throw new FuzzFinding($"the daemon sent a packet of program 0x{h.Program:x8} that is not an error reply");
            if (h.Type is not (PacketType.Reply or PacketType.Message))
                throw new FuzzFinding($"the daemon sent a packet of type {h.Type}");
            i += len;
        }
    }

    private void CheckErrorLog()
    {
        var info = new FileInfo(_errorLog);
        if (!info.Exists || info.Length <= _errorLogSeen) return;
        string text;
        using (var f = new FileStream(_errorLog, FileMode.Open, FileAccess.Read, FileShare.ReadWrite))
        {
            f.Seek(_errorLogSeen, SeekOrigin.Begin);
            text = new StreamReader(f, Encoding.UTF8).ReadToEnd();
            _errorLogSeen = f.Length;
        }
        foreach (var line in text.Split('\n'))
        {
            if (System.Text.RegularExpressions.Regex.IsMatch(line, @"client \d+: (proc -?\d+ failed|after a reply): "))
                throw new FuzzFinding("a call ended in the session's catch-all: " + text);
        }
    }

    // ---- seeds -------------------------------------------------------------------------------

    internal static byte[] Packet<T>(uint program, int procedure, uint serial, in T body, int type = PacketType.Call) where T : IXdrType<T>
    {
        using var w = new PooledBufferWriter();
        PacketWriter.Write(w, new PacketHeader(program, program == KeepaliveProgram.Number ? KeepaliveProgram.Version : 1, procedure, type, serial, PacketStatus.Ok), body);
        return w.ToArray();
    }

    private static byte[] Call<T>(Procedure p, uint serial, in T body) where T : IXdrType<T> => Packet(RemoteProgram.Number, (int)p, serial, body);

    private static NonnullNetwork Net(string name) => new() { Name = name, Uuid = new byte[16] };

    public const string SampleNetwork = "<network><name>fz</name><uuid>c5f8a4a6-7d2e-4b0d-9f43-3d1b9e1d0a11</uuid><forward mode='nat'/><bridge name='vbfz0'/>" +
        "<mac address='52:54:00:12:34:56'/><ip address='192.168.150.1' netmask='255.255.255.0'><dhcp><range start='192.168.150.2' end='192.168.150.254'/>" +
        "<host mac='52:54:00:00:00:01' name='h1' ip='192.168.150.10'/></dhcp></ip><portgroup name='pg'/></network>";

    private static byte[] Open() => [.. Call(Procedure.AuthList, 1, new XdrVoid()), .. Call(Procedure.ConnectOpen, 2, new ConnectOpenArgs { Name = "network:///system" })];

    public static IEnumerable<(string, byte[])> OwnStreams()
    {
        byte[] open = Open();
        byte[] define = Call(Procedure.NetworkDefineXml, 3, new NetworkDefineXmlArgs { Xml = SampleNetwork });
        byte[] start = Call(Procedure.NetworkCreate, 4, new NetworkCreateArgs { Net = Net("fz") });
        yield return ("open", open);
        yield return ("define-start-dump", [.. open, .. define, .. start,
            .. Call(Procedure.NetworkGetXmlDesc, 5, new NetworkGetXmlDescArgs { Net = Net("fz") }),
            .. Call(Procedure.ConnectListAllNetworks, 6, new ConnectListAllNetworksArgs { NeedResults = 1, Flags = 3 })]);
        yield return ("events", [.. open, .. Call(Procedure.ConnectNetworkEventRegisterAny, 3, new ConnectNetworkEventRegisterAnyArgs { EventID = 0 }),
            .. Call(Procedure.NetworkCreateXml, 4, new NetworkCreateXmlArgs { Xml = SampleNetwork }),
            .. Call(Procedure.NetworkDestroy, 5, new NetworkDestroyArgs { Net = Net("fz") })]);
        yield return ("update", [.. open, .. define, .. Call(Procedure.NetworkUpdate, 4, new NetworkUpdateArgs
        {
            Net = Net("fz"), Command = 3, Section = 4, ParentIndex = -1, Xml = "<host mac='52:54:00:00:00:02' name='h2' ip='192.168.150.11'/>", Flags = 2,
        })]);
        yield return ("port", [.. open, .. define, .. start, .. Call(Procedure.NetworkPortCreateXml, 5, new NetworkPortCreateXmlArgs
        {
            Network = Net("fz"), Flags = 0,
            Xml = "<networkport><uuid>5d0ad2a8-2a53-4a5a-9e1a-5c5d3c4f5b01</uuid><owner><name>vm</name><uuid>6e1bd3b9-3b64-4b6b-af2b-6d6e4d506c12</uuid></owner>" +
                  "<mac address='52:54:00:aa:bb:cc'/><plug type='network' bridge='vbfz0'/></networkport>",
        })]);
        yield return ("metadata", [.. open, .. define, .. Call(Procedure.NetworkSetMetadata, 4, new NetworkSetMetadataArgs
        {
            Network = Net("fz"), Type = 0, Metadata = "a description", Flags = 2,
        })]);
        yield return ("keepalive", [.. Call(Procedure.ConnectSupportsFeature, 1, new ConnectSupportsFeatureArgs { Feature = 4 }),
            .. Packet(KeepaliveProgram.Number, (int)KeepaliveProcedure.Ping, 0, new XdrVoid(), PacketType.Message),
            .. Packet(KeepaliveProgram.Number, (int)KeepaliveProcedure.Pong, 0, new XdrVoid(), PacketType.Message)]);
        yield return ("close", [.. open, .. Call(Procedure.ConnectClose, 3, new XdrVoid()), .. Call(Procedure.ConnectGetUri, 4, new XdrVoid())]);
        yield return ("polkit", [.. Call(Procedure.AuthList, 1, new XdrVoid()), .. Call(Procedure.AuthPolkit, 2, new XdrVoid())]);
    }

    private static byte[] AdminCall<T>(AdminProcedure p, uint serial, in T body) where T : IXdrType<T> => Packet(AdminProgram.Number, (int)p, serial, body);

    private static Admin.TypedParam AdminUInt(string field, uint value) => new() { Field = field, Value = new Admin.TypedParamValue { Type = 2, Ui = value } };

    /// <summary>What virt-admin sends: servers, clients (ids 1–3 are registered), limits, logging, timeout.</summary>
    public static IEnumerable<(string, byte[])> AdminStreams()
    {
        byte[] open = AdminCall(AdminProcedure.ConnectOpen, 1, new Admin.ConnectOpenArgs());
        Admin.NonnullServer main = new() { Name = "virtnetworkd" }, admin = new() { Name = "admin" };
        yield return ("servers", [.. open, .. AdminCall(AdminProcedure.ConnectListServers, 2, new Admin.ConnectListServersArgs { NeedResults = 1 }),
            .. AdminCall(AdminProcedure.ConnectLookupServer, 3, new Admin.ConnectLookupServerArgs { Name = "admin" }),
            .. AdminCall(AdminProcedure.ConnectGetLibVersion, 4, new XdrVoid())]);
        yield return ("clients", [.. open, .. AdminCall(AdminProcedure.ServerListClients, 2, new Admin.ServerListClientsArgs { Srv = main, NeedResults = 1 }),
            .. AdminCall(AdminProcedure.ServerLookupClient, 3, new Admin.ServerLookupClientArgs { Srv = main, Id = 1 }),
            .. AdminCall(AdminProcedure.ClientGetInfo, 4, new Admin.ClientGetInfoArgs { Clnt = new Admin.NonnullClient { Srv = main, Id = 2 } }),
            .. AdminCall(AdminProcedure.ClientGetInfo, 5, new Admin.ClientGetInfoArgs { Clnt = new Admin.NonnullClient { Srv = admin, Id = 3 } }),
            .. AdminCall(AdminProcedure.ClientClose, 6, new Admin.ClientCloseArgs { Clnt = new Admin.NonnullClient { Srv = main, Id = 1 } })]);
        yield return ("limits", [.. open, .. AdminCall(AdminProcedure.ServerGetClientLimits, 2, new Admin.ServerGetClientLimitsArgs { Srv = main }),
            .. AdminCall(AdminProcedure.ServerSetClientLimits, 3, new Admin.ServerSetClientLimitsArgs { Srv = main, Params = [AdminUInt("nclients_max", 10), AdminUInt("nclients_unauth_max", 5)] }),
            .. AdminCall(AdminProcedure.ServerGetThreadpoolParameters, 4, new Admin.ServerGetThreadpoolParametersArgs { Srv = admin }),
            .. AdminCall(AdminProcedure.ServerSetThreadpoolParameters, 5, new Admin.ServerSetThreadpoolParametersArgs { Srv = admin, Params = [AdminUInt("minWorkers", 2), AdminUInt("maxWorkers", 6), AdminUInt("prioWorkers", 2)] }),
            .. AdminCall(AdminProcedure.ServerUpdateTlsFiles, 6, new Admin.ServerUpdateTlsFilesArgs { Srv = main })]);
        yield return ("logging", [.. open, .. AdminCall(AdminProcedure.ConnectGetLoggingOutputs, 2, new Admin.ConnectGetLoggingOutputsArgs()),
            .. AdminCall(AdminProcedure.ConnectSetLoggingOutputs, 3, new Admin.ConnectSetLoggingOutputsArgs { Outputs = "1:file:/nonexistent/x.log 3:stderr 4:syslog:vnd" }),
            .. AdminCall(AdminProcedure.ConnectSetLoggingFilters, 4, new Admin.ConnectSetLoggingFiltersArgs { Filters = "1:rpc 3:+remote 4:*" }),
            .. AdminCall(AdminProcedure.ConnectGetLoggingFilters, 5, new Admin.ConnectGetLoggingFiltersArgs()),
            .. AdminCall(AdminProcedure.ConnectSetLoggingOutputs, 6, new Admin.ConnectSetLoggingOutputsArgs { Outputs = "" })]);
        yield return ("timeout", [.. open, .. AdminCall(AdminProcedure.ConnectSetDaemonTimeout, 2, new Admin.ConnectSetDaemonTimeoutArgs { Timeout = 30 }),
            .. AdminCall(AdminProcedure.ConnectClose, 3, new XdrVoid())]);
    }

    public override IEnumerable<(string Name, byte[] Data)> Seeds(SeedSources sources)
    {
        foreach (var (name, stream) in OwnStreams())
        {
            yield return ($"own-{name}", [0, 0, .. stream]);
            yield return ($"own-{name}-ro", [1, 0, .. stream]);
        }
        yield return ("own-open-pieces", [0, 7, .. Open()]);
        yield return ("own-polkit-nonroot", [3, 0, .. OwnStreams().First(s => s.Item1 == "polkit").Item2]);
        for (int p = 1; p <= 19; p++)
            yield return ($"own-admin-{p}", [2, 0, .. Packet(AdminProgram.Number, p, 1, new XdrVoid())]);
        foreach (var (name, stream) in AdminStreams())
            yield return ($"own-admin-{name}", [2, 0, .. stream]);

        var golden = sources.Golden(".call.hex").ToList();
        var prefix = golden.Where(g => g.Name is "auth_list" or "connect_open").OrderBy(g => g.Name).SelectMany(g => g.Packet).ToArray();
        foreach (var (name, packet) in golden)
            yield return ($"golden-{name}", [0, 0, .. prefix, .. packet]);
        if (golden.Count > 0)
            yield return ("golden-all", [0, 0, .. prefix, .. golden.SelectMany(g => g.Packet)]);
        foreach (var (name, packet) in sources.Golden(".hex").Where(g => g.Name.StartsWith("keepalive", StringComparison.Ordinal)))
            yield return ($"golden-{name}", [0, 0, .. packet]);
    }

    public override IEnumerable<byte[]> Dictionary()
    {
        static byte[] Be(uint v) { var b = new byte[4]; BinaryPrimitives.WriteUInt32BigEndian(b, v); return b; }
        yield return Be(RemoteProgram.Number);
        yield return Be(AdminProgram.Number);
        yield return Be(KeepaliveProgram.Number);
        yield return Be(1);
        yield return Be(0xffffffff);
        yield return Be(PacketFraming.MinPacketSize);
        foreach (var table in new[] { RemoteProgram.Procedures, AdminProgram.Procedures, KeepaliveProgram.Procedures })
            foreach (var p in table.All)
                yield return Be((uint)p.Number);
        foreach (var s in new[] { "network:///system", "network:///session", "<network>", "</network>", "<name>", "</name>" })
            yield return Utf8(s);
    }
}
