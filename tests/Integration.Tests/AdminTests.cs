using VirtNetworkd.Protocol.Framing;
using VirtNetworkd.Protocol.Remote;
using VirtNetworkd.Protocol.Xdr;
using VirtNetworkd.Tests.Shared;

namespace VirtNetworkd.Integration.Tests;

/// <summary>
/// The admin program driven by the real virt-admin, each effect checked from outside: worker
/// threads counted in /proc, a disconnected virsh losing its connection, a new log file filling,
/// client limits holding new clients back.
/// </summary>
public class AdminTests : DaemonFixture
{
    private string Uri => VirtAdmin.Uri(Daemon.AdminSocketPath);

    private Tools.Result Admin(params string[] args) => VirtAdmin.Run(Uri, args);

    private static void AssertFails(Tools.Result r, string stderr)
    {
        Assert.That(r.ExitCode, Is.EqualTo(1), r.ToString());
        Assert.That(r.Stderr, Is.EqualTo(stderr), r.ToString());
    }

    [Test]
    public void ServerListNamesTheDaemonsTwoServers()
    {
        var r = Admin("server-list");
        Assert.That(r.ExitCode, Is.Zero, r.ToString());
        Assert.That(r.Stdout, Is.EqualTo(" Id   Name\n--------------------\n 0    virtnetworkd\n 1    admin"));
        AssertFails(Admin("server-threadpool-info", "nope"), "error: Server not found: No server named 'nope'");
        AssertFails(Admin("server-clients-info", "libvirtd"), "error: Server not found: No server named 'libvirtd'");
        var v = Admin("version");
        Assert.That(v.Stdout, Does.Contain("Running against daemon: 10.8.0"), v.ToString());
    }

    [Test]
    public void ThreadpoolSetGrowsAndShrinksTheLivePool()
    {
        int pid = Daemon.Process.Id;
        try
        {
            var info = VirtAdmin.Fields(Admin("server-threadpool-info", "virtnetworkd"));
            Assert.That(info["nWorkers"], Is.EqualTo(VirtAdmin.Threads(pid, "worker").ToString()), "nWorkers is the worker threads");

            Assert.That(Admin("server-threadpool-set", "virtnetworkd", "--min-workers", "9", "--max-workers", "12").ExitCode, Is.Zero);
            Assert.That(VirtAdmin.Threads(pid, "worker"), Is.EqualTo(9), "the pool grew to min-workers");
            info = VirtAdmin.Fields(Admin("server-threadpool-info", "virtnetworkd"));
            Assert.That((info["minWorkers"], info["maxWorkers"], info["nWorkers"]), Is.EqualTo(("9", "12", "9")));

            Assert.That(Admin("server-threadpool-set", "virtnetworkd", "--min-workers", "1", "--max-workers", "2").ExitCode, Is.Zero);
            Assert.That(VirtAdmin.Eventually(() => VirtAdmin.Threads(pid, "worker") == 2), Is.True,
                $"the pool shrank to max-workers: {VirtAdmin.Threads(pid, "worker")} worker threads");
            Assert.That(VirtAdmin.Fields(Admin("server-threadpool-info", "virtnetworkd"))["nWorkers"], Is.EqualTo("2"));

            Assert.That(Admin("server-threadpool-set", "virtnetworkd", "--priority-workers", "7").ExitCode, Is.Zero);
            Assert.That(VirtAdmin.Threads(pid, "prio-worker"), Is.EqualTo(7));
            Assert.That(Admin("server-threadpool-set", "virtnetworkd", "--priority-workers", "1").ExitCode, Is.Zero);
            Assert.That(VirtAdmin.Eventually(() => VirtAdmin.Threads(pid, "prio-worker") == 1), Is.True, "the priority workers shrank");

            // the admin server's pool is its own
            Assert.That(VirtAdmin.Threads(pid, "admin-worker"), Is.EqualTo(int.Parse(VirtAdmin.Fields(Admin("server-threadpool-info", "admin"))["nWorkers"])));
            AssertStillServing();
        }
        finally
        {
            Admin("server-threadpool-set", "virtnetworkd", "--min-workers", "5", "--max-workers", "20", "--priority-workers", "5");
        }
    }

