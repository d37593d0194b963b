using VirtNetworkd.Server.Host;

namespace VirtNetworkd.Server;

/// <summary>virtnetworkd: libvirt's virtual network daemon (see virtnetworkd(8)).</summary>
public static class Program
{
    public static async Task<int> Main(string[] args)
    {
        // Client sockets are served by our own epoll loop (Rpc/IoLoop.cs); .NET's socket engine
        // is left with the listening sockets. Its accept completions run inline on its one event
        // thread instead of hopping to the thread pool (the accept path never blocks), and one
        // such thread is enough. Read by System.Net.Sockets when it first starts, i.e. later.
        if (Environment.GetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS") is null)
            Environment.SetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS", "1");
        if (Environment.GetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_THREAD_COUNT") is null)
            Environment.SetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_THREAD_COUNT", "1");
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
