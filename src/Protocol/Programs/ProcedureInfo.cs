namespace VirtNetworkd.Protocol.Programs;

/// <summary>
/// What the definitions say about one procedure of a program: its number and names, the XDR
/// types of its arguments, reply and message, and the annotations a server acts on.
/// </summary>
public sealed class ProcedureInfo
{
    public ProcedureInfo(int number, string name, string? apiName, bool highPriority, bool readOnly,
        string[] acl, Type? argsType, Type? retType, Type? msgType, bool stream = false)
    {
        Number = number;
        Name = name;
        ApiName = apiName;
        HighPriority = highPriority;
        ReadOnly = readOnly;
        Acl = acl;
        ArgsType = argsType;
        RetType = retType;
        MsgType = msgType;
        Stream = stream;
    }

    public int Number { get; }
    /// <summary>The definition's name, e.g. REMOTE_PROC_NETWORK_DEFINE_XML.</summary>
    public string Name { get; }
    /// <summary>The public C API function, e.g. virNetworkDefineXML (null for pure messages).</summary>
    public string? ApiName { get; }
    /// <summary>libvirt's <c>@priority: high</c>: may run on the priority workers.</summary>
    public bool HighPriority { get; }
    /// <summary>Allowed on a read-only connection: every unconditional ACL permission is one an
    /// anonymous (read-only) user holds (getattr, read, search_*), or there is none.</summary>
    public bool ReadOnly { get; }
    /// <summary>libvirt's <c>@acl</c> values, e.g. network:write, network:save:FLAG.</summary>
    public string[] Acl { get; }
    public Type? ArgsType { get; }
    public Type? RetType { get; }
    public Type? MsgType { get; }
    /// <summary>The procedure carries a data stream (@readstream/@writestream).</summary>
    public bool Stream { get; }

    public override string ToString() => $"{Name} ({Number})";
}

/// <summary>A program's procedures indexed by number.</summary>
public sealed class ProcedureTable
{
    private readonly ProcedureInfo?[] _byNumber;

    public ProcedureTable(uint program, uint version, string name, ProcedureInfo[] procedures)
    {
        Program = program;
        Version = version;
        Name = name;
        int max = 0;
        foreach (var p in procedures) max = Math.Max(max, p.Number);
        _byNumber = new ProcedureInfo?[max + 1];
        foreach (var p in procedures) _byNumber[p.Number] = p;
        All = procedures;
    }

    public uint Program { get; }
    public uint Version { get; }
    public string Name { get; }
    public IReadOnlyList<ProcedureInfo> All { get; }

    public bool TryGet(int number, out ProcedureInfo procedure)
    {
        if ((uint)number < (uint)_byNumber.Length && _byNumber[number] is { } p)
        {
            procedure = p;
            return true;
        }
        procedure = null!;
        return false;
    }
}
