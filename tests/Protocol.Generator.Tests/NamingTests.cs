using VirtNetworkd.Protocol.Generator.Compiler;

namespace VirtNetworkd.Protocol.Generator.Tests;

/// <summary>How libvirt's XDR names become C# names (Compiler/Naming.cs), and that the runtime's
/// generated types carry those names.</summary>
public sealed class NamingTests
{
    [TestCase("remote_network_create_xml_args", "NetworkCreateXmlArgs")]
    [TestCase("remote_nonnull_string", "NonnullString")]
    [TestCase("admin_server_get_threadpool_parameters_ret", "ServerGetThreadpoolParametersRet")]
    [TestCase("qemu_domain_monitor_command_args", "DomainMonitorCommandArgs")]
    [TestCase("lxc_domain_open_namespace_args", "DomainOpenNamespaceArgs")]
    [TestCase("keepalive_procedure", "Procedure")]
    [TestCase("virNetMessageHeader", "MessageHeader")]
    [TestCase("virNetMessageError", "MessageError")]
    [TestCase("virNetworkPtr", "NetworkPtr")]
    [TestCase("virtual_thing", "VirtualThing")]
    [TestCase("remote_", "Remote")]
    [TestCase("remote_2d_point", "X2dPoint")]
    [TestCase("plain", "Plain")]
    [TestCase("demo_thing_get_args", "DemoThingGetArgs")]
    public void TypeName(string xdr, string cs) => Assert.That(Naming.TypeName(xdr), Is.EqualTo(cs));

    [TestCase("REMOTE_STRING_MAX", "StringMax")]
    [TestCase("REMOTE_NETWORK_LIST_MAX", "NetworkListMax")]
    [TestCase("VIR_NET_MESSAGE_MAX", "MessageMax")]
    [TestCase("VIR_UUID_BUFLEN", "UuidBuflen")]
    [TestCase("ADMIN_SERVER_LIST_MAX", "ServerListMax")]
    [TestCase("QEMU_PROGRAM", "Program")]
    [TestCase("LXC_PROTOCOL_VERSION", "ProtocolVersion")]
    [TestCase("KEEPALIVE_PROGRAM", "Program")]
    [TestCase("MAX", "Max")]
    [TestCase("REMOTE_2X", "X2x")]
    [TestCase("PING_V1", "PingV1")]
    public void ConstName(string xdr, string cs) => Assert.That(Naming.ConstName(xdr), Is.EqualTo(cs));

    [TestCase("lib_ver", "LibVer")]
    [TestCase("callbackID", "CallbackID")]
    [TestCase("uuid", "Uuid")]
    [TestCase("a_b", "AB")]
    [TestCase("aB", "AB")]
    [TestCase("_x", "X")]
    public void FieldName(string xdr, string cs) => Assert.That(Naming.FieldName(xdr), Is.EqualTo(cs));

    [TestCase("remote_protocol.x", "Remote")]
    [TestCase("src/remote/remote_protocol.x", "Remote")]
    [TestCase("/usr/share/libvirt/admin_protocol.x", "Admin")]
    [TestCase("qemu_protocol.x", "Qemu")]
    [TestCase("lxc_protocol.x", "Lxc")]
    [TestCase("virnetprotocol.x", "Net")]
    [TestCase("virkeepaliveprotocol.x", "Keepalive")]
    [TestCase("protocol-defs/remote.x", "Remote")]
    [TestCase("protocol-defs/virnet.x", "Net")]
    [TestCase(@"C:\defs\keepalive.x", "Keepalive")]
    [TestCase("my-file.x", "MyFile")]
    [TestCase("protocol.x", "Protocol")]
    [TestCase("2fast.x", "X2fast")]
    public void FileNamespace(string path, string ns) => Assert.That(Naming.FileNamespace(path), Is.EqualTo(ns));

