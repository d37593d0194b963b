using System.Collections.Concurrent;
using System.Reflection;
using System.Text.RegularExpressions;
using Microsoft.CodeAnalysis.CSharp;
using VirtNetworkd.Protocol.Generator.Compiler;
using VirtNetworkd.Protocol.Programs;
using VirtNetworkd.Tests.Shared;

namespace VirtNetworkd.Protocol.Generator.Tests;

/// <summary>
/// The complete upstream .x files of libvirt 9.0 (Debian 12) and 11.3 (Debian 13) compile as one
/// unit without a diagnostic, the C# compiles without an error or a warning, and the procedure
/// tables say what the .x files say.
/// </summary>
[TestFixture("9.0", null, "Upstream.V90")]
[TestFixture("11.3", "trixie", "Upstream.V113")]
public sealed partial class UpstreamConformanceTests
{
    private static readonly string[] Files =
    {
        "src/remote/remote_protocol.x",
        "src/admin/admin_protocol.x",
        "src/remote/qemu_protocol.x",
        "src/remote/lxc_protocol.x",
        "src/rpc/virnetprotocol.x",
        "src/rpc/virkeepaliveprotocol.x",
    };

    private static readonly ConcurrentDictionary<string, Lazy<Upstream>> Cache = new();

    private readonly string _version;
    private readonly string? _suite;
    private readonly string _namespace;

    public UpstreamConformanceTests(string version, string? suite, string rootNamespace)
    {
        _version = version;
        _suite = suite;
        _namespace = rootNamespace;
    }

    private Upstream U => Cache.GetOrAdd(_namespace, _ => new Lazy<Upstream>(() => new Upstream(RepoPaths.LibvirtSource(_suite), _namespace))).Value;

    private sealed class Upstream
    {
        public Upstream(string root, string ns)
        {
            Root = root;
            Namespace = ns;
            foreach (var f in Files)
            {
                string path = Path.Combine(root, f);
                if (!File.Exists(path)) Assert.Fail($"libvirt's source at {root} has no {f}");
                Sources.Add(new XdrSource(path, File.ReadAllText(path)));
            }
            Result = XdrCompiler.Compile(Sources, ns);
            Compilation = new Lazy<CSharpCompilation>(() => RoslynCompile.Create(Result.Files, ns));
            Assembly = new Lazy<Assembly>(() =>
            {
                using var ms = new MemoryStream();
                var emit = Compilation.Value.Emit(ms);
                if (!emit.Success) Assert.Fail("the generated C# does not emit:\n" + string.Join("\n", emit.Diagnostics.Take(30)));
                return System.Reflection.Assembly.Load(ms.ToArray());
            });
        }

        public string Root { get; }
        public string Namespace { get; }
        public List<XdrSource> Sources { get; } = new();
        public XdrCompilationResult Result { get; }
        public Lazy<CSharpCompilation> Compilation { get; }
        public Lazy<Assembly> Assembly { get; }

        public string Text(string file) => Sources.Single(s => s.Path.EndsWith(file, StringComparison.Ordinal)).Text;

        public ProcedureTable Table(string leaf, string program)
        {
            Assert.That(Result.Success, Is.True, "the .x files did not compile");
            var type = RoslynCompile.TypeIn(Assembly.Value, Namespace + "." + leaf + "." + program);
            var prop = type.GetProperty("Procedures") ?? throw new AssertionException(type + " has no Procedures");
            return (ProcedureTable)prop.GetValue(null)!;
        }
    }

    [GeneratedRegex(@"^\s*([A-Z]+_PROC_\w+)\s*=\s*(\d+)\s*,?", RegexOptions.Multiline)]
    private static partial Regex ProcMember();

    /// <summary>The PREFIX_PROC_* members and their numbers, read straight from the .x text.</summary>
    private static Dictionary<string, int> ProcMembers(string text) =>
        ProcMember().Matches(text).ToDictionary(m => m.Groups[1].Value, m => int.Parse(m.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture));

    [Test]
    public void AllSixFiles_CompileTogether_WithoutDiagnostics()
    {
        Assert.That(U.Result.Diagnostics.Select(d => d.ToString()), Is.Empty, $"libvirt {_version}");
        Assert.That(U.Result.Files.Select(f => f.HintName),
            Is.EquivalentTo(new[] { "Remote.g.cs", "Admin.g.cs", "Qemu.g.cs", "Lxc.g.cs", "Net.g.cs", "Keepalive.g.cs" }));
        Assert.That(U.Result.Files.All(f => f.Text.Contains("namespace " + _namespace + ".", StringComparison.Ordinal)), Is.True);
    }

