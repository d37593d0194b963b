using VirtNetworkd.NetworkDriver.Backend;

namespace VirtNetworkd.NetworkDriver.Tests.Driver;

[TestFixture]
public sealed class StepRunnerTests
{
    private static StartStep<List<string>> Step(string name, bool fail = false, bool failUndo = false, bool undo = true) =>
        new(name,
            log =>
            {
                if (fail) throw new InvalidOperationException(name + " failed");
                log.Add("do " + name);
            },
            undo ? log =>
            {
                if (failUndo) throw new InvalidOperationException("undo " + name + " failed");
                log.Add("undo " + name);
            } : null);

    [Test]
    public void RunsEveryStepInOrder()
    {
        var log = new List<string>();
        StepRunner.Run([Step("bridge"), Step("firewall"), Step("dnsmasq")], log);
        Assert.That(log, Is.EqualTo(new[] { "do bridge", "do firewall", "do dnsmasq" }));
    }

    [Test]
    public void AFailureUndoesTheDoneStepsInReverseAndReportsItsOwnError()
    {
        var log = new List<string>();
        var e = Assert.Throws<InvalidOperationException>(() =>
            StepRunner.Run([Step("bridge"), Step("firewall"), Step("dnsmasq", fail: true), Step("hook")], log));
        Assert.That(e!.Message, Is.EqualTo("dnsmasq failed"));
        Assert.That(log, Is.EqualTo(new[] { "do bridge", "do firewall", "undo firewall", "undo bridge" }));
    }

    [Test]
    public void AFailingUndoIsPassedOnAndTheOthersStillRun()
    {
        var log = new List<string>();
        var undoErrors = new List<string>();
        var e = Assert.Throws<InvalidOperationException>(() =>
            StepRunner.Run([Step("bridge"), Step("firewall", failUndo: true), Step("nothing-to-undo", undo: false), Step("dnsmasq", fail: true)],
                log, (step, ex) => undoErrors.Add(step + ": " + ex.Message)));
        Assert.That(e!.Message, Is.EqualTo("dnsmasq failed"), "the first error, not the undo's");
        Assert.That(log, Is.EqualTo(new[] { "do bridge", "do firewall", "do nothing-to-undo", "undo bridge" }));
        Assert.That(undoErrors, Is.EqualTo(new[] { "firewall: undo firewall failed" }));
    }

    [Test]
    public void AFailingFirstStepUndoesNothing()
    {
        var log = new List<string>();
        Assert.Throws<InvalidOperationException>(() => StepRunner.Run([Step("bridge", fail: true), Step("firewall")], log));
        Assert.That(log, Is.Empty);
    }

    [Test]
    public void TheOriginalStackTraceIsKept()
    {
        var e = Assert.Throws<InvalidOperationException>(() => StepRunner.Run([Step("x", fail: true)], new List<string>()));
        Assert.That(e!.StackTrace, Does.Contain(nameof(StepRunnerTests)));
    }
}