    [Test]
    public void ThreadpoolSetRefusesWhatLibvirtRefuses()
    {
        AssertFails(Admin("server-threadpool-set", "virtnetworkd", "--max-workers", "2"),
            "error: Unable to change server workerpool parameters\nerror: invalid argument: minWorkers cannot be larger than maxWorkers");
        AssertFails(Admin("server-threadpool-set", "virtnetworkd", "--min-workers", "0", "--max-workers", "0"),
            "error: Unable to change server workerpool parameters\nerror: invalid argument: maxWorkers must not be switched from zero to non-zero and vice versa");
        AssertFails(Admin("server-threadpool-set", "nope", "--max-workers", "2"), "error: Server not found: No server named 'nope'");
        var info = VirtAdmin.Fields(Admin("server-threadpool-info", "virtnetworkd"));
        Assert.That((info["minWorkers"], info["maxWorkers"]), Is.EqualTo(("5", "20")), "a refused change changes nothing");
    }

    [Test]
    public void ClientInfoDescribesTheClientFromItsSocket()
    {
        var before = VirtAdmin.ClientIds(Uri, "virtnetworkd");
        using var rw = new InteractiveVirsh(Daemon.Uri);
        using var ro = new InteractiveVirsh(Daemon.ReadOnlyUri, readOnly: true);
        rw.Send("uri");
        ro.Send("uri");
        long[] ids = [];
        Assert.That(VirtAdmin.Eventually(() => (ids = VirtAdmin.ClientIds(Uri, "virtnetworkd").Except(before).ToArray()).Length == 2), Is.True);
        var infos = ids.Select(id => VirtAdmin.Fields(Admin("client-info", "virtnetworkd", id.ToString()))).ToList();
        var rwInfo = infos.Single(i => i["unix_process_id"] == rw.Pid.ToString());
        var roInfo = infos.Single(i => i["unix_process_id"] == ro.Pid.ToString());
        Assert.Multiple(() =>
        {
            Assert.That(rwInfo["readonly"], Is.EqualTo("no"));
            Assert.That(roInfo["readonly"], Is.EqualTo("yes"));
            Assert.That(rwInfo["transport"], Is.EqualTo("unix"));
            Assert.That(rwInfo["unix_user_id"], Is.EqualTo("0"));
            Assert.That(rwInfo["unix_user_name"], Is.EqualTo("root"));
            Assert.That(rwInfo["unix_group_id"], Is.EqualTo("0"));
            Assert.That(rwInfo["unix_group_name"], Is.EqualTo("root"));
            Assert.That(rwInfo.ContainsKey("sock_addr"), Is.False, "a Unix socket client is local: no sock_addr, as libvirt");
        });
        rw.Quit();
        ro.Quit();
        AssertFails(Admin("client-info", "virtnetworkd", "99999999"), "error: Client not found: No client with matching ID '99999999'");
        AssertFails(Admin("client-info", "nope", "1"), "error: Server not found: No server named 'nope'");
    }

