using Tmds.DBus.Protocol;

namespace VirtNetworkd.Integration.Tests;

/// <summary>org.freedesktop.resolve1 that records each call (interface, member, signature, body) and answers with an empty reply or an error.</summary>
internal sealed class RecordingResolved : IPathMethodHandler
{
    public List<string> Calls { get; } = [];
    public string? ErrorName { get; set; }
    public string Path => "/org/freedesktop/resolve1";
    public bool HandlesChildPaths => false;

    public ValueTask HandleMethodAsync(MethodContext context)
    {
        var request = context.Request;
        string signature = request.SignatureAsString ?? "";
        var reader = request.GetBodyReader();
        string body = signature switch
        {
            "ia(sb)" => ReadDomains(ref reader),
            "ia(iay)" => ReadDns(ref reader),
            _ => "?",
        };
        lock (Calls) Calls.Add($"{request.DestinationAsString} {request.PathAsString} {request.InterfaceAsString}.{request.MemberAsString} {signature} {body}");
        if (ErrorName is not null)
        {
            context.ReplyError(ErrorName, "refused by the test");
            return default;
        }
        using var writer = context.CreateReplyWriter(null);
        context.Reply(writer.CreateMessage());
        return default;
    }

    private static string ReadDomains(ref Reader reader)
    {
        int ifindex = reader.ReadInt32();
        var items = new List<string>();
        var end = reader.ReadArrayStart(DBusType.Struct);
        while (reader.HasNext(end))
        {
            reader.AlignStruct();
            items.Add($"({reader.ReadString()}, {reader.ReadBool()})");
        }
        return $"{ifindex} [{string.Join(", ", items)}]";
    }

    private static string ReadDns(ref Reader reader)
    {
        int ifindex = reader.ReadInt32();
        var items = new List<string>();
        var end = reader.ReadArrayStart(DBusType.Struct);
        while (reader.HasNext(end))
        {
            reader.AlignStruct();
            int family = reader.ReadInt32();
            byte[] bytes = reader.ReadArrayOfByte();
            items.Add($"({family}, {Convert.ToHexString(bytes)})");
        }
        return $"{ifindex} [{string.Join(", ", items)}]";
    }
}
