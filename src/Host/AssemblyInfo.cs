using System.Runtime.Versioning;

// Linux only (fcntl locks, /proc); also tells the platform analyzer (CA1416) that Unix-only APIs are fine here.
[assembly: SupportedOSPlatform("linux")]
