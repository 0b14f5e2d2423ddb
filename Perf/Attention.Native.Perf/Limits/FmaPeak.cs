using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Attention.Native.Cpu.Simd;

namespace Attention.Native.Perf.Limits;

/// <summary>
/// The FMA throughput limit: a register-only loop of 12 independent fused multiply-add chains (more than the
/// 2 pipes × 4-cycle latency in flight that x64 cores need), in the widest accelerated vector, on t threads. It is
/// written against the library's own <see cref="ISimd{TVec}"/> operations, so it measures the instructions the kernels
/// are built from.
/// </summary>
internal static class FmaPeak
{
    public const int Accumulators = 12;

    /// <summary>The vector width the probes use on this machine: the widest accelerated one.</summary>
    public static string VectorName =>
        Vector512.IsHardwareAccelerated ? "Vector512" : Vector256.IsHardwareAccelerated ? "Vector256" : "Vector128";

    public static int Lanes =>
        Vector512.IsHardwareAccelerated ? Vector512Ops.Width
        : Vector256.IsHardwareAccelerated ? Vector256Ops.Width
        : Vector128Ops.Width;

    /// <summary>Floating-point operations one thread does in <paramref name="iterations"/> loop trips.</summary>
    public static double FlopsPerThread(long iterations) => 2.0 * Accumulators * Lanes * iterations;

    /// <summary>Runs <paramref name="iterations"/> trips on each of <paramref name="threads"/> threads.</summary>
    /// <returns>GFLOP/s over the whole run.</returns>
    public static double Measure(int threads, long iterations) =>
        threads * FlopsPerThread(iterations) / ConcurrentRun.Time(threads, _ => Run(iterations)) / 1e9;

    /// <summary>One thread's loop, in the widest accelerated vector type.</summary>
    public static float Run(long iterations) =>
        Vector512.IsHardwareAccelerated ? Loop<Vector512<float>, Vector512Ops>(iterations)
        : Vector256.IsHardwareAccelerated ? Loop<Vector256<float>, Vector256Ops>(iterations)
        : Loop<Vector128<float>, Vector128Ops>(iterations);

    // Fully optimised from the first call: a tier-0 or on-stack-replaced loop would measure the JIT, not the core.
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static float Loop<TVector, TOps>(long iterations)
        where TVector : unmanaged
        where TOps : ISimd<TVector>
    {
        // acc = acc·a + b with a just below 1 converges to b/(1 − a): values stay normal, no overflow, no denormals.
        var a = TOps.Broadcast(0.999999f);
        var b = TOps.Broadcast(1e-3f);
        TVector c0 = TOps.Broadcast(0.1f), c1 = TOps.Broadcast(0.2f), c2 = TOps.Broadcast(0.3f), c3 = TOps.Broadcast(0.4f);
        TVector c4 = TOps.Broadcast(0.5f), c5 = TOps.Broadcast(0.6f), c6 = TOps.Broadcast(0.7f), c7 = TOps.Broadcast(0.8f);
        TVector c8 = TOps.Broadcast(0.9f), c9 = TOps.Broadcast(1.0f), c10 = TOps.Broadcast(1.1f), c11 = TOps.Broadcast(1.2f);
        for (long i = 0; i < iterations; i++)
        {
            c0 = TOps.MultiplyAdd(c0, a, b);
            c1 = TOps.MultiplyAdd(c1, a, b);
            c2 = TOps.MultiplyAdd(c2, a, b);
            c3 = TOps.MultiplyAdd(c3, a, b);
            c4 = TOps.MultiplyAdd(c4, a, b);
            c5 = TOps.MultiplyAdd(c5, a, b);
            c6 = TOps.MultiplyAdd(c6, a, b);
            c7 = TOps.MultiplyAdd(c7, a, b);
            c8 = TOps.MultiplyAdd(c8, a, b);
            c9 = TOps.MultiplyAdd(c9, a, b);
            c10 = TOps.MultiplyAdd(c10, a, b);
            c11 = TOps.MultiplyAdd(c11, a, b);
        }

        var sum = TOps.Add(TOps.Add(TOps.Add(c0, c1), TOps.Add(c2, c3)), TOps.Add(TOps.Add(c4, c5), TOps.Add(c6, c7)));
        return TOps.Sum(TOps.Add(sum, TOps.Add(TOps.Add(c8, c9), TOps.Add(c10, c11))));
    }
}
