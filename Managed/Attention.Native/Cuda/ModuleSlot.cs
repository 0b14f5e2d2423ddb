using System.Runtime.ExceptionServices;

namespace Attention.Native.Cuda;

/// <summary>
/// A kernel module of a backend, loaded (JIT-compiled) on first use and kept for the backend's lifetime; when the load
/// fails, the failure is kept instead and rethrown on every later use, so that a module the driver rejects is not
/// JIT-compiled again on each call. Callers serialise access (the backend's launch gate).
/// </summary>
/// <typeparam name="T">The module's kernels.</typeparam>
internal sealed class ModuleSlot<T> : IDisposable
    where T : class, IDisposable
{
    private T? module;
    private ExceptionDispatchInfo? failure;

    /// <summary>The module: the one loaded earlier, or <paramref name="load"/>'s.</summary>
    /// <exception cref="CudaException">The load failed, now or on an earlier call (that failure, rethrown).</exception>
    /// <exception cref="InvalidOperationException">The PTX is not embedded in this build, now or on an earlier call.</exception>
    public T Get<TState>(TState state, Func<TState, T> load)
    {
        failure?.Throw();
        if (module is null)
        {
            try
            {
                module = load(state);
            }
            catch (Exception e) when (e is CudaException or (InvalidOperationException and not ObjectDisposedException))
            {
                failure = ExceptionDispatchInfo.Capture(e);
                throw;
            }
        }

        return module;
    }

    public void Dispose() => module?.Dispose();
}
