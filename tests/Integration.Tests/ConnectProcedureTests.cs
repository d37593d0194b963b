using VirtNetworkd.Protocol.Framing;
using VirtNetworkd.Protocol.Remote;
using VirtNetworkd.Protocol.Xdr;
using VirtNetworkd.Tests.Shared;

namespace VirtNetworkd.Integration.Tests;

/// <summary>The connect and auth procedures, and the answers to everything else, on the wire.</summary>
public class ConnectProcedureTests : DaemonFixture
{
    private static void AssertError(RawPacket reply, int code, int domain, string message)
    {
        Assert.That(reply.Header.Status, Is.EqualTo(PacketStatus.Error), "expected an error reply");
        var e = reply.Error;
        Assert.Multiple(() =>
        {
            Assert.That(e.Message, Is.EqualTo(message));
            Assert.That(e.Code, Is.EqualTo(code), "code");
            Assert.That(e.Domain, Is.EqualTo(domain), "domain");
            Assert.That(e.Level, Is.EqualTo(2), "level");
        });
    }

    [Test]
    public void AuthListOffersNone()
    {
        using var c = Raw();
        var reply = c.Roundtrip(66);
        Assert.That(reply.Decode<AuthListRet>().Types, Is.EqualTo(new[] { AuthType.None }));
    }

    [Test]
    public void OpenThenTheConnectGetters()
    {
        using var c = Raw();
        c.Open();
        Assert.That(c.Roundtrip((int)Procedure.ConnectGetUri).Decode<ConnectGetUriRet>().Uri, Is.EqualTo("network:///system"));
        Assert.That(c.Roundtrip((int)Procedure.ConnectGetType).Decode<ConnectGetTypeRet>().Type, Is.EqualTo("network"));
        Assert.That(c.Roundtrip((int)Procedure.ConnectGetLibVersion).Decode<ConnectGetLibVersionRet>().LibVer, Is.EqualTo(10008000UL));
        Assert.That(c.Roundtrip((int)Procedure.ConnectIsSecure).Decode<ConnectIsSecureRet>().Secure, Is.EqualTo(1));
        Assert.That(c.Roundtrip((int)Procedure.ConnectRegisterCloseCallback).Header.Status, Is.Zero);
        Assert.That(c.Roundtrip((int)Procedure.ConnectUnregisterCloseCallback).Header.Status, Is.Zero);
    }

    [TestCase(10, 1)] // PROGRAM_KEEPALIVE
    [TestCase(8, 1)] // FD_PASSING
    [TestCase(14, 1)] // REMOTE_EVENT_CALLBACK
    [TestCase(15, 1)] // REMOTE_CLOSE_CALLBACK
    [TestCase(9, 1)] // TYPED_PARAM_STRING
    [TestCase(16, 1)] // NETWORK_UPDATE_HAS_CORRECT_ORDER
    [TestCase(2, 0)] // REMOTE: the client side answers it
    [TestCase(3, 0)] // MIGRATION_V2
    [TestCase(9999, 0)]
    public void SupportsFeature(int feature, int supported)
    {
        using var c = Raw();
        c.Open();
        var reply = c.Roundtrip((int)Procedure.ConnectSupportsFeature, new ConnectSupportsFeatureArgs { Feature = feature });
        Assert.That(reply.Decode<ConnectSupportsFeatureRet>().Supported, Is.EqualTo(supported));
    }

    [Test]
    public void KeepaliveFeatureIsAnsweredBeforeOpen()
    {
        using var c = Raw();
        var reply = c.Roundtrip((int)Procedure.ConnectSupportsFeature, new ConnectSupportsFeatureArgs { Feature = 10 });
        Assert.That(reply.Decode<ConnectSupportsFeatureRet>().Supported, Is.EqualTo(1));
    }

    [Test]
    public void CallsBeforeOpenAreRefused()
    {
        using var c = Raw();
        AssertError(c.Roundtrip((int)Procedure.ConnectGetLibVersion), 1, 7, "internal error: hypervisor connection not open");
        AssertError(c.Roundtrip((int)Procedure.ConnectNumOfNetworks), 1, 7, "internal error: connection not open");
        AssertError(c.Roundtrip((int)Procedure.ConnectSupportsFeature, new ConnectSupportsFeatureArgs { Feature = 14 }), 1, 7, "internal error: hypervisor connection not open");
    }

