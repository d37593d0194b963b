using VirtNetworkd.Protocol.Generator.Compiler;
using VirtNetworkd.Protocol.Programs;
using VirtNetworkd.Tests.Shared;

namespace VirtNetworkd.Protocol.Generator.Tests;

/// <summary>
/// The project's own protocol-defs/*.x: they compile cleanly, and the tables generated into
/// VirtNetworkd.Protocol.dll number and annotate the remote program as libvirt does.
/// </summary>
public sealed class ProtocolDefsTests
{
    private static readonly Lazy<List<XdrSource>> Sources = new(() =>
    {
        var files = Directory.GetFiles(RepoPaths.ProtocolDefs, "*.x").OrderBy(f => f, StringComparer.Ordinal).ToList();
        if (files.Count == 0) Assert.Fail("no .x file in " + RepoPaths.ProtocolDefs);
        return files.Select(f => new XdrSource(f, File.ReadAllText(f))).ToList();
    });

    private static ProcedureTable Remote => VirtNetworkd.Protocol.Remote.RemoteProgram.Procedures;

    [Test]
    public void ProtocolDefs_CompileWithoutDiagnostics_AndTheCSharpIsClean()
    {
        var result = XdrCompiler.Compile(Sources.Value, "Defs.Check");
        Assert.That(result.Diagnostics.Select(d => d.ToString()), Is.Empty);
        Assert.That(result.Files.Select(f => f.HintName), Is.EquivalentTo(new[] { "Remote.g.cs", "Admin.g.cs", "Net.g.cs", "Keepalive.g.cs" }));
        RoslynCompile.AssertClean(result);
    }

    [Test]
    public void ProtocolDefs_CompileToTheSameTextTwice()
    {
        var a = XdrCompiler.Compile(Sources.Value);
        var b = XdrCompiler.Compile(Enumerable.Reverse(Sources.Value));
        Assert.That(a.Files.Select(f => f.HintName + "\n" + f.Text), Is.EqualTo(b.Files.Select(f => f.HintName + "\n" + f.Text)),
            "the output depends on the order the files are given in");
        Assert.That(a, Is.EqualTo(b));
    }

    [Test]
    public void RemoteTable_HasEveryProcedure1To448_ExactlyOnce()
    {
        var numbers = Remote.All.Select(p => p.Number).OrderBy(n => n).ToList();
        Assert.That(numbers, Is.EqualTo(Enumerable.Range(1, 448)));
        Assert.That(Remote.All.Select(p => p.Name), Is.Unique);
        Assert.That(Remote.All.All(p => p.Name.StartsWith("REMOTE_PROC_", StringComparison.Ordinal)), Is.True);
        Assert.That(Remote.Program, Is.EqualTo(0x20008086u));
        Assert.That(Remote.Version, Is.EqualTo(1u));
        for (int n = 1; n <= 448; n++)
        {
            Assert.That(Remote.TryGet(n, out var p), Is.True, "procedure " + n);
            Assert.That(p.Number, Is.EqualTo(n));
        }
        Assert.That(Remote.TryGet(0, out _), Is.False);
        Assert.That(Remote.TryGet(449, out _), Is.False);
    }

    [Test]
    public void RemoteTable_EveryCallHasAnApiName_PureMessagesHaveNone()
    {
        Assert.Multiple(() =>
        {
            foreach (var p in Remote.All)
            {
                // the event messages the server sends (…_EVENT_LIFECYCLE and such) are no C API call;
                // the …_EVENT_REGISTER/_DEREGISTER calls are
                bool pureMessage = p.Name.Contains("_EVENT_", StringComparison.Ordinal) && !p.Name.Contains("REGISTER", StringComparison.Ordinal);
                if (pureMessage) Assert.That(p.ApiName, Is.Null, p.Name);
                else Assert.That(p.ApiName, Does.StartWith("vir"), p.Name);
            }
        });
        Assert.That(Remote.All.Count(p => p.ApiName is null), Is.GreaterThan(10));
    }

    [TestCase("NETWORK_LOOKUP_BY_NAME", 46, "virNetworkLookupByName")]
    [TestCase("NETWORK_GET_XML_DESC", 43, "virNetworkGetXMLDesc")]
    [TestCase("CONNECT_LIST_ALL_NETWORKS", 283, "virConnectListAllNetworks")]
    [TestCase("CONNECT_GET_LIB_VERSION", 157, "virConnectGetLibVersion")]
    [TestCase("CONNECT_NETWORK_EVENT_REGISTER_ANY", 313, "virConnectNetworkEventRegisterAny")]
    public void ReadOnlyProcedures(string name, int number, string api)
    {
        var p = Find(name);
        Assert.That(p.Number, Is.EqualTo(number));
        Assert.That(p.ApiName, Is.EqualTo(api));
        Assert.That(p.ReadOnly, Is.True, string.Join(", ", p.Acl));
    }

