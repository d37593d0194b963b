// The daemon is Linux-only (src/Server is marked so); so are its tests.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
