using System.Diagnostics;

namespace Attention.Native.Perf.Layers;

/// <summary>
/// Times a layer forward and, separately, the fused attention of the same shape on the same backend (BSHD, as the
/// layer calls it): projections = forward − attention. Medians of wall-clock runs, each ended by a synchronisation
/// (so GPU times include the launch overhead a caller sees).
/// </summary>
internal sealed record LayerTiming(double ForwardMs, double AttentionMs)
{
    public double ProjectionMs => Math.Max(0, ForwardMs - AttentionMs);

    public static LayerTiming Measure(AttentionBackend backend, LayerWorkload workload, int repeats, Random random) =>
        Measure<float>(backend, workload, repeats, random);

    /// <summary>The timing of a layer of <typeparamref name="T"/> (float, Half or BFloat16) and of its attention.</summary>
    public static LayerTiming Measure<T>(AttentionBackend backend, LayerWorkload workload, int repeats, Random random, bool tf32 = false)
        where T : unmanaged
    {
        using var layer = workload.CreateLayer<T>(backend, random, tf32);
        using var input = backend.Upload<T>(LayerWorkload.Random<T>(random, (long)workload.Batch * workload.Length * workload.ModelDim, 1));
        using var output = backend.Allocate<T>(input.Length);
        double forward = Median(repeats, () => layer.Forward(workload.Batch, input, output), backend);

        var shape = workload.AttentionShape;
        using var q = backend.Upload<T>(LayerWorkload.Random<T>(random, shape.QueryElementCount, 1));
        using var k = backend.Upload<T>(LayerWorkload.Random<T>(random, shape.KeyElementCount, 1));
        using var v = backend.Upload<T>(LayerWorkload.Random<T>(random, shape.ValueElementCount, 1));
        using var o = backend.Allocate<T>(shape.OutputElementCount);
        var options = new AttentionOptions { Layout = AttentionLayout.Bshd };
        double attention = Median(repeats, () => backend.ScaledDotProductAttention(shape, q, k, v, o, options), backend);
        return new(forward, attention);
    }

    /// <summary>
    /// Median time of one decoding step (one new token per sequence, <see cref="Attention.Native.Layers.MultiHeadAttention{T}.ForwardStep"/>)
    /// after the workload's whole sequence was cached as a prompt: its projections read every weight once and its
    /// attention the whole cache.
    /// </summary>
    public static double MeasureDecodeStep<T>(AttentionBackend backend, LayerWorkload workload, int repeats, Random random)
        where T : unmanaged
    {
        using var layer = workload.CreateLayer<T>(backend, random);
        using var cache = layer.CreateCache(workload.Batch, workload.Length + repeats + 2);
        using var prompt = backend.Upload<T>(LayerWorkload.Random<T>(random, (long)workload.Batch * workload.Length * workload.ModelDim, 1));
        using var promptOutput = backend.Allocate<T>(prompt.Length);
        layer.ForwardStep(cache, prompt, promptOutput);
        using var token = backend.Upload<T>(LayerWorkload.Random<T>(random, (long)workload.Batch * workload.ModelDim, 1));
        using var output = backend.Allocate<T>(token.Length);
        return Median(repeats, () => layer.ForwardStep(cache, token, output), backend);
    }

    public static double Median(int repeats, Action run, AttentionBackend backend)
    {
        run(); // warm-up: kernels loaded, scratch allocated
        backend.Synchronize();
        var times = new double[repeats];
        for (int i = 0; i < repeats; i++)
        {
            long start = Stopwatch.GetTimestamp();
            run();
            backend.Synchronize();
            times[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        }

        Array.Sort(times);
        return times[repeats / 2];
    }
}
