using VirtNetworkd.NetworkDriver.Driver;
using VirtNetworkd.Protocol.Remote;
using VirtNetworkd.Server.Remote;
using VirtNetworkd.Server.Rpc;

namespace VirtNetworkd.Server.Tests.Remote;

/// <summary>The remote program's dispatch table: which procedures it serves and where they run.</summary>
public sealed class DispatchTableTests
{
    private static DispatchTable<RemoteSession> Rows()
    {
        var root = Directory.CreateTempSubdirectory("vnd-table-").FullName;
        var driver = new NetworkDriver.Driver.NetworkDriver(Path.Combine(root, "n"), Path.Combine(root, "a"), Path.Combine(root, "s"), true, new InProcessBackend());
        return new RemoteDispatcher(new RemoteContext(true, 5, 5, driver, new NetworkEventHub(driver))).Rows;
    }

    [Test]
    public void CallsThatWriteStateOrReachTheHostRunOnWorkers()
    {
        var rows = Rows();
        Procedure[] workers =
        [
            Procedure.NetworkDefineXml, Procedure.NetworkDefineXmlFlags, Procedure.NetworkCreateXml, Procedure.NetworkCreateXmlFlags,
            Procedure.NetworkCreate, Procedure.NetworkDestroy, Procedure.NetworkUndefine, Procedure.NetworkSetAutostart,
            Procedure.NetworkUpdate, Procedure.NetworkSetMetadata, Procedure.NetworkPortCreateXml, Procedure.NetworkPortDelete,
            Procedure.NetworkPortSetParameters,
            Procedure.NetworkGetDhcpLeases, // reads BRIDGE.status, up to 32 MiB
        ];
        foreach (var p in workers) Assert.That(rows.ModeOf((int)p), Is.EqualTo(DispatchTable<RemoteSession>.Mode.Worker), p.ToString());
        var inline = rows.Procedures.Where(p => !workers.Contains((Procedure)p)).ToArray();
        Assert.That(inline, Has.Length.GreaterThan(20));
        foreach (int p in inline) Assert.That(rows.ModeOf(p), Is.EqualTo(DispatchTable<RemoteSession>.Mode.Inline), ((Procedure)p).ToString());
    }

    [Test]
    public void EveryRowIsAProcedureOfTheProgram()
    {
        foreach (int p in Rows().Procedures)
            Assert.That(RemoteProgram.Procedures.TryGet(p, out var info) && info.ApiName is not null, Is.True, p.ToString());
    }

    [Test]
    public void ARowCannotBeAddedTwice()
    {
        var t = new DispatchTable<RemoteSession>(RemoteProgram.Procedures, null);
        t.Raw((int)Procedure.ConnectGetLibVersion, (c, s, h, b) => { });
        Assert.Throws<InvalidOperationException>(() => t.Raw((int)Procedure.ConnectGetLibVersion, (c, s, h, b) => { }));
        Assert.Throws<ArgumentException>(() => t.Raw(100_000, (c, s, h, b) => { }));
    }
}