    [TestCase("qemu:///system", 5, 0, "no connection driver available for qemu:///system")]
    [TestCase("network://remotehost/system", 5, 0, "no connection driver available for network://remotehost/system")]
    [TestCase("network:///session", 1, 0, "internal error: unexpected network URI path '/session', try network:///system")]
    [TestCase("", 5, 0, "no connection driver available for URI '' does not include a driver name")]
    public void OpenRefusesOtherUris(string uri, int code, int domain, string message)
    {
        using var c = Raw();
        AssertError(c.Roundtrip(1, new ConnectOpenArgs { Name = uri }), code, domain, message);
        // a refused open leaves the client free to try again
        c.Open();
    }

    [Test]
    public void OpenWithoutAUriIsRefused()
    {
        using var c = Raw();
        AssertError(c.Roundtrip(1, new ConnectOpenArgs { Name = null }), 1, 7, "internal error: connection not open");
    }

    [Test]
    public void SecondOpenIsRefused()
    {
        using var c = Raw();
        c.Open();
        AssertError(c.Roundtrip(1, new ConnectOpenArgs { Name = "network:///system" }), 1, 7, "internal error: connection already open");
    }

    [TestCase((int)Procedure.ConnectGetVersion, "virConnectGetVersion", 20)]
    [TestCase((int)Procedure.ConnectGetHostname, "virConnectGetHostname", 20)]
    [TestCase((int)Procedure.ConnectGetCapabilities, "virConnectGetCapabilities", 20)]
    [TestCase((int)Procedure.NodeGetInfo, "virNodeGetInfo", 20)]
    [TestCase((int)Procedure.ConnectNumOfDomains, "virConnectNumOfDomains", 20)]
    public void UnimplementedProceduresAreNotSupported(int procedure, string api, int domain)
    {
        using var c = Raw();
        c.Open();
        AssertError(c.Roundtrip(procedure), 3, domain, "this function is not supported by the connection driver: " + api);
    }

    [Test]
    public void OtherDriversConnectionsAreNeverOpen()
    {
        // virtnetworkd opens only the network driver: the storage, secret, … connections do not exist
        using var c = Raw();
        c.Open();
        AssertError(c.Roundtrip((int)Procedure.ConnectNumOfStoragePools), 1, 7, "internal error: connection not open");
        AssertError(c.Roundtrip((int)Procedure.ConnectNumOfSecrets), 1, 7, "internal error: connection not open");
    }

    [TestCase(0)]
    [TestCase(449)]
    [TestCase(99999)]
    [TestCase(-5)]
    public void UnknownProcedureNumbers(int procedure)
    {
        using var c = Raw();
        c.Open();
        AssertError(c.Roundtrip(procedure), 39, 7, $"unknown procedure: {procedure}");
    }

    [Test]
    public void UnknownProgramAndVersion()
    {
        using var c = Raw();
        var s = c.Send(0x12345678, 1, new XdrVoid());
        AssertError(c.ReadReply(s), 39, 7, $"Cannot find program {0x12345678} version 1");
        s = c.Send(RawLibvirtClient.Remote, 1, new XdrVoid(), version: 2);
        AssertError(c.ReadReply(s), 39, 7, $"Cannot find program {(int)RawLibvirtClient.Remote} version 2");
    }

    [Test]
    public void StrayRepliesAndMessagesFromAClientAreIgnored()
    {
        using var c = Raw();
        c.Send(RawLibvirtClient.Remote, 157, new XdrVoid(), type: PacketType.Reply, serial: 77);
        c.Send(RawLibvirtClient.Remote, 157, new XdrVoid(), type: PacketType.Message, serial: 78);
        var reply = c.Roundtrip(66); // the next packet the client sees answers this call
        Assert.That(reply.Header.Procedure, Is.EqualTo(66));
    }

    [Test]
    public void CallWithErrorStatusIsRefused()
    {
        using var c = Raw();
        var s = c.Send(RawLibvirtClient.Remote, 66, new XdrVoid(), status: PacketStatus.Error);
        AssertError(c.ReadReply(s), 39, 7, "Unexpected message status 1");
    }

    [Test]
    public void UndecodableArgumentsGetAnErrorAndTheConnectionLives()
    {
        using var c = Raw();
        var s = c.Send(RawLibvirtClient.Remote, 60, new ConnectGetLibVersionRet { LibVer = 1 }); // 8 bytes where 4 are expected
        AssertError(c.ReadReply(s), 39, 7, "Unable to decode message payload");
        c.Open();
    }

