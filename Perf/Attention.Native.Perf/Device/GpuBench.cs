using System.Diagnostics;
using Attention.Native.Cuda;
using Attention.Native.Validation;

namespace Attention.Native.Perf.Device;

/// <summary>One row of <c>gpu-bench</c>'s CSV.</summary>
internal sealed record BenchResult(BenchConfig Config, string Status)
{
    /// <summary>The backend column: <c>attention.native</c>, or the dry run's <c>cpu-stand-in</c>.</summary>
    public string Backend { get; init; } = "attention.native";

    /// <summary>The CUDA kernel variant: <c>auto</c> or the one forced (<see cref="KernelVariants"/>).</summary>
    public string Kernel { get; init; } = KernelVariants.Auto;

    /// <summary>The entry points the call launched, as the backend prepared it (<c>attention_mma_d128_bf16</c>; split-KV's
    /// <c>partial+merge</c>); empty where the call was not prepared (another backend, or it failed first).</summary>
    public string Entry { get; init; } = string.Empty;

    public const string CsvHeader =
        "key,name,kind,dtype,batch,heads,kv_heads,lq,lk,d,causal,backend,status,median_ms,min_ms,tflops,gbps,samples,calls_per_sample,sets,first_ms,page_size,kv,kernel,entry";

    public double MedianMs { get; init; } = double.NaN;

    public double MinMs { get; init; } = double.NaN;

    public double FirstMs { get; init; } = double.NaN;

    public int Samples { get; init; }

    public int CallsPerSample { get; init; }

    public int Sets { get; init; }

    public double Tflops => Config.Flops / (MedianMs * 1e-3) / 1e12;

    public double Gbps => Config.Bytes / (MedianMs * 1e-3) / 1e9;

    public string CsvLine()
    {
        var c = Config;
        var s = c.Shape;
        return Csv.Line(
            c.Key, s.Name, c.Kind, c.Dtype, s.Batch, s.Heads, s.KvHeads, s.Lq, s.Lk, s.D, c.Causal, Backend, Status,
            MedianMs, MinMs, Tflops, Gbps, Samples > 0 ? Samples : null, CallsPerSample > 0 ? CallsPerSample : null,
            Sets > 0 ? Sets : null, FirstMs, s.PageSize > 0 ? s.PageSize : null, s.Kv, Kernel, Entry);
    }
}

/// <summary>
/// Times the CUDA backend on the shapes of shapes.json with CUDA events, by the rules in its comment: cheapest first,
/// a probe call, skip what is slow or would overrun the budget, warm-up, then the median of the samples. Another
/// backend (the dry run's CPU stand-in) is timed with the host clock after a synchronisation instead.
/// </summary>
internal sealed partial class GpuBench(AttentionBackend backend, BenchTiming timing, long deadline, Action<string> say)
{
    /// <summary>Largest host pool of random values; longer tensors repeat it (values only need to be random, not unique).</summary>
    private const int PoolLength = 1 << 22;

    /// <summary>Milliseconds per FLOP of the slowest probe so far, per kind and dtype: predicts the next probe.</summary>
    private readonly Dictionary<string, double> msPerFlop = [];

    /// <summary>Per kind and dtype, the fewest FLOPs that proved slow: costlier configurations are skipped unprobed.</summary>
    private readonly Dictionary<string, double> slowFrom = [];

    public List<BenchResult> Run(IReadOnlyList<BenchConfig> configs)
    {
        var results = new List<BenchResult>();
        foreach (var config in configs.OrderBy(c => c.Flops))
        {
            results.Add(MeasureOne(config, KernelVariants.Auto));
        }

        // Measured cheapest first; reported in the file's order, like torch_sdpa.py.
        var byKey = results.ToDictionary(r => r.Config.Key);
        return [.. configs.Select(c => byKey[c.Key])];
    }