    [Test]
    public void ClientInfoReportsTheIdentityAClientForwarded()
    {
        var before = VirtAdmin.ClientIds(Uri, "virtnetworkd");
        using var c = Raw();
        c.Open();
        var identity = new ConnectSetIdentityArgs
        {
            Params =
            [
                new TypedParam { Field = "user-name", Value = new TypedParamValue { Type = 7, S = "alice" } },
                new TypedParam { Field = "unix-user-id", Value = new TypedParamValue { Type = 4, Ul = 1000 } },
                new TypedParam { Field = "group-name", Value = new TypedParamValue { Type = 7, S = "staff" } },
                new TypedParam { Field = "unix-group-id", Value = new TypedParamValue { Type = 4, Ul = 50 } },
                new TypedParam { Field = "process-id", Value = new TypedParamValue { Type = 3, L = 4242 } },
                new TypedParam { Field = "selinux-context", Value = new TypedParamValue { Type = 7, S = "system_u:system_r:virtd_t:s0" } },
                new TypedParam { Field = "sasl-user-name", Value = new TypedParamValue { Type = 7, S = "fred" } },
            ],
        };
        Assert.That(c.Roundtrip((int)Procedure.ConnectSetIdentity, identity).Header.Status, Is.Zero);
        long id = VirtAdmin.ClientIds(Uri, "virtnetworkd").Except(before).Single();
        var r = Admin("client-info", "virtnetworkd", id.ToString());
        Assert.That(r.ExitCode, Is.Zero, r.ToString());
        // adminClientGetInfo's order: readonly, sasl_user_name, the Unix ids and names, selinux_context
        var lines = r.Stdout.Split('\n').Skip(3).Select(l => l.Trim()).Where(l => l.Length > 0).ToArray();
        Assert.That(lines, Is.EqualTo(new[]
        {
            "readonly       : no", "sasl_user_name : fred", "unix_user_id   : 1000", "unix_user_name : alice",
            "unix_group_id  : 50", "unix_group_name: staff", "unix_process_id: 4242", "selinux_context: system_u:system_r:virtd_t:s0",
        }), r.Stdout);
    }

    [Test]
    public void ClientDisconnectClosesTheVictimsConnection()
    {
        var before = VirtAdmin.ClientIds(Uri, "virtnetworkd");
        using var virsh = new InteractiveVirsh(Daemon.Uri);
        virsh.Send("net-list --all");
        long id = 0;
        Assert.That(VirtAdmin.Eventually(() => (id = VirtAdmin.ClientIds(Uri, "virtnetworkd").Except(before).FirstOrDefault()) != 0), Is.True);
        var r = Admin("client-disconnect", "virtnetworkd", id.ToString());
        Assert.That(r.ExitCode, Is.Zero, r.ToString());
        Assert.That(r.Stdout, Is.EqualTo($"Client '{id}' disconnected"));
        Assert.That(VirtAdmin.Eventually(() => virsh.Stderr.Contains("due to end of file")), Is.True,
            $"virsh saw its connection closed:\n{virsh.Stderr}");
        Assert.That(VirtAdmin.ClientIds(Uri, "virtnetworkd"), Does.Not.Contain(id));
        virsh.Quit();
        AssertFails(Admin("client-disconnect", "virtnetworkd", id.ToString()), $"error: Client not found: No client with matching ID '{id}'");
        AssertStillServing();
    }

    [Test]
    public void ClientDisconnectDuringPipelinedWritesLeavesNothingHalfDone()
    {
        var before = VirtAdmin.ClientIds(Uri, "virtnetworkd");
        const int count = 60;
        using (var c = Raw())
        {
            c.Open();
            long id = VirtAdmin.ClientIds(Uri, "virtnetworkd").Except(before).Single();
            var defines = Enumerable.Range(0, count).Select(i => XdrCodec.ToArray(new NetworkDefineXmlArgs
            {
                Xml = $"<network><name>admclose{i}</name><bridge name='vbadmc{i}'/></network>",
            })).ToList();
            c.SendRaw(RawPackets.Calls(count, i => ((int)Procedure.NetworkDefineXml, defines[i]), c.NextSerials(count)));
            Assert.That(Admin("client-disconnect", "virtnetworkd", id.ToString()).ExitCode, Is.Zero);
            Assert.That(c.IsClosedByServer(), Is.True, "the victim's connection is closed");
        }
        AssertStillServing();
        // every network the closed client got defined is whole; then they go
        var list = Tools.Virsh(Daemon.Uri, "net-list", "--all", "--name");
        var defined = list.Stdout.Split('\n').Select(l => l.Trim()).Where(n => n.StartsWith("admclose", StringComparison.Ordinal)).ToList();
        foreach (var name in defined)
        {
            var xml = Tools.Virsh(Daemon.Uri, "net-dumpxml", name);
            Assert.That(xml.ExitCode, Is.Zero, xml.ToString());
            Assert.That(xml.Stdout, Does.Contain($"<name>{name}</name>"));
            Assert.That(Tools.Virsh(Daemon.Uri, "net-undefine", name).ExitCode, Is.Zero);
        }
    }

