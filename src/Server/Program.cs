using VirtNetworkd.Server.Host;

namespace VirtNetworkd.Server;

/// <summary>virtnetworkd: libvirt's virtual network daemon (see virtnetworkd(8)).</summary>
public static class Program
{
    public static async Task<int> Main(string[] args)
    {
        var env = DaemonEnvironment.Current;
        var parsed = DaemonOptions.Parse(args);
        if (parsed.ShouldExit)
        {
            if (parsed.StandardOutput.Length > 0) Console.Out.Write(parsed.StandardOutput);
            if (parsed.StandardError.Length > 0) Console.Error.Write(parsed.StandardError);
            return parsed.ExitCode;
        }
        var options = parsed.Options!;
        if (options.Daemon && !Daemonizer.IsDetachedChild(env))
            return Daemonizer.StartDetachedAndWait(args, env);
        if (Daemonizer.IsDetachedChild(env)) Daemonizer.Detach(env);
        return await new DaemonHost(options, env).RunAsync().ConfigureAwait(false);
    }
}