    [Test]
    public void EnumMembers_DropTheSharedLeadingWords()
    {
        Assert.That(Naming.EnumMemberNames(new[] { "REMOTE_PROC_CONNECT_OPEN", "REMOTE_PROC_NETWORK_DEFINE_XML" }),
            Is.EqualTo(new[] { "ConnectOpen", "NetworkDefineXml" }));
        Assert.That(Naming.EnumMemberNames(new[] { "VIR_NET_CALL", "VIR_NET_REPLY", "VIR_NET_CALL_WITH_FDS" }),
            Is.EqualTo(new[] { "Call", "Reply", "CallWithFds" }));
    }

    [Test]
    public void EnumMembers_KeepAWordEach()
    {
        Assert.That(Naming.EnumMemberNames(new[] { "FOO_BAR" }), Is.EqualTo(new[] { "Bar" }));
        Assert.That(Naming.EnumMemberNames(new[] { "A_B", "A" }), Is.EqualTo(new[] { "AB", "A" }));
        Assert.That(Naming.EnumMemberNames(new[] { "KIND_A", "KIND_A_B" }), Is.EqualTo(new[] { "A", "AB" }));
    }

    [Test]
    public void EnumMembers_NeverStartWithADigit()
    {
        Assert.That(Naming.EnumMemberNames(new[] { "VIR_NET_1", "VIR_NET_2" }), Is.EqualTo(new[] { "Net1", "Net2" }));
        Assert.That(Naming.EnumMemberNames(new[] { "X_1_A", "X_2_A" }), Is.EqualTo(new[] { "X1A", "X2A" }));
        Assert.That(Naming.EnumMemberNames(new[] { "X_1_A", "X_1_B" }), Is.EqualTo(new[] { "A", "B" }), "a shared digit word may go");
    }

    [Test]
    public void RuntimeTypes_CarryTheseNames()
    {
        // generated into VirtNetworkd.Protocol.dll from protocol-defs/*.x (read through reflection:
        // they are constants)
        static object? Const(Type t, string name) => (t.GetField(name) ?? throw new AssertionException(t + " has no " + name)).GetRawConstantValue();
        Assert.That(Const(typeof(VirtNetworkd.Protocol.Remote.Constants), "StringMax"), Is.EqualTo(4194304));
        Assert.That(Const(typeof(VirtNetworkd.Protocol.Remote.Procedure), "NetworkDefineXml"), Is.EqualTo(41));
        Assert.That(Const(typeof(VirtNetworkd.Protocol.Remote.Procedure), "ConnectListAllNetworks"), Is.EqualTo(283));
        Assert.That(Const(typeof(VirtNetworkd.Protocol.Net.MessageType), "CallWithFds"), Is.EqualTo(4));
        Assert.That(Const(typeof(VirtNetworkd.Protocol.Keepalive.KeepaliveProgram), "Number"), Is.EqualTo(0x6b656570u));
        Assert.That(typeof(VirtNetworkd.Protocol.Remote.NetworkCreateXmlArgs).IsValueType, Is.True);
        Assert.That(typeof(VirtNetworkd.Protocol.Net.MessageHeader).GetFields().Select(f => f.Name),
            Is.EquivalentTo(new[] { "Prog", "Vers", "Proc", "Type", "Serial", "Status" }));
    }

    [Test]
    public void GeneratedNamespaces_FollowTheFileNames()
    {
        var result = XdrCompiler.Compile(new[]
        {
            new XdrSource("x/remote_protocol.x", "const REMOTE_A = 1;"),
            new XdrSource("x/virnetprotocol.x", "const VIR_NET_B = 2;"),
            new XdrSource("x/virkeepaliveprotocol.x", "const KEEPALIVE_C = 3;"),
        }, "Root.Ns");
        Assert.That(result.Success, Is.True);
        Assert.That(result.Files.Select(f => f.HintName), Is.EquivalentTo(new[] { "Remote.g.cs", "Net.g.cs", "Keepalive.g.cs" }));
        foreach (var f in result.Files)
            Assert.That(f.Text, Does.Contain("namespace Root.Ns." + f.HintName[..^5] + "\n"));
        Assert.That(result.Files.Single(f => f.HintName == "Net.g.cs").Text, Does.Contain("public const int B = 2;"));
    }
}