    [TestCase("NETWORK_DEFINE_XML", 41)]
    [TestCase("NETWORK_CREATE", 39)]
    [TestCase("NETWORK_DESTROY", 42)]
    [TestCase("NETWORK_UPDATE", 291)]
    [TestCase("NETWORK_SET_AUTOSTART", 48)]
    [TestCase("NETWORK_PORT_CREATE_XML", 406)]
    [TestCase("CONNECT_SET_IDENTITY", 419)]
    [TestCase("NETWORK_SET_METADATA", 444)]
    public void WriteProcedures_AreNotReadOnly(string name, int number)
    {
        var p = Find(name);
        Assert.That(p.Number, Is.EqualTo(number));
        Assert.That(p.ReadOnly, Is.False, string.Join(", ", p.Acl));
        Assert.That(p.Acl, Is.Not.Empty);
    }

    [Test]
    public void NetworkDefineXml_CarriesItsTypesAndAnnotations()
    {
        var p = Find("NETWORK_DEFINE_XML");
        Assert.Multiple(() =>
        {
            Assert.That(p.ApiName, Is.EqualTo("virNetworkDefineXML"));
            Assert.That(p.HighPriority, Is.True);
            Assert.That(p.Acl, Is.EqualTo(new[] { "network:write", "network:save" }));
            Assert.That(p.ArgsType, Is.EqualTo(typeof(VirtNetworkd.Protocol.Remote.NetworkDefineXmlArgs)));
            Assert.That(p.RetType, Is.EqualTo(typeof(VirtNetworkd.Protocol.Remote.NetworkDefineXmlRet)));
            Assert.That(p.MsgType, Is.Null);
        });
        var lifecycle = Find("NETWORK_EVENT_LIFECYCLE");
        Assert.That(lifecycle.MsgType, Is.EqualTo(typeof(VirtNetworkd.Protocol.Remote.NetworkEventLifecycleMsg)));
        Assert.That(lifecycle.ArgsType, Is.Null);
    }

    [Test]
    public void OtherTables_OfTheRuntime()
    {
        var keepalive = VirtNetworkd.Protocol.Keepalive.KeepaliveProgram.Procedures;
        Assert.That(keepalive.Program, Is.EqualTo(0x6b656570u));
        Assert.That(keepalive.All.Select(p => p.Name), Is.EqualTo(new[] { "KEEPALIVE_PROC_PING", "KEEPALIVE_PROC_PONG" }));
        var admin = VirtNetworkd.Protocol.Admin.AdminProgram.Procedures;
        Assert.That(admin.Program, Is.EqualTo(0x06900690u));
        Assert.That(admin.All.Select(p => p.Number).OrderBy(n => n), Is.EqualTo(Enumerable.Range(1, admin.All.Count)));
    }

    /// <summary>The tables inside VirtNetworkd.Protocol.dll are what the compiler makes of the
    /// current protocol-defs (the build did not use a stale generator or stale .x files).</summary>
    [Test]
    public void RuntimeTable_MatchesAFreshCompile()
    {
        var result = XdrCompiler.Compile(Sources.Value.Where(s => s.Path.EndsWith("remote.x", StringComparison.Ordinal)), "Defs.Fresh");
        Assert.That(result.Success, Is.True, string.Join("\n", result.Diagnostics));
        var compilation = RoslynCompile.AssertClean(result);
        using var ms = new MemoryStream();
        Assert.That(compilation.Emit(ms).Success, Is.True);
        var asm = System.Reflection.Assembly.Load(ms.ToArray());
        var fresh = (ProcedureTable)RoslynCompile.TypeIn(asm, "Defs.Fresh.Remote.RemoteProgram").GetProperty("Procedures")!.GetValue(null)!;
        static string Row(ProcedureInfo p) =>
            $"{p.Number} {p.Name} {p.ApiName} hi={p.HighPriority} ro={p.ReadOnly} stream={p.Stream} acl={string.Join("|", p.Acl)} "
            + $"args={p.ArgsType?.Name} ret={p.RetType?.Name} msg={p.MsgType?.Name}";
        Assert.That(fresh.All.Select(Row), Is.EqualTo(Remote.All.Select(Row)));
    }

    private static ProcedureInfo Find(string suffix) =>
        Remote.All.SingleOrDefault(p => p.Name == "REMOTE_PROC_" + suffix) ?? throw new AssertionException("no REMOTE_PROC_" + suffix);
}
