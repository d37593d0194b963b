using System.Runtime.CompilerServices;
using System.Runtime.Versioning;

[assembly: InternalsVisibleTo("VirtNetworkd.Server.Tests")]
// the fuzzing harness registers in-memory clients with a server (NetServer.Add) for the admin program
[assembly: InternalsVisibleTo("VirtNetworkd.Fuzz")]

// virtnetworkd runs on Linux only (sockets, fcntl locks, systemd); this also tells the
// platform analyzer (CA1416) that Unix-only APIs such as UnixFileMode are fine here.
[assembly: SupportedOSPlatform("linux")]
