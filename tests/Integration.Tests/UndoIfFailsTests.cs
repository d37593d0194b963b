namespace VirtNetworkd.Integration.Tests;

/// <summary>Tools.UndoIfFails, which the kernel fixtures' set-ups run in.</summary>
public sealed class UndoIfFailsTests
{
    [Test]
    public void AFailedSetUpIsUndoneAndStillFails()
    {
        var calls = new List<string>();
        var e = Assert.Throws<InvalidOperationException>(() =>
            Tools.UndoIfFails(() => { calls.Add("made"); throw new InvalidOperationException("set-up broke"); }, () => calls.Add("undone")))!;
        Assert.That(e.Message, Is.EqualTo("set-up broke"));
        Assert.That(calls, Is.EqualTo(new[] { "made", "undone" }));
    }

    [Test]
    public void AFailingUndoDoesNotHideTheSetUpsError()
    {
        var e = Assert.Throws<InvalidOperationException>(() =>
            Tools.UndoIfFails(() => throw new InvalidOperationException("set-up broke"), () => throw new IOException("undo broke")))!;
        Assert.That(e.Message, Is.EqualTo("set-up broke"));
    }

    [Test]
    public void ASuccessfulSetUpIsNotUndone()
    {
        bool undone = false;
        Tools.UndoIfFails(() => { }, () => undone = true);
        Assert.That(undone, Is.False);
    }
}
