using System.Collections.Concurrent;

namespace VirtNetworkd.Server.Host;

/// <summary>
/// What the host layer reads from the process it runs in: environment variables, the
/// effective uid, the pid and the home directory. <see cref="Current"/> is the real process;
/// tests build their own with <see cref="Create"/>.
/// </summary>
public sealed class DaemonEnvironment
{
    private readonly Func<string, string?> _get;
    private readonly Action<string> _unset;

    public DaemonEnvironment(Func<string, string?> getVariable, Action<string> unsetVariable,
                             uint effectiveUid, int processId, string homeDirectory)
    {
        _get = getVariable;
        _unset = unsetVariable;
        EffectiveUid = effectiveUid;
        ProcessId = processId;
        HomeDirectory = homeDirectory;
    }

    /// <summary>The running process (geteuid(), getpid(), $HOME or the passwd entry).</summary>
    public static DaemonEnvironment Current { get; } = new(
        Environment.GetEnvironmentVariable,
        name => Environment.SetEnvironmentVariable(name, null),
        LibC.GetEUid(),
        Environment.ProcessId,
        Environment.GetFolderPath(Environment.SpecialFolder.UserProfile));

    /// <summary>
    /// An environment over a private variable table (changes through
    /// <see cref="Unset"/> affect only that table). HOME from the table is the home directory.
    /// </summary>
    public static DaemonEnvironment Create(IReadOnlyDictionary<string, string>? variables = null,
                                           uint effectiveUid = 1000, int processId = 4242)
    {
        var table = new ConcurrentDictionary<string, string>(variables ?? new Dictionary<string, string>());
        table.TryGetValue("HOME", out var home);
        return new DaemonEnvironment(
            name => table.TryGetValue(name, out var v) ? v : null,
            name => table.TryRemove(name, out _),
            effectiveUid, processId, home ?? "/nonexistent");
    }

    public uint EffectiveUid { get; }

    public int ProcessId { get; }

    /// <summary>The home directory (glib's g_get_home_dir: $HOME, else the passwd entry).</summary>
    public string HomeDirectory { get; }

    /// <summary>libvirt's rule: a daemon is privileged when its effective uid is 0.</summary>
    public bool Privileged => EffectiveUid == 0;

    public string? Get(string name) => _get(name);

    /// <summary>The variable when it is set and not empty, else null (how glib reads XDG_*).</summary>
    public string? GetNonEmpty(string name)
    {
        var v = _get(name);
        return string.IsNullOrEmpty(v) ? null : v;
    }

    public void Unset(string name) => _unset(name);
}