    [Test]
    public void ClientLimitsBelowTheCountKeepTheClientsInButHoldNewOnesBack()
    {
        using var first = Raw();
        first.Open();
        using var second = Raw();
        second.Open();
        try
        {
            var r = Admin("server-clients-set", "virtnetworkd", "--max-clients", "1", "--max-unauth-clients", "1");
            Assert.That(r.ExitCode, Is.Zero, r.ToString());
            var info = VirtAdmin.Fields(Admin("server-clients-info", "virtnetworkd"));
            Assert.That((info["nclients_max"], info["nclients"]), Is.EqualTo(("1", "2")));
            // the clients already in keep working
            Assert.That(first.Roundtrip(157).Header.Status, Is.Zero);
            Assert.That(second.Roundtrip(157).Header.Status, Is.Zero);
            // a new one is not served
            using var third = new RawLibvirtClient(Daemon.SocketPath, timeoutMs: 1500);
            uint serial = third.Call(66);
            Assert.Throws<System.Net.Sockets.SocketException>(() => third.ReadReply(serial), "a client over the limit is not served");
            // once there is room again it is
            Assert.That(Admin("server-clients-set", "virtnetworkd", "--max-clients", "5000").ExitCode, Is.Zero);
            Assert.That(third.ReadReply(serial).Header.Status, Is.Zero);
        }
        finally
        {
            Admin("server-clients-set", "virtnetworkd", "--max-clients", "5000", "--max-unauth-clients", "20");
        }
        AssertFails(Admin("server-clients-set", "virtnetworkd", "--max-unauth-clients", "6000"),
            "error: Unable to change server's client-related configuration limits\n" +
            "error: invalid argument: The overall maximum number of clients must not be less than the number of clients waiting for authentication");
        var after = VirtAdmin.Fields(Admin("server-clients-info", "virtnetworkd"));
        Assert.That((after["nclients_max"], after["nclients_unauth_max"]), Is.EqualTo(("5000", "20")));
        var admin = VirtAdmin.Fields(Admin("server-clients-info", "admin"));
        Assert.That((admin["nclients"], admin["nclients_unauth_max"]), Is.EqualTo(("1", "0")), "virt-admin itself, on the admin server");
    }

