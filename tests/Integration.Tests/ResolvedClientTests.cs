using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Tmds.DBus.Protocol;
using VirtNetworkd.NetworkDriver.Backend.Resolved;

namespace VirtNetworkd.Integration.Tests;

/// <summary>
/// What the daemon sends to systemd-resolved, seen by a recording org.freedesktop.resolve1 on a
/// private dbus-daemon: libvirt's two calls with their signatures and bodies, and libvirt's rule
/// for "resolved is there" (activatable, and running or startable by systemd). The real resolved
/// is in <see cref="LinuxBackendResolvedTests"/>.
/// </summary>
public sealed class ResolvedClientTests
{
    private string _dir = "", _services = "";

    [SetUp]
    public void WriteServiceFile()
    {
        _dir = Path.Combine(Path.GetTempPath(), "vnd-services-" + Guid.NewGuid().ToString("N")[..10]);
        _services = PrivateSystemBus.ResolvedServiceDir(_dir);
    }

    [TearDown]
    public void RemoveServiceFile() => Directory.Delete(_dir, recursive: true);

    private static ResolvedClient Client(string address, int timeoutMs = 5000) => new(address, TimeSpan.FromMilliseconds(timeoutMs));

    [Test]
    public void AnIPv4NameServerIsTheDomainThenTheDnsServerWithLibvirtsSignatures()
    {
        using var bus = new PrivateSystemBus(_services);
        var resolved = new RecordingResolved();
        using var service = bus.Own("org.freedesktop.resolve1", resolved);
        string? skipped = Client(bus.Address).Register(7, new ResolvedNameServer("example.test", IPAddress.Parse("192.0.2.1")));
        Assert.That(skipped, Is.Null);
        Assert.That(resolved.Calls, Is.EqualTo(new[]
        {
            "org.freedesktop.resolve1 /org/freedesktop/resolve1 org.freedesktop.resolve1.Manager.SetLinkDomains ia(sb) 7 [(example.test, True)]",
            "org.freedesktop.resolve1 /org/freedesktop/resolve1 org.freedesktop.resolve1.Manager.SetLinkDNS ia(iay) 7 [(2, C0000201)]",
        }));
    }

    [Test]
    public void AnIPv6NameServerIsFamily10With16Bytes()
    {
        using var bus = new PrivateSystemBus(_services);
        var resolved = new RecordingResolved();
        using var service = bus.Own("org.freedesktop.resolve1", resolved);
        Assert.That(Client(bus.Address).Register(12, new ResolvedNameServer("v6.example", IPAddress.Parse("2001:db8:7::1"))), Is.Null);
        Assert.That(resolved.Calls[1], Does.EndWith("SetLinkDNS ia(iay) 12 [(10, 20010DB8000700000000000000000001)]"));
    }

    [Test]
    public void AResolvedThatIsNotActivatableIsNotThereEvenWhenItRuns()
    {
        // libvirt's virSystemdHasResolved asks ListActivatableNames first
        using var bus = new PrivateSystemBus();
        var resolved = new RecordingResolved();
        using var service = bus.Own("org.freedesktop.resolve1", resolved);
        string? skipped = Client(bus.Address).Register(7, new ResolvedNameServer("example.test", IPAddress.Parse("192.0.2.1")));
        Assert.That(skipped, Is.EqualTo("org.freedesktop.resolve1 is not activatable on the system bus"));
        Assert.That(resolved.Calls, Is.Empty);
    }

    [Test]
    public void AnActivatableResolvedThatDoesNotRunWithoutSystemdIsNotThere()
    {
        using var bus = new PrivateSystemBus(_services);
        string? skipped = Client(bus.Address).Register(7, new ResolvedNameServer("example.test", IPAddress.Parse("192.0.2.1")));
        Assert.That(skipped, Is.EqualTo("org.freedesktop.resolve1 is not running and there is no systemd to start it"));
    }

    [Test]
    public void AnActivatableResolvedThatDoesNotRunIsCalledWhenSystemdRuns()
    {
        // with systemd on the bus the call goes out (to start resolved); this bus starts it from the
        // service file's Exec=/bin/false, and the failed start is a failed call, as in libvirt
        using var bus = new PrivateSystemBus(_services);
        using var systemd = bus.Own("org.freedesktop.systemd1");
        var e = Assert.Throws<ResolvedException>(() => Client(bus.Address).Register(7, new ResolvedNameServer("example.test", IPAddress.Parse("192.0.2.1"))))!;
        Assert.That(e.Message, Does.StartWith("org.freedesktop.DBus.Error.Spawn."));
    }

    [Test]
    public void AnErrorReplyFailsTheRegistration()
    {
        using var bus = new PrivateSystemBus(_services);
        var resolved = new RecordingResolved { ErrorName = "org.freedesktop.resolve1.NoSuchLink" };
        using var service = bus.Own("org.freedesktop.resolve1", resolved);
        var e = Assert.Throws<ResolvedException>(() => Client(bus.Address).Register(7, new ResolvedNameServer("example.test", IPAddress.Parse("192.0.2.1"))))!;
        Assert.That(e.Message, Is.EqualTo("org.freedesktop.resolve1.NoSuchLink: refused by the test"));
        Assert.That(resolved.Calls, Has.Count.EqualTo(1), "SetLinkDNS is not sent after SetLinkDomains failed");
    }

    [Test]
    public void NoBusAtAllIsNotThereAtOnce()
    {
        string missing = Path.Combine(Path.GetTempPath(), "vnd-no-bus-" + Guid.NewGuid().ToString("N")[..10]);
        var sw = Stopwatch.StartNew();
        string? skipped = Client("unix:path=" + missing).Register(7, new ResolvedNameServer("example.test", IPAddress.Parse("192.0.2.1")));
        Assert.That(skipped, Does.StartWith($"no system bus at unix:path={missing} ("));
        Assert.That(sw.ElapsedMilliseconds, Is.LessThan(1000), "a missing socket is known at once");
    }

    [Test]
    public void ABusThatNeverAnswersFailsWithinTheTimeout()
    {
        string dir = Path.Combine(Path.GetTempPath(), "vnd-mute-bus-" + Guid.NewGuid().ToString("N")[..10]);
        Directory.CreateDirectory(dir);
        try
        {
            using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            listener.Bind(new UnixDomainSocketEndPoint(Path.Combine(dir, "bus")));
            listener.Listen(); // accepts (in the backlog) and never says a word
            var sw = Stopwatch.StartNew();
            var e = Assert.Throws<ResolvedException>(() =>
                Client($"unix:path={dir}/bus", timeoutMs: 500).Register(7, new ResolvedNameServer("example.test", IPAddress.Parse("192.0.2.1"))))!;
            Assert.That(e.Message, Is.EqualTo($"the system bus at unix:path={dir}/bus did not answer within 0.5 s"));
            Assert.That(sw.ElapsedMilliseconds, Is.LessThan(3000));
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [Test]
    public void TheSystemBusIsDbusSystemBusAddressOrSdBussDefault()
    {
        Assert.That(ResolvedClient.SystemBusAddress(null), Is.EqualTo("unix:path=/run/dbus/system_bus_socket"));
        Assert.That(ResolvedClient.SystemBusAddress(""), Is.EqualTo("unix:path=/run/dbus/system_bus_socket"));
        Assert.That(ResolvedClient.SystemBusAddress("unix:path=/tmp/x"), Is.EqualTo("unix:path=/tmp/x"));
    }
}