    /// <summary>Times one configuration (errors become the row's status) and says how it went.</summary>
    public BenchResult MeasureOne(BenchConfig config, string kernel)
    {
        BenchResult result;
        try
        {
            result = Measure(config) with { Kernel = kernel };
        }
        catch (NotSupportedException e)
        {
            result = new BenchResult(config, $"unsupported: {e.Message}") { Kernel = kernel };
        }
        catch (Exception e)
        {
            result = new BenchResult(config, $"error: {e.GetType().Name}: {e.Message}") { Kernel = kernel };
        }

        say(result.Status == "ok"
            ? $"gpu-bench: {config.Key} [{kernel}]: {result.MedianMs:F3} ms, {result.Tflops:F2} TFLOP/s, {result.Gbps:F0} GB/s ({result.Samples}x{result.CallsPerSample} calls, {result.Sets} set(s))"
            : $"gpu-bench: {config.Key} [{kernel}]: {result.Status}");
        return result;
    }

    /// <summary>A first untimed call per dtype: loads (JIT-compiles) the kernels outside every measurement.</summary>
    /// <remarks>Three shapes, a prefill-like and a decode-like one and a backward, so that every module the automatic
    /// choice uses is loaded; a forced kernel that cannot run one of them is simply not warmed on it.</remarks>
    public void WarmUpKernels(IEnumerable<string> dtypes)
    {
        foreach (string dtype in dtypes.Distinct())
        {
            foreach (var (kind, shape) in new[]
            {
                ("attention", new BenchShape("warm-up", 1, 1, 1, 8, 8, 64)), ("decode", new BenchShape("warm-up", 1, 1, 1, 1, 256, 64)),
                ("backward", new BenchShape("warm-up", 1, 1, 1, 64, 64, 64)),
            })
            {
                var tiny = new BenchConfig(kind, shape, dtype, false);
                try
                {
                    _ = Dispatch(tiny, 1, (sets, time) =>
                    {
                        _ = time(1);
                        return new BenchResult(tiny, "warm-up");
                    });
                }
                catch (NotSupportedException)
                {
                    // A forced kernel that cannot run this shape: nothing to load for it.
                }
                catch (Exception e)
                {
                    // A module or entry that fails to load fails the rows that need it, each with this error.
                    say($"gpu-bench: warm-up {kind} {dtype} {shape.Lq}x{shape.Lk}: {e.GetType().Name}: {e.Message}");
                }
            }
        }
    }

    private BenchResult Measure(BenchConfig config)
    {
        string family = $"{config.Kind}/{config.Dtype}";
        if (slowFrom.TryGetValue(family, out double slowFlops) && config.Flops >= slowFlops)
        {
            return new BenchResult(config, "skipped: slow (a cheaper shape of this kind and dtype took over slow_ms)");
        }

        if (msPerFlop.TryGetValue(family, out double rate) && rate * config.Flops > timing.SlowMs)
        {
            slowFrom[family] = Math.Min(slowFrom.GetValueOrDefault(family, double.MaxValue), config.Flops);
            return new BenchResult(config, $"skipped: slow (predicted {rate * config.Flops:F0} ms per call)");
        }

        if (RemainingMs() < 1000)
        {
            return new BenchResult(config, "skipped: time budget");
        }

        int sets = (int)Math.Clamp(Math.Ceiling(timing.RotateBytes / config.Bytes), 1, timing.MaxSets);
        return Dispatch(config, sets, (inputs, time) =>
        {
            double first = time(1);
            msPerFlop[family] = Math.Max(msPerFlop.GetValueOrDefault(family), first / config.Flops);
            if (first > timing.SlowMs)
            {
                slowFrom[family] = Math.Min(slowFrom.GetValueOrDefault(family, double.MaxValue), config.Flops);
                return new BenchResult(config, $"skipped: slow (first call {first:F0} ms)") { FirstMs = first };
            }

            int calls = (int)Math.Clamp(Math.Ceiling(timing.MinSampleMs / Math.Max(first, 1e-3)), 1, 1000);
            int sampleCount = timing.SamplesFor(first * calls);
            double estimate = first * calls * sampleCount + timing.WarmupMs;
            if (estimate > RemainingMs())
            {
                return new BenchResult(config, $"skipped: time budget (needs ~{estimate / 1000:F1} s)") { FirstMs = first };
            }

            long warmStart = Stopwatch.GetTimestamp();
            do
            {
                _ = time(calls);
            }
            while (Stopwatch.GetElapsedTime(warmStart).TotalMilliseconds < timing.WarmupMs);

            var samples = new double[sampleCount];
            for (int i = 0; i < samples.Length; i++)
            {
                samples[i] = time(calls);
            }

            Array.Sort(samples);
            double median = samples.Length % 2 == 1
                ? samples[samples.Length / 2]
                : (samples[(samples.Length / 2) - 1] + samples[samples.Length / 2]) / 2;
            return new BenchResult(config, "ok")
            {
                MedianMs = median,
                MinMs = samples[0],
                FirstMs = first,
                Samples = samples.Length,
                CallsPerSample = calls,
                Sets = inputs,
            };
        });
    }