    [Test]
    public void LogOutputsAndFiltersChangeWhileRunning()
    {
        string log = Path.Combine(Daemon.Root, "admin-output.log");
        try
        {
            Assert.That(Admin("daemon-log-filters", "1:rpc 1:daemon").ExitCode, Is.Zero);
            Assert.That(Admin("daemon-log-filters").Stdout, Is.EqualTo(" Logging filters: 1:*rpc* 1:*daemon*"), "(Tools.Run trims the trailing space libvirt leaves)");
            Assert.That(Admin("daemon-log-outputs", $"1:file:{log}").ExitCode, Is.Zero);
            Assert.That(Admin("daemon-log-outputs").Stdout, Is.EqualTo($" Logging outputs: 1:file:{log}"));
            Assert.That(Tools.Virsh(Daemon.Uri, "uri").ExitCode, Is.Zero);
            Assert.That(VirtAdmin.Eventually(() => File.Exists(log) && File.ReadAllText(log).Contains("connected", StringComparison.Ordinal)), Is.True,
                "the new output receives the daemon's messages");
            Assert.That(File.ReadAllText(log), Does.Contain("libvirt version: "), "a new output starts with libvirt's version line");

            AssertFails(Admin("daemon-log-outputs", "1:bogus"),
                "error: Unable to change daemon logging settings\nerror: invalid argument: Invalid log destination 'bogus' for log output '1:bogus'");
            AssertFails(Admin("daemon-log-outputs", "9:stderr"),
                "error: Unable to change daemon logging settings\nerror: invalid argument: Invalid log priority '9' for log output '9:stderr'");
            AssertFails(Admin("daemon-log-outputs", "1:file:/nonexistent-dir/x.log"),
                "error: Unable to change daemon logging settings\nerror: failed to open /nonexistent-dir/x.log: No such file or directory");
            AssertFails(Admin("daemon-log-filters", "rpc"),
                "error: Unable to change daemon logging settings\nerror: invalid argument: Malformed format for filter 'rpc'");
            AssertFails(Admin("daemon-log-filters", "5:rpc"),
                "error: Unable to change daemon logging settings\nerror: invalid argument: Invalid priority '5' for filter '5:rpc'");
            Assert.That(Admin("daemon-log-outputs").Stdout, Is.EqualTo($" Logging outputs: 1:file:{log}"), "a refused change changes nothing");
        }
        finally
        {
            // "" goes back to the default output and to no filter
            Assert.That(Admin("daemon-log-outputs", "").ExitCode, Is.Zero);
            Assert.That(Admin("daemon-log-filters", "").ExitCode, Is.Zero);
        }
        Assert.That(Admin("daemon-log-filters").Stdout, Is.EqualTo(" Logging filters:"));
        Assert.That(Admin("daemon-log-outputs").Stdout, Is.EqualTo(" Logging outputs: 3:stderr"));
        long size = new FileInfo(log).Length;
        Assert.That(Tools.Virsh(Daemon.Uri, "uri").ExitCode, Is.Zero);
        Thread.Sleep(200);
        Assert.That(new FileInfo(log).Length, Is.EqualTo(size), "the replaced output no longer receives messages");
    }

    [Test]
    public void UpdateTlsAnswersAsAServerWithoutTls()
    {
        AssertFails(Admin("server-update-tls", "virtnetworkd"),
            "error: Unable to update server's tls related files.\nerror: internal error: no tls service found, unable to update tls files");
        AssertFails(Admin("server-update-tls", "nope"), "error: Server not found: No server named 'nope'");
    }

    [Test]
    public void AdminSocketIsRootOnly() =>
        Assert.That(File.GetUnixFileMode(Daemon.AdminSocketPath) & (UnixFileMode)0x1FF, Is.EqualTo(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute));
}

/// <summary>virt-admin daemon-timeout: the daemon exits after that many seconds with no client, as with -t.</summary>
public class AdminDaemonTimeoutTests
{
    [Test]
    public void DaemonExitsAfterTheTimeoutWithNoClient()
    {
        using var d = DaemonProcess.Start();
        var r = VirtAdmin.Run(VirtAdmin.Uri(d.AdminSocketPath), "daemon-timeout", "--timeout", "2");
        Assert.That(r.ExitCode, Is.Zero, r.ToString());
        // counted from when virt-admin, the last client, left
        Assert.That(d.WaitForExit(1000), Is.False, "exited while within the timeout");
        Assert.That(d.WaitForExit(15_000), Is.True, "the daemon did not exit after the idle timeout:\n" + d.Stderr);
        Assert.That(d.Process.ExitCode, Is.Zero);
        Assert.That(File.Exists(d.SocketPath), Is.False, "a clean exit removes the sockets");
    }

    [Test]
    public void ZeroTurnsTheCommandLineTimeoutOff()
    {
        using var d = DaemonProcess.Start(args: ["-t", "3"]);
        var r = VirtAdmin.Run(VirtAdmin.Uri(d.AdminSocketPath), "daemon-timeout", "--timeout", "0");
        Assert.That(r.ExitCode, Is.Zero, r.ToString());
        Assert.That(d.WaitForExit(6000), Is.False, "the daemon exited although the timeout was turned off");
        Assert.That(d.Stop(), Is.Zero);
    }
}
