using System.Runtime.CompilerServices;

namespace Attention.Native.Cpu.Simd;

/// <summary>
/// Records the variant each CPU operation ran with, so that tests can prove a forced variant reaches every operation
/// (the layers' projections and conversions included). Each operation reports itself from its generic code, with the
/// variant of the operator struct it was compiled for. While no observation is open that costs one read of a static
/// counter per operation (and per converted row); an open one is found through an <see cref="AsyncLocal{T}"/>, which
/// follows the call onto its worker threads and keeps tests running side by side apart.
/// </summary>
internal static class CpuIsaObserver
{
    private static readonly AsyncLocal<CpuIsaObservation?> Current = new();
    private static int open;

    /// <summary>Records that <paramref name="operation"/> runs with <typeparamref name="TOps"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Ran<TOps, TVec>(CpuOperation operation)
        where TOps : ISimd<TVec>
        where TVec : unmanaged
    {
        if (Volatile.Read(ref open) != 0)
        {
            Record(operation, TOps.Variant);
        }
    }

    /// <summary>Starts recording the operations this logical call chain runs, until the result is disposed.</summary>
    public static CpuIsaObservation Observe()
    {
        var observation = new CpuIsaObservation(Current.Value, Close);
        Current.Value = observation;
        Interlocked.Increment(ref open);
        return observation;
    }

    private static void Close(CpuIsaObservation observation)
    {
        Current.Value = observation.Outer;
        Interlocked.Decrement(ref open);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Record(CpuOperation operation, CpuKernelVariant variant) => Current.Value?.Add(operation, variant);
}
