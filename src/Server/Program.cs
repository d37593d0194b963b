using VirtNetworkd.Server.Host;

namespace VirtNetworkd.Server;

/// <summary>virtnetworkd: libvirt's virtual network daemon (see virtnetworkd(8)).</summary>
public static class Program
{
    public static async Task<int> Main(string[] args)
    {
        // Socket completions run on the epoll thread instead of hopping to the thread pool: our
        // handlers on that path never block (blocking calls go to the worker pool), and the hop
        // costs more than the call. Read by System.Net.Sockets when it first starts, i.e. later.
        if (Environment.GetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS") is null)
            Environment.SetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS", "1");
        // One event loop, as libvirt's: with inline completions .NET would start one per core,
        // and on a small host two loops plus the clients preempt one another (measured on two
        // cores: c64 d4 p99 0.7–0.8 ms with one loop against 1.6–1.7 ms with two; bench/README.md).
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
