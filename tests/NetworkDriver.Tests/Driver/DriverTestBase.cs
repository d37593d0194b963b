using VirtNetworkd.NetworkDriver.Driver;

namespace VirtNetworkd.NetworkDriver.Tests.Driver;

/// <summary>A driver over fresh temporary directories with the test backend (<see cref="FakeBackend"/>).</summary>
public abstract class DriverTestBase
{
    protected const string U1 = "11111111-2222-3333-4444-555555555555";
    protected const string U2 = "22222222-2222-3333-4444-555555555555";

    protected string Root = "";
    protected string ConfigDir => Path.Combine(Root, "networks");
    protected string AutostartDir => Path.Combine(Root, "networks", "autostart");
    protected string StateDir => Path.Combine(Root, "state");
    protected FakeBackend Backend = null!;
    protected NetworkDriver.Driver.NetworkDriver Drv = null!;
    protected List<string> Events = [];

    [SetUp]
    public void SetUpDriver()
    {
        Root = Path.Combine(Path.GetTempPath(), "vnd-driver-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Root);
        Backend = new FakeBackend();
        Drv = NewDriver();
        Events = [];
        Subscribe(Drv);
    }

    [TearDown]
    public void TearDownDriver()
    {
        try { Directory.Delete(Root, true); } catch (IOException) { }
    }

    protected NetworkDriver.Driver.NetworkDriver NewDriver(INetworkBackend? backend = null) =>
        new(ConfigDir, AutostartDir, StateDir, privileged: true, backend ?? Backend);

    protected void Subscribe(NetworkDriver.Driver.NetworkDriver d)
    {
        d.Lifecycle += (_, e) => { lock (Events) Events.Add($"{e.Network.Name}:{e.Event}:{e.Detail}"); };
        d.MetadataChange += (_, e) => { lock (Events) Events.Add($"{e.Network.Name}:meta:{e.Type}:{e.NsUri}"); };
    }

    protected static string Xml(string name, string? uuid = null, string extra = "") =>
        $"<network><name>{name}</name>{(uuid is null ? "" : $"<uuid>{uuid}</uuid>")}{extra}</network>";

    protected static LibvirtErrorAssert Throws(TestDelegate d) => new(Assert.Throws<Errors.LibvirtError>(d)!);

    protected sealed class LibvirtErrorAssert(Errors.LibvirtError e)
    {
        public Errors.LibvirtError Error { get; } = e;
        public void Is(Errors.VirErrorCode code, string message)
        {
            Assert.That(Error.Code, NUnit.Framework.Is.EqualTo(code));
            Assert.That(Error.Message, NUnit.Framework.Is.EqualTo(message));
        }
    }
}