    private double RemainingMs() =>
        deadline == long.MaxValue ? double.MaxValue : (deadline - Stopwatch.GetTimestamp()) * 1000.0 / Stopwatch.Frequency;

    /// <summary>
    /// A paged shape's block table: every sequence full (Lk positions) in pages of its own, the pool's pages handed out
    /// in a shuffled order (a cache whose pages were freed and reused), from a fixed seed. Null for a contiguous shape.
    /// </summary>
    private static PagedKeyValueLayout? Pages(BenchShape shape)
    {
        if (shape.PageSize == 0)
        {
            return null;
        }

        int[] table = [.. Enumerable.Range(0, shape.Batch * shape.PagesPerSequence)];
        new Random(shape.PageSize).Shuffle(table);
        return new PagedKeyValueLayout(shape.PageSize, shape.PagesPerSequence, table, Enumerable.Repeat(shape.Lk, shape.Batch).ToArray());
    }

    /// <summary>Elements of a paged shape's K or V pool, <c>[B · PagesPerSequence, PageSize, Hkv, dim]</c>.</summary>
    private static long PagedElements(BenchShape shape, int dim) =>
        (long)shape.Batch * shape.PagesPerSequence * shape.PageSize * shape.KvHeads * dim;

    /// <summary>Allocates <paramref name="sets"/> input sets of the config's dtype and hands <paramref name="body"/> a
    /// timer: <c>time(n)</c> runs n back-to-back calls (rotating over the sets) between two events and returns ms per call.</summary>
    private BenchResult Dispatch(BenchConfig config, int sets, Func<int, Func<int, double>, BenchResult> body) => config.Dtype switch
    {
        "fp32" => Dispatch<float>(config, sets, body),
        "fp16" => Dispatch<Half>(config, sets, body),
        _ => Dispatch<BFloat16>(config, sets, body),
    };

