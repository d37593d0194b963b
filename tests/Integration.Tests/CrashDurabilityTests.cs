using System.Diagnostics;
using VirtNetworkd.Protocol.Framing;
using VirtNetworkd.Protocol.Remote;
using VirtNetworkd.Tests.Shared;

namespace VirtNetworkd.Integration.Tests;

/// <summary>kill -9 in the middle of a burst of defines: every acknowledged define is there
/// after the restart, and no file is torn.</summary>
public class CrashDurabilityTests
{
    [Test]
    public void KillNineDuringABurstLosesNothingAcknowledged()
    {
        var root = DaemonProcess.NewRoot();
        var first = DaemonProcess.Start(root: root);
        var acknowledged = new List<string>();
        using (var c = new RawLibvirtClient(first.SocketPath))
        {
            c.Open();
            var sw = Stopwatch.StartNew();
            try
            {
                for (int i = 0; i < 10_000; i++)
                {
                    string name = $"burst{i}";
                    if (i == 40) Tools.Kill(first.Process.Id, "KILL"); // while calls are in flight
                    var reply = c.Roundtrip((int)Procedure.NetworkDefineXml, new NetworkDefineXmlArgs
                    {
                        Xml = $"<network><name>{name}</name><bridge name='vb{i}'/></network>",
                    });
                    if (reply.Header.Status == PacketStatus.Ok) acknowledged.Add(name);
                }
            }
            catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException)
            {
                // the daemon died under us: that is the point
            }
        }
        first.Process.WaitForExit(10_000);
        first.Process.Dispose();
        Assert.That(acknowledged, Has.Count.GreaterThanOrEqualTo(40));

        using var second = DaemonProcess.Start(root: root);
        var names = Tools.Virsh(second.Uri, "net-list", "--all", "--name").Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.That(acknowledged.Except(names), Is.Empty, "an acknowledged define was lost");
        Assert.That(second.Stderr, Does.Not.Contain("burst"), "no file failed to load");
        second.Stop();
    }
}
