using System.Diagnostics;
using System.Net.Sockets;
using Tmds.DBus.Protocol;

namespace VirtNetworkd.Integration.Tests;

/// <summary>
/// A dbus-daemon of a test's own, standing in for the system bus (DBUS_SYSTEM_BUS_ADDRESS points
/// at it): everything allowed to everyone, the services of <paramref name="serviceDirs"/>
/// activatable. Its folder can be entered by any user (systemd-resolved runs as nobody).
/// </summary>
public sealed class PrivateSystemBus : IDisposable
{
    private readonly Process _process;

    public PrivateSystemBus(params string[] serviceDirs)
    {
        string dbusDaemon = Tools.Require("dbus-daemon", "dbus-daemon");
        Dir = Path.Combine(Path.GetTempPath(), "vnd-bus-" + Guid.NewGuid().ToString("N")[..10]);
        Directory.CreateDirectory(Dir);
        File.SetUnixFileMode(Dir, (UnixFileMode)0b111_101_101);
        SocketPath = Path.Combine(Dir, "system_bus_socket");
        string config = Path.Combine(Dir, "bus.conf");
        File.WriteAllText(config, $"""
            <!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
             "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
            <busconfig>
              <type>system</type>
              <listen>unix:path={SocketPath}</listen>
              <auth>EXTERNAL</auth>
              {string.Concat(serviceDirs.Select(d => $"<servicedir>{d}</servicedir>"))}
              <policy context="default">
                <allow user="*"/>
                <allow own="*"/>
                <allow send_type="method_call"/>
                <allow send_destination="*"/>
                <allow receive_sender="*"/>
              </policy>
            </busconfig>
            """);
        var psi = new ProcessStartInfo(dbusDaemon) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string a in new[] { "--config-file=" + config, "--nofork", "--nopidfile" }) psi.ArgumentList.Add(a);
        _process = Process.Start(psi)!;
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        var sw = Stopwatch.StartNew();
        while (!Listening())
        {
            if (_process.HasExited) Assert.Fail($"dbus-daemon exited with {_process.ExitCode}");
            if (sw.ElapsedMilliseconds > 10_000) Assert.Fail("dbus-daemon did not listen within 10 s");
            Thread.Sleep(10);
        }
    }

    public string Dir { get; }
    public string SocketPath { get; }
    public string Address => "unix:path=" + SocketPath;

    /// <summary>A connection to the bus owning <paramref name="name"/>, serving <paramref name="handler"/> if given.</summary>
    public DBusConnection Own(string name, IPathMethodHandler? handler = null)
    {
        var connection = new DBusConnection(Address);
        Assert.That(connection.ConnectAsync().AsTask().Wait(10_000), "connected to the private bus");
        if (handler is not null) connection.AddMethodHandler(handler);
        Assert.That(connection.RequestNameAsync(name).Wait(10_000), $"{name} owned");
        return connection;
    }

    /// <summary>A folder with the D-Bus service file systemd-resolved's package installs (org.freedesktop.resolve1, started through systemd).</summary>
    public static string ResolvedServiceDir(string parent)
    {
        string dir = Path.Combine(parent, "dbus-services");
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "org.freedesktop.resolve1.service"),
            "[D-BUS Service]\nName=org.freedesktop.resolve1\nExec=/bin/false\nUser=root\nSystemdService=dbus-org.freedesktop.resolve1.service\n");
        return dir;
    }

    private bool Listening()
    {
        if (!File.Exists(SocketPath)) return false;
        using var s = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            s.Connect(new UnixDomainSocketEndPoint(SocketPath));
            return true;
        }
        catch (SocketException) { return false; }
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited) _process.Kill();
            _process.WaitForExit(5000);
        }
        catch (InvalidOperationException) { }
        _process.Dispose();
        try { Directory.Delete(Dir, recursive: true); } catch (IOException) { }
    }
}