    private BenchResult Dispatch<T>(BenchConfig config, int sets, Func<int, Func<int, double>, BenchResult> body)
        where T : unmanaged
    {
        if (config.Shape.Kv.Length > 0)
        {
            return DispatchKeyValue8Bit<T>(config, sets, body);
        }

        var shape = config.AttentionShape;
        var options = new AttentionOptions { Causal = config.Causal ? CausalMask.TopLeft : CausalMask.None };
        var pool = SweepData<T>.Operand(new Random(), Math.Min(PoolLength, Math.Max(shape.QueryElementCount, shape.KeyElementCount)), 1f);
        var pages = Pages(config.Shape);
        long keyElements = pages is null ? shape.KeyElementCount : PagedElements(config.Shape, shape.HeadDim);
        long valueElements = pages is null ? shape.ValueElementCount : PagedElements(config.Shape, shape.ValueHeadDim);
        var tensors = new List<AttentionTensor<T>>();
        var lseTensors = new List<AttentionTensor<float>>();
        try
        {
            var inputs = new (AttentionTensor<T> Q, AttentionTensor<T> K, AttentionTensor<T> V, AttentionTensor<T> O)[sets];
            for (int i = 0; i < sets; i++)
            {
                inputs[i] = (Filled(shape.QueryElementCount), Filled(keyElements), Filled(valueElements),
                    Filled(shape.OutputElementCount));
            }

            // The backward's operands: the forward runs once per set (for O and the log-sum-exp it reads), untimed.
            var backward = new (AttentionTensor<float> Lse, AttentionTensor<T> DO, AttentionTensor<T> DQ, AttentionTensor<T> DK, AttentionTensor<T> DV)[config.Backward ? sets : 0];
            for (int i = 0; i < backward.Length; i++)
            {
                var lse = backend.Allocate<float>((long)shape.Batch * shape.QueryHeads * shape.QueryLength);
                lseTensors.Add(lse);
                backward[i] = (lse, Filled(shape.OutputElementCount), Filled(shape.QueryElementCount), Filled(shape.KeyElementCount),
                    Filled(shape.ValueElementCount));
                var (q, k, v, o) = inputs[i];
                backend.ScaledDotProductAttention(shape, q, k, v, o, options, lse);
            }

            int next = 0;
            void Calls(int calls)
            {
                for (int c = 0; c < calls; c++)
                {
                    var (q, k, v, o) = inputs[next];
                    if (config.Backward)
                    {
                        var (lse, dO, dQ, dK, dV) = backward[next];
                        backend.ScaledDotProductAttentionBackward(shape, q, k, v, o, lse, dO, dQ, dK, dV, options);
                    }
                    else if (pages is not null)
                    {
                        backend.PagedScaledDotProductAttention(shape, q, k, v, pages, o, options);
                    }
                    else
                    {
                        backend.ScaledDotProductAttention(shape, q, k, v, o, options);
                    }

                    next = (next + 1) % inputs.Length;
                }
            }

            double Time(int calls)
            {
                if (backend is CudaBackend cuda)
                {
                    using var start = cuda.Stream.RecordEvent();
                    Calls(calls);
                    using var stop = cuda.Stream.RecordEvent();
                    return stop.ElapsedMillisecondsSince(start) / calls;
                }

                backend.Synchronize();
                long host = Stopwatch.GetTimestamp();
                Calls(calls);
                backend.Synchronize();
                return Stopwatch.GetElapsedTime(host).TotalMilliseconds / calls;
            }

            string entry = backend is not CudaBackend cudaBackend ? string.Empty
                : config.Backward ? KernelVariants.BackwardMiddle<T>(cudaBackend, shape, options).Name
                : LaunchedEntries(cudaBackend, shape, options, pages, keyElements, valueElements);
            return body(sets, Time) with { Entry = entry };
        }
        finally
        {
            foreach (var tensor in tensors)
            {
                tensor.Dispose();
            }

            foreach (var tensor in lseTensors)
            {
                tensor.Dispose();
            }
        }

        static string LaunchedEntries(
            CudaBackend cuda, AttentionShape shape, AttentionOptions options, PagedKeyValueLayout? pages, long keyElements,
            long valueElements)
        {
            // The backend's own preparation of this very call (kernel choice, head-dim bucket, element type): the
            // entries its launch uses, so the report can join the row with their static metrics and JIT registers.
            var problem = pages is null
                ? AttentionValidator.Validate(shape, options, new(
                    shape.QueryElementCount, keyElements, valueElements, shape.OutputElementCount, -1, -1))
                : PagedAttentionValidator.Validate(shape, options, pages, new(
                    shape.QueryElementCount, keyElements, valueElements, shape.OutputElementCount, -1));
            var prepared = CudaAttention.Prepare<T>(cuda, problem);
            return prepared.Merge is { } merge ? $"{prepared.Function.Name}+{merge.Name}" : prepared.Function.Name;
        }

        AttentionTensor<T> Filled(long length)
        {
            var tensor = backend.Allocate<T>(length);
            tensors.Add(tensor);
            return FillRepeating(tensor, pool);
        }
    }

    /// <summary>Copies <paramref name="pool"/> into <paramref name="tensor"/> over and over to its end.</summary>
    private static TTensor FillRepeating<TTensor, TElement>(TTensor tensor, TElement[] pool)
        where TTensor : AttentionTensor<TElement>
        where TElement : unmanaged
    {
        var host = new TElement[tensor.Length];
        for (long offset = 0; offset < host.Length; offset += pool.Length)
        {
            int count = (int)Math.Min(pool.Length, host.Length - offset);
            pool.AsSpan(0, count).CopyTo(host.AsSpan((int)offset, count));
        }

        tensor.CopyFrom(host);
        return tensor;
    }
}
