using System.Runtime.Versioning;

// the daemon (and so this harness) runs on Linux only
[assembly: SupportedOSPlatform("linux")]