    [Test]
    public void GeneratedCSharp_CompilesWithoutErrorsOrWarnings()
    {
        Assert.That(U.Result.Success, Is.True, "the .x files did not compile");
        var problems = RoslynCompile.Problems(U.Compilation.Value);
        Assert.That(problems, Is.Empty, $"libvirt {_version}: Roslyn diagnostics:\n" + string.Join("\n", problems.Take(50)));
    }

    [Test]
    public void RemoteTable_HasEveryProcedureOfTheFile_WithItsNumber()
    {
        var expected = ProcMembers(U.Text("remote_protocol.x"));
        Assert.That(expected, Has.Count.GreaterThan(400), "the regex found too few REMOTE_PROC_ members");
        var table = U.Table("Remote", "RemoteProgram");
        Assert.Multiple(() =>
        {
            Assert.That(table.All, Has.Count.EqualTo(expected.Count));
            Assert.That(table.All.ToDictionary(p => p.Name, p => p.Number), Is.EquivalentTo(expected));
            Assert.That(table.Program, Is.EqualTo(0x20008086u));
            Assert.That(table.Version, Is.EqualTo(1u));
            Assert.That(table.Name, Is.EqualTo("remote_procedure"));
        });
    }

    [Test]
    public void RemoteTable_ProcedureCount_PerRelease()
    {
        // 9.0 ends at REMOTE_PROC_DOMAIN_FD_ASSOCIATE (443); 11.3 adds up to 453
        int expected = _version == "9.0" ? 443 : 453;
        var table = U.Table("Remote", "RemoteProgram");
        Assert.That(table.All, Has.Count.EqualTo(expected));
        Assert.That(table.All.Max(p => p.Number), Is.EqualTo(expected));
        Assert.That(table.All.Select(p => p.Number), Is.Unique);
    }

    [Test]
    public void NetworkDefineXml_Is41_HighPriority_NotReadOnly_WithoutApiName()
    {
        var table = U.Table("Remote", "RemoteProgram");
        Assert.That(table.TryGet(41, out var p), Is.True);
        Assert.Multiple(() =>
        {
            Assert.That(p.Name, Is.EqualTo("REMOTE_PROC_NETWORK_DEFINE_XML"));
            // upstream annotates @generate, @priority and @acl but never @api: the compiler does
            // not invent the C function name
            Assert.That(p.ApiName, Is.Null);
            Assert.That(p.HighPriority, Is.True);
            Assert.That(p.ReadOnly, Is.False);
            Assert.That(p.Acl, Is.EqualTo(new[] { "network:write", "network:save" }));
            Assert.That(p.ArgsType?.FullName, Is.EqualTo(_namespace + ".Remote.NetworkDefineXmlArgs"));
            Assert.That(p.RetType?.FullName, Is.EqualTo(_namespace + ".Remote.NetworkDefineXmlRet"));
            Assert.That(p.MsgType, Is.Null);
            Assert.That(p.Stream, Is.False);
        });
    }

    [Test]
    public void ConnectListAllNetworks_Is283_ReadOnly()
    {
        var table = U.Table("Remote", "RemoteProgram");
        Assert.That(table.TryGet(283, out var p), Is.True);
        Assert.Multiple(() =>
        {
            Assert.That(p.Name, Is.EqualTo("REMOTE_PROC_CONNECT_LIST_ALL_NETWORKS"));
            Assert.That(p.ReadOnly, Is.True);
            Assert.That(p.HighPriority, Is.True);
            // @aclfilter is not an @acl
            Assert.That(p.Acl, Is.EqualTo(new[] { "connect:search_networks" }));
        });
    }

