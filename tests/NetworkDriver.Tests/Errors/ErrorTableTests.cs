using System.Diagnostics;
using VirtNetworkd.Errors;
using VirtNetworkd.Tests.Shared;

namespace VirtNetworkd.NetworkDriver.Tests;

/// <summary>
/// The error table (codes, domains, message templates) is generated from libvirt's own
/// virterror.h and virerror.c: regenerating it from the 11.3 tree (cut at 10.8's last code) must
/// give the committed file, byte for byte.
/// </summary>
public sealed class ErrorTableTests
{
    [Test]
    public void TheCommittedTableIsWhatTheGeneratorMakesFromLibvirtsSource()
    {
        string src = RepoPaths.LibvirtSource("trixie");
        string script = Path.Combine(RepoPaths.Root, "tools", "errors", "gen_error_table.py");
        string committed = Path.Combine(RepoPaths.Root, "src", "Errors", "VirError.Table.g.cs");
        string output = Path.Combine(Path.GetTempPath(), "vnd-error-table-" + Guid.NewGuid().ToString("N") + ".cs");
        try
        {
            var psi = new ProcessStartInfo("python3") { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (string a in new[] { script, src, output }) psi.ArgumentList.Add(a);
            using var p = Process.Start(psi)!;
            string log = p.StandardOutput.ReadToEnd() + p.StandardError.ReadToEnd();
            p.WaitForExit();
            Assert.That(p.ExitCode, Is.Zero, log);
            Assert.That(File.ReadAllText(output), Is.EqualTo(File.ReadAllText(committed)));
        }
        finally
        {
            File.Delete(output);
        }
    }

    [Test]
    public void MessagesAreFormattedAsLibvirtFormatsThem()
    {
        Assert.That(new LibvirtError(VirErrorCode.NoNetwork, VirErrorDomain.Network, "no network with matching name 'x'").Message,
            Is.EqualTo("Network not found: no network with matching name 'x'"));
        Assert.That(new LibvirtError(VirErrorCode.OperationInvalid, VirErrorDomain.Network, "network is not active").Message,
            Is.EqualTo("Requested operation is not valid: network is not active"));
        Assert.That(VirErrorMessages.DomainName(VirErrorDomain.Network), Is.EqualTo("Network Driver"));
    }
}
