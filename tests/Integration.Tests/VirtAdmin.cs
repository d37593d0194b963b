using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;

namespace VirtNetworkd.Integration.Tests;

/// <summary>Real virt-admin (Debian's libvirt-clients) against an admin socket, and what the tests check from outside.</summary>
public static partial class VirtAdmin
{
    public static string Uri(string adminSocket) => $"virtnetworkd:///system?socket={adminSocket}";

    public static Tools.Result Run(string uri, params string[] args) =>
        Tools.Run(Tools.Require("virt-admin", "libvirt-clients"), new[] { "-c", uri }.Concat(args));

    /// <summary>The ids of `client-list SERVER`.</summary>
    public static long[] ClientIds(string uri, string server)
    {
        var r = Run(uri, "client-list", server);
        Assert.That(r.ExitCode, Is.Zero, r.ToString());
        return [.. ClientLine().Matches(r.Stdout).Select(m => long.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture))];
    }

    /// <summary>`key : value` lines (server-threadpool-info, server-clients-info, client-info).</summary>
    public static Dictionary<string, string> Fields(Tools.Result r)
    {
        Assert.That(r.ExitCode, Is.Zero, r.ToString());
        return r.Stdout.Split('\n').Where(l => l.Contains(':')).Select(l => l.Split(':', 2))
            .GroupBy(p => p[0].Trim()).ToDictionary(g => g.Key, g => g.First()[1].Trim());
    }

    /// <summary>Threads of the process named <paramref name="comm"/> (/proc/PID/task/*/comm).</summary>
    public static int Threads(int pid, string comm) =>
        Directory.GetDirectories($"/proc/{pid}/task").Count(t =>
        {
            try
            {
                return File.ReadAllText(Path.Combine(t, "comm")).TrimEnd('\n') == comm;
            }
            catch (IOException)
            {
                return false; // the thread just exited
            }
        });

    /// <summary>Waits until <paramref name="condition"/> holds (threads leave when they next wake).</summary>
    public static bool Eventually(Func<bool> condition, int timeoutMs = 10_000)
    {
        var sw = Stopwatch.StartNew();
        while (!condition())
        {
            if (sw.ElapsedMilliseconds > timeoutMs) return false;
            Thread.Sleep(50);
        }
        return true;
    }

    [GeneratedRegex(@"^\s*(\d+)\s+unix\s", RegexOptions.Multiline)]
    private static partial Regex ClientLine();
}

/// <summary>An interactive virsh kept connected: commands go to its stdin, its output is collected.</summary>
public sealed class InteractiveVirsh : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _out = new(), _err = new();

    public InteractiveVirsh(string uri, bool readOnly = false)
    {
        var psi = new ProcessStartInfo(Tools.Require("virsh", "libvirt-clients"))
        {
            RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        foreach (var a in readOnly ? new[] { "-r", "-c", uri } : ["-c", uri]) psi.ArgumentList.Add(a);
        _process = Process.Start(psi)!;
        _process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (_out) _out.AppendLine(e.Data); };
        _process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (_err) _err.AppendLine(e.Data); };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public int Pid => _process.Id;
    public string Stdout { get { lock (_out) return _out.ToString(); } }
    public string Stderr { get { lock (_err) return _err.ToString(); } }

    public void Send(string command)
    {
        _process.StandardInput.WriteLine(command);
        _process.StandardInput.Flush();
    }

    /// <summary>Ends the session (quit) and waits for virsh to exit.</summary>
    public void Quit()
    {
        Send("quit");
        _process.StandardInput.Close();
        if (!_process.WaitForExit(20_000)) _process.Kill();
        _process.WaitForExit();
    }

    public void Dispose()
    {
        if (!_process.HasExited) _process.Kill();
        _process.Dispose();
    }
}