    [Test]
    public void UpstreamAnnotations_LowPriorityWriteAndStreams()
    {
        var table = U.Table("Remote", "RemoteProgram");
        Assert.Multiple(() =>
        {
            // REMOTE_PROC_NETWORK_CREATE (39): @acl: network:start, no @priority
            Assert.That(table.TryGet(39, out var create), Is.True);
            Assert.That(create.Name, Is.EqualTo("REMOTE_PROC_NETWORK_CREATE"));
            Assert.That(create.HighPriority, Is.False);
            Assert.That(create.ReadOnly, Is.False);
            // REMOTE_PROC_NETWORK_GET_XML_DESC (43): @priority: high, @acl: network:read
            Assert.That(table.TryGet(43, out var xml), Is.True);
            Assert.That(xml.Name, Is.EqualTo("REMOTE_PROC_NETWORK_GET_XML_DESC"));
            Assert.That(xml.ReadOnly, Is.True);
            Assert.That(xml.HighPriority, Is.True);
            // REMOTE_PROC_DOMAIN_MIGRATE_PREPARE_TUNNEL (148) carries @writestream: 1
            Assert.That(table.TryGet(148, out var tunnel), Is.True);
            Assert.That(tunnel.Stream, Is.True);
            Assert.That(table.All.Count(p => p.Stream), Is.GreaterThan(5));
            Assert.That(table.All.Count(p => p.HighPriority), Is.GreaterThan(50));
        });
    }

    [Test]
    public void OtherPrograms_MatchTheirFiles()
    {
        Assert.Multiple(() =>
        {
            foreach (var (file, leaf, program, number) in new[]
            {
                ("admin_protocol.x", "Admin", "AdminProgram", 0x06900690u),
                ("qemu_protocol.x", "Qemu", "QemuProgram", 0x20008087u),
                ("lxc_protocol.x", "Lxc", "LxcProgram", 0x00068000u),
                ("virkeepaliveprotocol.x", "Keepalive", "KeepaliveProgram", 0x6b656570u),
            })
            {
                var expected = ProcMembers(U.Text(file));
                var table = U.Table(leaf, program);
                Assert.That(expected, Is.Not.Empty, file);
                Assert.That(table.All.ToDictionary(p => p.Name, p => p.Number), Is.EquivalentTo(expected), file);
                Assert.That(table.Program, Is.EqualTo(number), file);
                Assert.That(table.Version, Is.EqualTo(1u), file);
            }
        });
    }

    [Test]
    public void Keepalive_PingPong_AreMessagesWithoutTypes()
    {
        var table = U.Table("Keepalive", "KeepaliveProgram");
        Assert.That(table.All.Select(p => (p.Number, p.Name)), Is.EqualTo(new[] { (1, "KEEPALIVE_PROC_PING"), (2, "KEEPALIVE_PROC_PONG") }));
        Assert.That(table.All.All(p => p.ArgsType is null && p.RetType is null && p.MsgType is null), Is.True);
    }

    [Test]
    public void QemuTable_UsesRemoteTypesAcrossFiles()
    {
        // qemu_protocol.x refers to remote_nonnull_domain from remote_protocol.x
        var table = U.Table("Qemu", "QemuProgram");
        Assert.That(table.TryGet(1, out var monitor), Is.True);
        Assert.That(monitor.Name, Is.EqualTo("QEMU_PROC_DOMAIN_MONITOR_COMMAND"));
        var args = monitor.ArgsType ?? throw new AssertionException("no args type");
        Assert.That(args.FullName, Is.EqualTo(_namespace + ".Qemu.DomainMonitorCommandArgs"));
        Assert.That(args.GetField("Dom")?.FieldType.FullName, Is.EqualTo(_namespace + ".Remote.NonnullDomain"));
    }

    [Test]
    public void NetMessageHeader_EncodesToTheWireLayout()
    {
        Assert.That(U.Result.Success, Is.True);
        var asm = U.Assembly.Value;
        var headerType = RoslynCompile.TypeIn(asm, _namespace + ".Net.MessageHeader");
        var msgType = RoslynCompile.TypeIn(asm, _namespace + ".Net.MessageType");
        var statusType = RoslynCompile.TypeIn(asm, _namespace + ".Net.MessageStatus");
        var header = RoslynCompile.Set(Activator.CreateInstance(headerType)!,
            ("Prog", 0x20008086u), ("Vers", 1u), ("Proc", 41), ("Type", Enum.ToObject(msgType, 1)), ("Serial", 7u), ("Status", Enum.ToObject(statusType, 2)));
        var bytes = RoslynCompile.Encode(header);
        Assert.That(bytes, Is.EqualTo(RoslynCompile.Words(0x20008086, 1, 41, 1, 7, 2)));
        var back = RoslynCompile.Decode(headerType, bytes);
        Assert.That(back, Is.EqualTo(header));
    }
}
