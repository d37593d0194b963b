using System.Diagnostics;
using System.Text;
using VirtNetworkd.Errors;
using VirtNetworkd.NetworkDriver.Backend.Firewall;

namespace VirtNetworkd.NetworkDriver.Driver;

/// <summary>What happened to a network, as its hook script is told (virHookNetworkOpType).</summary>
public enum NetworkHookOp { Start, Started, Stopped, PortCreated, PortDeleted, Updated }

/// <summary>
/// The network hook scripts (libvirt's virhook.c for the "network" driver): <c>HOOKS/network</c>
/// and the executables in <c>HOOKS/network.d/</c> (in strcmp order) run with the arguments
/// <c>NAME OP SUBOP -</c>, the <c>&lt;hookData&gt;</c> XML on stdin and libvirt's minimal
/// environment. Whether any script exists is looked at once and again on <see cref="Refresh"/>
/// (SIGHUP), as libvirt caches it. A script that fails makes the call fail with libvirt's
/// "Hook script execution failed: …" (the others still run); users build port forwarding on
/// these, so the arguments, input and order are part of the interface.
/// </summary>
public sealed class NetworkHooks
{
    private static readonly string[] PassedEnvironment =
        ["LD_PRELOAD", "LD_LIBRARY_PATH", "DYLD_INSERT_LIBRARIES", "DYLD_FORCE_FLAT_NAMESPACE", "PATH", "HOME", "USER", "LOGNAME", "TMPDIR"];

    private readonly string _script;
    private readonly string _scriptDir;
    private readonly Action<string> _warn;
    private volatile bool _present;

    /// <param name="hooksDir">libvirt's /etc/libvirt/hooks (under VIRTNETWORKD_ROOT when set).</param>
    public NetworkHooks(string hooksDir, Action<string> warn)
    {
        ArgumentNullException.ThrowIfNull(hooksDir);
        _script = Path.Combine(hooksDir, "network");
        _scriptDir = _script + ".d";
        _warn = warn;
        Refresh();
    }

    /// <summary>Whether a network hook script was found (when the daemon started or at the last SIGHUP).</summary>
    public bool Present => _present;

    /// <summary>virHookCheck: looks again for the scripts.</summary>
    public void Refresh()
    {
        bool found = false;
        if (File.Exists(_script))
        {
            if (NetworkDriverConfig.IsExecutable(_script)) found = true;
            else _warn($"Non-executable hook script {_script}");
        }
        if (!found && Directory.Exists(_scriptDir))
        {
            foreach (string entry in Directory.EnumerateFileSystemEntries(_scriptDir))
            {
                if (NetworkDriverConfig.IsExecutable(entry)) { found = true; break; }
                _warn($"Non-executable hook script {entry}");
            }
        }
        _present = found;
    }

    public static string OpName(NetworkHookOp op) => op switch
    {
        NetworkHookOp.Start => "start",
        NetworkHookOp.Started => "started",
        NetworkHookOp.Stopped => "stopped",
        NetworkHookOp.PortCreated => "port-created",
        NetworkHookOp.PortDeleted => "port-deleted",
        NetworkHookOp.Updated => "updated",
        _ => throw new ArgumentOutOfRangeException(nameof(op)),
    };

    /// <summary>networkRunHook's input: the network's XML, then the port's, inside &lt;hookData&gt;, indented by two.</summary>
    public static string HookData(string networkXml, string? portXml)
    {
        var sb = new StringBuilder("<hookData>\n");
        Indent(sb, networkXml);
        if (portXml is not null) Indent(sb, portXml);
        return sb.Append("</hookData>").ToString();
    }

    private static void Indent(StringBuilder sb, string xml)
    {
        foreach (string line in xml.Split('\n'))
            if (line.Length > 0) sb.Append("  ").Append(line).Append('\n');
    }

    /// <summary>
    /// Runs the scripts for one event; false when there are none (then the network is not
    /// tainted). Throws libvirt's hook error when a script fails, after running the rest.
    /// </summary>
    public bool Run(string network, NetworkHookOp op, bool end, string input)
    {
        if (!_present) return false;
        string[] args = [network, OpName(op), end ? "end" : "begin", "-"];
        LibvirtError? failure = null;
        bool ran = false;
        if (NetworkDriverConfig.IsExecutable(_script))
        {
            ran = true;
            failure = RunOne(_script, args, input) ?? failure;
        }
        if (Directory.Exists(_scriptDir))
        {
            var entries = Directory.EnumerateFileSystemEntries(_scriptDir).Where(NetworkDriverConfig.IsExecutable).ToList();
            entries.Sort(StringComparer.Ordinal);
            foreach (string entry in entries)
            {
                ran = true;
                failure = RunOne(entry, args, input) ?? failure;
            }
        }
        if (failure is not null) throw failure;
        return ran;
    }

    private static LibvirtError? RunOne(string path, string[] args, string input)
    {
        var psi = new ProcessStartInfo(path)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = "/",
        };
        foreach (string a in args) psi.ArgumentList.Add(a);
        psi.Environment.Clear();
        var env = new List<KeyValuePair<string, string>> { new("LC_ALL", "C") };
        foreach (string name in PassedEnvironment)
            if (Environment.GetEnvironmentVariable(name) is { } value) env.Add(new(name, value));
        foreach (var (k, v) in env) psi.Environment[k] = v;

        string stderr;
        int status;
        try
        {
            using var process = Process.Start(psi) ?? throw new InvalidOperationException("no process");
            var output = process.StandardOutput.ReadToEndAsync();
            var error = process.StandardError.ReadToEndAsync();
            try
            {
                process.StandardInput.Write(input);
                process.StandardInput.Close();
            }
            catch (IOException) { } // a script that does not read its input closes the pipe early
            process.WaitForExit();
            output.GetAwaiter().GetResult();
            stderr = error.GetAwaiter().GetResult();
            status = process.ExitCode;
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or IOException or InvalidOperationException)
        {
            return Failed($"Cannot run program '{path}': {e.Message}");
        }
        if (status == 0) return null;
        var command = new StringBuilder();
        foreach (var (k, v) in env) command.Append(k).Append('=').Append(LibvirtCommandLine.ShellEscape(v)).Append(' ');
        command.Append(LibvirtCommandLine.ShellEscape(path));
        foreach (string a in args) command.Append(' ').Append(LibvirtCommandLine.ShellEscape(a));
        // .NET reports a death by signal N as exit code 128+N
        string how = status > 128 ? $"fatal signal {status - 128}" : $"exit status {status}";
        return Failed($"internal error: Child process ({command}) unexpected {how}{(stderr.Length > 0 ? ": " + stderr : "")}");
    }

    private static LibvirtError Failed(string message) => new(VirErrorCode.HookScriptFailed, VirErrorDomain.Hook, message);
}
