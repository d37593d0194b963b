using System.Collections.Generic;

namespace VirtNetworkd.Protocol.Generator.Compiler
{
    /// <summary>
    /// C constants from libvirt's public headers that its .x files name without defining
    /// (values from include/libvirt/libvirt-host.h and libvirt-common.h).
    /// </summary>
    internal static class Prelude
    {
        public const string FileName = "<prelude>";

        public static readonly KeyValuePair<string, long>[] Constants =
        {
            new KeyValuePair<string, long>("VIR_UUID_BUFLEN", 16),
            new KeyValuePair<string, long>("VIR_SECURITY_MODEL_BUFLEN", 256 + 1),
            new KeyValuePair<string, long>("VIR_SECURITY_LABEL_BUFLEN", 4096 + 1),
            new KeyValuePair<string, long>("VIR_SECURITY_DOI_BUFLEN", 256 + 1),
            new KeyValuePair<string, long>("VIR_TYPED_PARAM_INT", 1),
            new KeyValuePair<string, long>("VIR_TYPED_PARAM_UINT", 2),
            new KeyValuePair<string, long>("VIR_TYPED_PARAM_LLONG", 3),
            new KeyValuePair<string, long>("VIR_TYPED_PARAM_ULLONG", 4),
            new KeyValuePair<string, long>("VIR_TYPED_PARAM_DOUBLE", 5),
            new KeyValuePair<string, long>("VIR_TYPED_PARAM_BOOLEAN", 6),
            new KeyValuePair<string, long>("VIR_TYPED_PARAM_STRING", 7),
            new KeyValuePair<string, long>("TRUE", 1),
            new KeyValuePair<string, long>("FALSE", 0),
        };
    }
}