    [Test]
    public void ReadOnlySocketRefusesWritingApis()
    {
        using var c = Raw(Daemon.ReadOnlySocketPath);
        c.Open();
        AssertError(c.Roundtrip((int)Procedure.NetworkDefineXml, new NetworkDefineXmlArgs { Xml = "<network/>" }), 29, 19,
            "operation forbidden: read only access prevents virNetworkDefineXML");
        AssertError(c.Roundtrip((int)Procedure.ConnectSetIdentity, new ConnectSetIdentityArgs { Params = [] }), 29, 20,
            "operation forbidden: read only access prevents virConnectSetIdentity");
        // reading is allowed
        Assert.That(c.Roundtrip((int)Procedure.ConnectGetLibVersion).Header.Status, Is.Zero);
    }

    [Test]
    public void ReadOnlyFlagOnTheReadWriteSocketMakesTheConnectionReadOnly()
    {
        using var c = Raw();
        c.Open(flags: 1);
        AssertError(c.Roundtrip((int)Procedure.NetworkDefineXml, new NetworkDefineXmlArgs { Xml = "<network/>" }), 29, 19,
            "operation forbidden: read only access prevents virNetworkDefineXML");
    }

    [Test]
    public void SetIdentityAcceptsLibvirtsParameters()
    {
        using var c = Raw();
        c.Open();
        var ok = new ConnectSetIdentityArgs
        {
            Params =
            [
                new TypedParam { Field = "user-name", Value = new TypedParamValue { Type = 7, S = "alice" } },
                new TypedParam { Field = "unix-user-id", Value = new TypedParamValue { Type = 4, Ul = 1000 } },
                new TypedParam { Field = "process-id", Value = new TypedParamValue { Type = 3, L = 4242 } },
            ],
        };
        Assert.That(c.Roundtrip((int)Procedure.ConnectSetIdentity, ok).Header.Status, Is.Zero);
        var unknown = new ConnectSetIdentityArgs { Params = [new TypedParam { Field = "root-please", Value = new TypedParamValue { Type = 7, S = "x" } }] };
        AssertError(c.Roundtrip((int)Procedure.ConnectSetIdentity, unknown), 74, 0, "argument unsupported: parameter 'root-please' not supported");
        var wrongType = new ConnectSetIdentityArgs { Params = [new TypedParam { Field = "unix-user-id", Value = new TypedParamValue { Type = 7, S = "0" } }] };
        AssertError(c.Roundtrip((int)Procedure.ConnectSetIdentity, wrongType), 8, 0,
            "invalid argument: invalid type 'string' for parameter 'unix-user-id', expected 'ullong'");
    }

    [Test]
    public void ConnectCloseAnswersThenCloses()
    {
        using var c = Raw();
        c.Open();
        var reply = c.Roundtrip((int)Procedure.ConnectClose);
        Assert.That(reply.Header.Status, Is.Zero);
        Assert.That(c.IsClosedByServer(), Is.True);
        AssertStillServing();
    }

    [Test]
    public void PingIsAnsweredWithPong()
    {
        using var c = Raw();
        c.Send(0x6b656570, 1, new XdrVoid(), type: PacketType.Message, serial: 0);
        var pong = c.Read()!;
        Assert.That(pong.Header, Is.EqualTo(new PacketHeader(0x6b656570, 1, 2, PacketType.Message, 0, PacketStatus.Ok)));
    }

    [Test]
    public void PipelinedCallsAreAllAnswered()
    {
        using var c = Raw();
        c.Open();
        var serials = Enumerable.Range(0, 200).Select(_ => c.Call(157)).ToList();
        var seen = new HashSet<uint>();
        while (seen.Count < serials.Count)
        {
            var p = c.Read()!;
            Assert.That(p.Header.Status, Is.Zero);
            seen.Add(p.Header.Serial);
        }
        Assert.That(seen, Is.EquivalentTo(serials));
    }

    [Test]
    public void AdminSocketServesOnlyTheAdminProgram()
    {
        using var c = Raw(Daemon.AdminSocketPath);
        AssertError(c.Roundtrip(66), 39, 7, $"Cannot find program {(int)RawLibvirtClient.Remote} version 1");
        var s = c.Send(0x06900690, 1, new VirtNetworkd.Protocol.Admin.ConnectOpenArgs { Flags = 0 });
        Assert.That(c.ReadReply(s).Header.Status, Is.EqualTo(PacketStatus.Ok));
    }
}
