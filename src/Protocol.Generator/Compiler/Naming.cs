using System.Collections.Generic;
using System.Text;

namespace VirtNetworkd.Protocol.Generator.Compiler
{
    /// <summary>How libvirt's XDR names become C# names.</summary>
    internal static class Naming
    {
        private static readonly string[] SnakePrefixes = { "remote_", "admin_", "qemu_", "lxc_", "keepalive_" };
        private static readonly string[] CamelPrefixes = { "virNet", "vir" };
        private static readonly string[] ConstPrefixes = { "REMOTE_", "ADMIN_", "QEMU_", "LXC_", "KEEPALIVE_", "VIR_NET_", "VIR_" };

        /// <summary><c>remote_network_create_xml_args</c> → <c>NetworkCreateXmlArgs</c>;
        /// <c>virNetMessageHeader</c> → <c>MessageHeader</c>.</summary>
        public static string TypeName(string xdrName) => Safe(Pascal(StripPrefix(xdrName)));

        /// <summary><c>REMOTE_STRING_MAX</c> → <c>StringMax</c>.</summary>
        public static string ConstName(string xdrName)
        {
            string s = xdrName;
            foreach (var p in ConstPrefixes)
            {
                if (s.Length > p.Length && s.StartsWith(p, System.StringComparison.Ordinal))
                {
                    s = s.Substring(p.Length);
                    break;
                }
            }
            return Safe(Pascal(s.ToLowerInvariant()));
        }

        /// <summary>A field: <c>lib_ver</c> → <c>LibVer</c>, <c>callbackID</c> → <c>CallbackID</c>.</summary>
        public static string FieldName(string xdrName) => Safe(Pascal(xdrName));

        /// <summary>The namespace segment for a .x file: remote_protocol.x → Remote,
        /// virnetprotocol.x → Net, virkeepaliveprotocol.x → Keepalive.</summary>
        public static string FileNamespace(string path)
        {
            string f = path.Replace('\\', '/');
            int slash = f.LastIndexOf('/');
            if (slash >= 0) f = f.Substring(slash + 1);
            int dot = f.IndexOf('.');
            if (dot >= 0) f = f.Substring(0, dot);
            if (f.EndsWith("_protocol", System.StringComparison.Ordinal)) f = f.Substring(0, f.Length - "_protocol".Length);
            else if (f.EndsWith("protocol", System.StringComparison.Ordinal) && f.Length > "protocol".Length) f = f.Substring(0, f.Length - "protocol".Length);
            if (f.StartsWith("vir", System.StringComparison.Ordinal) && f.Length > 3) f = f.Substring(3);
            return Safe(Pascal(f.Replace('-', '_')));
        }

        /// <summary>Member names of an enum: their common leading words are dropped
        /// (REMOTE_PROC_NETWORK_DEFINE_XML → NetworkDefineXml) as long as every name keeps a word
        /// and none starts with a digit.</summary>
        public static List<string> EnumMemberNames(IList<string> names)
        {
            var split = new List<string[]>();
            foreach (var n in names) split.Add(n.Split('_'));
            int common = 0;
            if (split.Count > 0)
            {
                int min = int.MaxValue;
                foreach (var s in split) min = System.Math.Min(min, s.Length);
                while (common < min - 1)
                {
                    string w = split[0][common];
                    bool all = true;
                    foreach (var s in split) all &= s[common] == w;
                    if (!all) break;
                    common++;
                }
                while (common > 0)
                {
                    bool ok = true;
                    foreach (var s in split) ok &= !(s[common].Length > 0 && char.IsDigit(s[common][0]));
                    if (ok) break;
                    common--;
                }
            }
            var result = new List<string>();
            foreach (var s in split)
            {
                var sb = new StringBuilder();
                for (int i = common; i < s.Length; i++) sb.Append(Cap(s[i].ToLowerInvariant()));
                result.Add(Safe(sb.ToString()));
            }
            return result;
        }

        private static string StripPrefix(string name)
        {
            foreach (var p in SnakePrefixes)
            {
                if (name.Length > p.Length && name.StartsWith(p, System.StringComparison.Ordinal)) return name.Substring(p.Length);
            }
            foreach (var p in CamelPrefixes)
            {
                if (name.Length > p.Length && name.StartsWith(p, System.StringComparison.Ordinal) && char.IsUpper(name[p.Length]))
                    return name.Substring(p.Length);
            }
            return name;
        }

        private static string Pascal(string name)
        {
            var sb = new StringBuilder();
            foreach (var part in name.Split('_'))
            {
                if (part.Length > 0) sb.Append(Cap(part));
            }
            return sb.ToString();
        }

        private static string Cap(string s) => s.Length == 0 ? s : char.ToUpperInvariant(s[0]) + s.Substring(1);

        private static string Safe(string s)
        {
            if (s.Length == 0 || char.IsDigit(s[0])) return "X" + s;
            return s;
        }
    }
}
