using System.Runtime.ExceptionServices;

namespace VirtNetworkd.NetworkDriver.Backend;

/// <summary>One step of bringing a network up: what it does, and what takes it back.</summary>
/// <typeparam name="TContext">What the steps share: the definition, and the record they fill in.</typeparam>
public sealed record StartStep<TContext>(string Name, Action<TContext> Do, Action<TContext>? Undo = null);

/// <summary>
/// Runs start steps in order (libvirt's networkStartNetworkVirtual): when one fails, the steps
/// already done are undone in reverse order and the first error is what the caller sees; a
/// failing undo is reported to <paramref name="undoFailed"/> and does not stop the others.
/// </summary>
public static class StepRunner
{
    public static void Run<TContext>(IReadOnlyList<StartStep<TContext>> steps, TContext context,
        Action<string, Exception>? undoFailed = null)
    {
        ArgumentNullException.ThrowIfNull(steps);
        int done = 0;
        try
        {
            for (; done < steps.Count; done++) steps[done].Do(context);
        }
        catch (Exception first)
        {
            UndoReverse(steps, done, context, undoFailed);
            ExceptionDispatchInfo.Capture(first).Throw();
        }
    }

    /// <summary>Undoes the first <paramref name="count"/> steps, last first (also how a stop can run them).</summary>
    public static void UndoReverse<TContext>(IReadOnlyList<StartStep<TContext>> steps, int count, TContext context,
        Action<string, Exception>? undoFailed = null)
    {
        ArgumentNullException.ThrowIfNull(steps);
        for (int i = count - 1; i >= 0; i--)
        {
            if (steps[i].Undo is not { } undo) continue;
            try { undo(context); }
#pragma warning disable CA1031 // the first error is the one reported; later ones are only passed on
            catch (Exception e) { undoFailed?.Invoke(steps[i].Name, e); }
#pragma warning restore CA1031
        }
    }
}
