namespace VirtNetworkd.NetworkDriver.Backend.Bandwidth;

/// <summary>
/// A device's qdiscs and classes as <c>tc qdisc show</c> and <c>tc class show</c> print them
/// ("qdisc htb 1: root refcnt 2 …", "class htb 1:2 parent 1:1 …"): kind, handle and parent of each.
/// </summary>
public sealed class TcTree
{
    /// <summary>One qdisc or class: its kind (htb, sfq, ingress…), its handle or class id, its parent ("root" for the root).</summary>
    public readonly record struct Node(string Kind, string Id, string Parent);

    public IReadOnlyList<Node> Qdiscs { get; }
    public IReadOnlyList<Node> Classes { get; }

    private TcTree(List<Node> qdiscs, List<Node> classes)
    {
        Qdiscs = qdiscs;
        Classes = classes;
    }

    public static TcTree Parse(string output)
    {
        ArgumentNullException.ThrowIfNull(output);
        List<Node> qdiscs = [], classes = [];
        foreach (string line in output.Split('\n'))
        {
            string[] f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (f.Length < 4) continue;
            string parent = f[3] == "root" ? "root" : f[3] == "parent" && f.Length > 4 ? f[4] : "";
            if (f[0] == "qdisc") qdiscs.Add(new Node(f[1], f[2], parent));
            else if (f[0] == "class") classes.Add(new Node(f[1], f[2], parent));
        }
        return new TcTree(qdiscs, classes);
    }

    /// <summary>The root qdisc is libvirt's: HTB with handle 1:.</summary>
    public bool HasRootHtb => Qdiscs.Any(q => q is { Kind: "htb", Id: "1:", Parent: "root" });

    public bool HasIngress => Qdiscs.Any(q => q.Kind == "ingress" && q.Id == "ffff:");

    /// <summary>An HTB class with this id ("1:3") under this parent.</summary>
    public bool HasClass(string id, string parent) => Classes.Any(c => c.Kind == "htb" && c.Id == id && c.Parent == parent);
}
