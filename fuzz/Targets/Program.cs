using System.Diagnostics;
using SharpFuzz;

namespace VirtNetworkd.Fuzz;

/// <summary>
/// The fuzzing harness's entry point (fuzz/README.md):
/// <code>
///   VirtNetworkd.Fuzz list                           the target names, one a line
///   VirtNetworkd.Fuzz afl TARGET                     run TARGET under afl-fuzz (SharpFuzz's in-process fork server)
///   VirtNetworkd.Fuzz seeds TARGET DIR [LIBVIRT_SRC]  write TARGET's generated seed corpus into DIR
///   VirtNetworkd.Fuzz dict TARGET FILE               write TARGET's AFL dictionary
///   VirtNetworkd.Fuzz repro TARGET FILE|DIR...       run inputs once each: prints each finding, exits 1 if any
///   VirtNetworkd.Fuzz netlink-capture DIR            the kernel's rtnetlink answers as netlink seeds (fuzz/seeds/netlink/capture.sh)
/// </code>
/// </summary>
public static class Program
{
    /// <summary>An input running longer than this is a hang (afl-fuzz's -t gives the same bound).</summary>
    public static readonly TimeSpan HangLimit = TimeSpan.FromSeconds(1);

    public static int Main(string[] args)
    {
        EnsureTraceBuffer();
        if (args.Length == 0 || args[0] is "-h" or "--help")
        {
            Console.Error.WriteLine("usage: VirtNetworkd.Fuzz list | afl TARGET | seeds TARGET DIR [LIBVIRT_SRC] | dict TARGET FILE | repro TARGET FILE|DIR...");
            return 2;
        }
        if (args[0] is "list" or "--list")
        {
            foreach (var t in FuzzTargets.All) Console.WriteLine(t.Name);
            return 0;
        }
        if (args[0] == "netlink-capture" && args.Length == 2) return NetlinkCapture.Run(args[1]);
        if (args.Length < 2 || FuzzTargets.Find(args[1]) is not { } target)
        {
            Console.Error.WriteLine($"unknown target '{(args.Length > 1 ? args[1] : "")}'; targets: {string.Join(", ", FuzzTargets.All.Select(t => t.Name))}");
            return 2;
        }
        switch (args[0])
        {
            case "afl":
                return Afl(target);
            case "seeds" when args.Length >= 3:
                return Seeds(target, args[2], args.Length > 3 ? args[3] : null);
            case "dict" when args.Length == 3:
                File.WriteAllLines(args[2], target.Dictionary().Distinct().Select(DictLine));
                return 0;
            case "repro" when args.Length >= 3:
                return Repro(target, args[2..]);
            default:
                Console.Error.WriteLine($"bad usage of '{args[0]}'");
                return 2;
        }
    }

    /// <summary>
    /// Instrumented code writes its coverage to SharpFuzz's trace buffer, which only
    /// <see cref="Fuzzer.Run(Action{Stream})"/> sets up under afl-fuzz: outside it (warm-up,
    /// repro) give it a scratch buffer so that the instrumented assemblies run anywhere.
    /// </summary>
    private static unsafe void EnsureTraceBuffer()
    {
        if (SharpFuzz.Common.Trace.SharedMem == null)
            SharpFuzz.Common.Trace.SharedMem = (byte*)System.Runtime.InteropServices.NativeMemory.AllocZeroed(1 << 16);
    }

    /// <summary>Fuzzer.Run attaches afl-fuzz's shared memory only where it finds none.</summary>
    private static unsafe void ReleaseTraceBuffer()
    {
        System.Runtime.InteropServices.NativeMemory.Free(SharpFuzz.Common.Trace.SharedMem);
        SharpFuzz.Common.Trace.SharedMem = null;
    }

    private static int Afl(FuzzTarget target)
    {
        target.Setup();
        // warm up: JIT the paths of the built-in seeds before afl-fuzz starts timing executions
        foreach (var (_, data) in target.Seeds(new SeedSources(null, null)))
        {
            try { target.Run(data); } catch (Exception) { /* a finding in a seed shows up again under afl */ }
        }
        ReleaseTraceBuffer();
        byte[] buffer = new byte[1 << 20];
        Fuzzer.Run(stream =>
        {
            int n = 0, r;
            while (n < buffer.Length && (r = stream.Read(buffer, n, buffer.Length - n)) > 0) n += r;
            target.Run(buffer.AsSpan(0, n));
        });
        return 0;
    }

    private static int Seeds(FuzzTarget target, string dir, string? libvirtSource)
    {
        Directory.CreateDirectory(dir);
        string? golden = FindUp("tests/Protocol.Tests/Golden");
        int count = 0;
        foreach (var (name, data) in target.Seeds(new SeedSources(golden, libvirtSource)))
        {
            File.WriteAllBytes(Path.Combine(dir, name), data);
            count++;
        }
        Console.WriteLine($"{target.Name}: {count} seeds in {dir}");
        return 0;
    }

    private static int Repro(FuzzTarget target, string[] paths)
    {
        target.Setup();
        var files = paths.SelectMany(p => Directory.Exists(p) ? Directory.GetFiles(p).Order(StringComparer.Ordinal).ToArray() : new[] { p }).ToList();
        int findings = 0;
        foreach (var file in files)
        {
            byte[] data = File.ReadAllBytes(file);
            var sw = Stopwatch.StartNew();
            try
            {
                target.Run(data);
                sw.Stop();
                if (sw.Elapsed > HangLimit)
                {
                    findings++;
                    Console.WriteLine($"HANG {file}: {sw.Elapsed.TotalMilliseconds:F0} ms (limit {HangLimit.TotalMilliseconds} ms)");
                }
            }
            catch (Exception e)
            {
                findings++;
                Console.WriteLine($"CRASH {file}: {e}");
            }
        }
        Console.WriteLine($"{target.Name}: {files.Count} inputs, {findings} findings");
        return findings == 0 ? 0 : 1;
    }

    /// <summary>An AFL dictionary line: the token as a C-escaped string.</summary>
    private static string DictLine(byte[] token)
    {
        var sb = new System.Text.StringBuilder("\"");
        foreach (byte b in token)
        {
            if (b is >= 0x20 and < 0x7f and not (byte)'"' and not (byte)'\\') sb.Append((char)b);
            else sb.Append($"\\x{b:X2}");
        }
        return sb.Append('"').ToString();
    }

    /// <summary>A path relative to the checkout, found by walking up from the executable.</summary>
    public static string? FindUp(string relative)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, relative);
            if (Directory.Exists(candidate) || File.Exists(candidate)) return candidate;
        }
        return null;
    }
}
