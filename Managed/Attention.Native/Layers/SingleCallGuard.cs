namespace Attention.Native.Layers;

/// <summary>
/// Detects a second call entering an object that serves one call at a time (a layer's scratch buffers and engine, a
/// cache's rows and length): that call throws <see cref="InvalidOperationException"/> instead of silently sharing
/// them with the first. One interlocked exchange per call; nothing ever waits on it.
/// </summary>
/// <param name="owner">The object's name, for the message.</param>
internal sealed class SingleCallGuard(string owner)
{
    private int busy;

    /// <summary>Marks a call as running until the returned scope is disposed.</summary>
    /// <exception cref="InvalidOperationException">Another call is running.</exception>
    public Scope Enter() =>
        Interlocked.Exchange(ref busy, 1) == 0
            ? new Scope(this)
            : throw new InvalidOperationException(
                $"This {owner} is running another call: it serves one call at a time. Use one per thread, or wait for " +
                "the other call to return.");

    /// <summary>A running call; disposing it ends the call.</summary>
    internal readonly struct Scope(SingleCallGuard guard) : IDisposable
    {
        public void Dispose() => Volatile.Write(ref guard.busy, 0);
    }
}
