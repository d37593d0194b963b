using System.Diagnostics;
using VirtNetworkd.NetworkDriver.Backend.Dnsmasq;

namespace VirtNetworkd.NetworkDriver.Tests.Dnsmasq;

/// <summary>The pidfd waits behind dnsmasq's stop and supervision, on real processes (sleep).</summary>
[TestFixture]
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class ProcessExitTests
{
    private static Process Sleep(string seconds) => Process.Start(new ProcessStartInfo("sleep", seconds) { UseShellExecute = false })!;

    [Test]
    public void WaitReturnsWhenTheProcessExitsNotAfterTheTimeout()
    {
        using Process p = Sleep("30");
        Assert.That(ProcessExit.Wait(p.Id, TimeSpan.FromMilliseconds(100)), Is.False, "still running");
        var sw = Stopwatch.StartNew();
        ProcessExit.Signal(p.Id, ProcessExit.SigTerm);
        Assert.That(ProcessExit.Wait(p.Id, TimeSpan.FromSeconds(10)), Is.True);
        Assert.That(sw.Elapsed, Is.LessThan(TimeSpan.FromSeconds(2)));
    }

    [Test]
    public void AWatchCallsBackOnceOnExitAndNotAfterDispose()
    {
        using Process p = Sleep("30");
        using var fired = new ManualResetEventSlim();
        using var watch = new ExitWatch(p.Id, fired.Set);
        Assert.That(fired.Wait(200), Is.False);
        p.Kill();
        Assert.That(fired.Wait(5000), Is.True, "called back on exit");

        using Process q = Sleep("30");
        using var fired2 = new ManualResetEventSlim();
        var watch2 = new ExitWatch(q.Id, fired2.Set);
        watch2.Dispose();
        q.Kill();
        Assert.That(fired2.Wait(500), Is.False, "a disposed watch stays quiet");
        watch2.Dispose();
    }

    [Test]
    public void OnlyThisNetworksDnsmasqIsRecognised()
    {
        using Process p = Sleep("30");
        try
        {
            Assert.That(DnsmasqDaemon.IsDnsmasqFor(p.Id, "/var/lib/libvirt/dnsmasq/x.conf"), Is.False, "sleep is not dnsmasq");
            Assert.That(DnsmasqDaemon.IsDnsmasqFor(0, "/x"), Is.False);
            Assert.That(DnsmasqDaemon.IsDnsmasqFor(int.MaxValue, "/x"), Is.False);
        }
        finally
        {
            p.Kill();
        }
    }
}
