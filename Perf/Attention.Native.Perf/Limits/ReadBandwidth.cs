using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Attention.Native.Cpu;
using Attention.Native.Cpu.Simd;

namespace Attention.Native.Perf.Limits;

/// <summary>
/// The streaming-read limit: t threads each sum their contiguous share of a large buffer (far bigger than the caches),
/// with four independent vector accumulators so the adds never limit the loads. The buffer is allocated as the CPU
/// backend allocates its tensors (huge pages where Linux grants them), so the limit is this machine's best, not a
/// handicapped one the kernels could beat by their allocation alone.
/// </summary>
internal sealed unsafe class ReadBandwidth : IDisposable
{
    private AlignedMemoryHandle? memory;

    /// <summary>Allocates and touches <paramref name="bytes"/> bytes (rounded down to whole 64-byte lines).</summary>
    public ReadBandwidth(long bytes)
    {
        Length = bytes / sizeof(float) / 16 * 16;
        memory = new AlignedMemoryHandle((nuint)(Length * sizeof(float)), zero: false, hugePages: true);
        new Span<float>(memory.Pointer, checked((int)Length)).Fill(1f);
    }

    /// <summary>Elements in the buffer.</summary>
    public long Length { get; }

    public long Bytes => Length * sizeof(float);

    /// <summary>Reads the whole buffer once with <paramref name="threads"/> threads.</summary>
    /// <returns>GB/s.</returns>
    public double Measure(int threads)
    {
        ObjectDisposedException.ThrowIf(memory is null, this);
        float* buffer = (float*)memory.Pointer;
        long share = Length / threads / 16 * 16;
        double seconds = ConcurrentRun.Time(threads, worker =>
        {
            long start = worker * share;
            long count = worker == threads - 1 ? Length - start : share;
            return Sum(buffer + start, count);
        });
        return Bytes / seconds / 1e9;
    }

    public void Dispose()
    {
        memory?.Dispose();
        memory = null;
    }

    /// <summary>Sums <paramref name="count"/> floats in the widest accelerated vector type.</summary>
    public static float Sum(float* values, long count) =>
        Vector512.IsHardwareAccelerated ? Sum<Vector512<float>, Vector512Ops>(values, count)
        : Vector256.IsHardwareAccelerated ? Sum<Vector256<float>, Vector256Ops>(values, count)
        : Sum<Vector128<float>, Vector128Ops>(values, count);

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static float Sum<TVector, TOps>(float* values, long count)
        where TVector : unmanaged
        where TOps : ISimd<TVector>
    {
        int lanes = TOps.Width;
        TVector a0 = TOps.Zero, a1 = a0, a2 = a0, a3 = a0;
        long i = 0;
        for (; i + (4 * lanes) <= count; i += 4 * lanes)
        {
            a0 = TOps.Add(a0, TOps.Load(values + i));
            a1 = TOps.Add(a1, TOps.Load(values + i + lanes));
            a2 = TOps.Add(a2, TOps.Load(values + i + (2 * lanes)));
            a3 = TOps.Add(a3, TOps.Load(values + i + (3 * lanes)));
        }

        float sum = TOps.Sum(TOps.Add(TOps.Add(a0, a1), TOps.Add(a2, a3)));
        for (; i < count; i++)
        {
            sum += values[i];
        }

        return sum;
    }
}
