namespace VirtNetworkd.Errors;

/// <summary>libvirt's virErrorLevel.</summary>
public enum VirErrorLevel
{
    None = 0,
    Warning = 1,
    Error = 2,
}

/// <summary>
/// An error as libvirt reports it (virError): code, domain and the message a client prints.
/// Built the way libvirt's virReportErrorHelper builds it: the message is the code's template
/// with the detail in it; str1 carries the template and str2 the detail.
/// </summary>
public sealed class LibvirtError : Exception
{
    public LibvirtError(VirErrorCode code, VirErrorDomain domain, string? detail)
        : base(VirErrorMessages.Format(code, detail))
    {
        Code = code;
        Domain = domain;
        Detail = detail;
        Template = VirErrorMessages.Template(code, detail);
    }

    private LibvirtError(VirErrorCode code, VirErrorDomain domain, string message, string? str1, string? str2)
        : base(message)
    {
        Code = code;
        Domain = domain;
        Template = str1;
        Detail = str2;
    }

    /// <summary>
    /// virReportInvalidArg (virCheckFlags and friends): virRaiseErrorFull with its own format, so
    /// the message is the text alone, without the "invalid argument: " of the code's template;
    /// str1 is the reporting function, str2 the argument's name.
    /// </summary>
    public static LibvirtError InvalidArg(VirErrorDomain domain, string message, string function, string argument) =>
        new(VirErrorCode.InvalidArg, domain, message, function, argument);

    public VirErrorCode Code { get; }
    public VirErrorDomain Domain { get; }
    public VirErrorLevel Level => VirErrorLevel.Error;
    /// <summary>The text put into the code's template (libvirt's str2), if any.</summary>
    public string? Detail { get; }
    /// <summary>The code's template (libvirt's str1).</summary>
    public string? Template { get; }

    public override string ToString() => $"{Domain}/{Code}: {Message}";
}

public static partial class VirErrorMessages
{
    /// <summary>The template libvirt uses for <paramref name="code"/>: with a %s slot when there is a detail.</summary>
    public static string? Template(VirErrorCode code, string? detail)
    {
        int i = (int)code;
        if ((uint)i >= (uint)Templates.Length) return detail is null ? "unknown error" : "unknown error: %s";
        return detail is null ? Templates[i].Plain : Templates[i].WithDetail;
    }

    /// <summary>The message a client prints, as libvirt formats it.</summary>
    public static string Format(VirErrorCode code, string? detail)
    {
        string? template = Template(code, detail);
        if (template is null) return detail ?? "";
        if (detail is null) return template;
        return template.Replace("%1$s", detail, StringComparison.Ordinal).Replace("%s", detail, StringComparison.Ordinal);
    }

    public static string DomainName(VirErrorDomain domain) =>
        (uint)domain < (uint)DomainNames.Length ? DomainNames[(int)domain] : "";
}
