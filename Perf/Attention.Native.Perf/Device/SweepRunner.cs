using System.Diagnostics;
using Attention.Native.Cpu;
using Attention.Native.Reference;

namespace Attention.Native.Perf.Device;

/// <summary>
/// Runs sweep cases in parallel: each worker has its own one-thread CPU backend; the CUDA backend is shared and its
/// calls are serialised. Every case draws fresh operands, poisons the outputs with NaN, runs on the CPU and CUDA and
/// checks both against the float64 reference (<see cref="SweepCheck"/>), and CUDA against the CPU. The dry run puts a
/// CPU backend (the scalar variant) in CUDA's place, so that every step but the device itself is exercised.
/// </summary>
internal static class SweepRunner
{
    /// <summary>Runs the cases; a case not started before <paramref name="deadline"/> is left null.</summary>
    /// <param name="cases">The cases.</param>
    /// <param name="cuda">The CUDA backend (or the dry run's stand-in), or null to run the CPU side only.</param>
    /// <param name="workers">Cases run at once.</param>
    /// <param name="deadline">When to stop starting cases (<see cref="Stopwatch"/> timestamp); long.MaxValue for none.</param>
    /// <param name="done">Called after each case (from worker threads).</param>
    public static SweepResult?[] Run(
        IReadOnlyList<SweepCase> cases, AttentionBackend? cuda, int workers, long deadline, Action<SweepResult> done)
    {
        var results = new SweepResult?[cases.Count];
        var cudaGate = new Lock();
        Parallel.For(
            0,
            cases.Count,
            new ParallelOptions { MaxDegreeOfParallelism = workers },
            () => new CpuBackend(new CpuBackendOptions { ThreadCount = 1 }),
            (i, _, cpu) =>
            {
                if (Stopwatch.GetTimestamp() < deadline)
                {
                    results[i] = RunCase(cases[i], cpu, cuda, cudaGate);
                    done(results[i]!);
                }

                return cpu;
            },
            cpu => cpu.Dispose());
        return results;
    }

    public static SweepResult RunCase(SweepCase c, AttentionBackend cpu, AttentionBackend? cuda, Lock cudaGate) => c.Type switch
    {
        SweepType.Float => RunCase<float>(c, cpu, cuda, cudaGate),
        SweepType.Half => RunCase<Half>(c, cpu, cuda, cudaGate),
        _ => RunCase<BFloat16>(c, cpu, cuda, cudaGate),
    };

    private static SweepResult RunCase<T>(SweepCase c, AttentionBackend cpu, AttentionBackend? cuda, Lock cudaGate)
        where T : unmanaged
    {
        long start = Stopwatch.GetTimestamp();
        var result = new SweepResult(c);
        try
        {
            var data = SweepData<T>.Draw(c);
            var reference = ReferenceAttention.Compute<T>(c.Shape, data.Query, data.Key, data.Value, data.Options);
            result.MaskedRows = reference.LogSumExp.Count(double.IsNegativeInfinity);
            var cpuOutputs = TryExecute(cpu, data, result, "cpu");
            if (cpuOutputs is not null)
            {
                var check = SweepCheck.Against(reference, data, cpuOutputs, result, "cpu");
                result.CpuError = check.Error;
                result.CpuNaNs = check.NaNs;
            }

            if (cuda is not null)
            {
                string name = cuda.Kind == AttentionBackendKind.Cuda ? "cuda" : "stand-in";
                BackendOutputs<T>? cudaOutputs;
                lock (cudaGate)
                {
                    cudaOutputs = TryExecute(cuda, data, result, name);
                }

                result.CudaRan = cuda.Kind == AttentionBackendKind.Cuda;
                result.StandInRan = !result.CudaRan;
                if (cudaOutputs is not null)
                {
                    var check = SweepCheck.Against(reference, data, cudaOutputs, result, name);
                    result.CudaError = check.Error;
                    result.CudaNaNs = check.NaNs;
                    if (cpuOutputs is not null)
                    {
                        (result.CudaCpuDifference, result.CudaCpuMaxAbs) = SweepCheck.Difference(reference, data, cudaOutputs, cpuOutputs);
                    }
                }
            }
        }
        catch (Exception e)
        {
            result.Fail($"sweep error: {e.GetType().Name}: {e.Message}");
        }

        result.Milliseconds = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        return result;
    }

    private static BackendOutputs<T>? TryExecute<T>(AttentionBackend backend, SweepData<T> data, SweepResult result, string name)
        where T : unmanaged
    {
        try
        {
            return Execute(backend, data);
        }
        catch (Exception e)
        {
            result.Fail($"{name} threw {e.GetType().Name}: {e.Message}");
            return null;
        }
    }

    /// <summary>One call on poisoned outputs, through spans or through tensors (masks and biases in tensors where the
    /// case says so); returns the outputs copied back to the host.</summary>
    public static BackendOutputs<T> Execute<T>(AttentionBackend backend, SweepData<T> data)
        where T : unmanaged
    {
        var c = data.Case;
        var s = c.Shape;
        var output = SweepData<T>.Poison<T>(c.Geometry.OutputLength);
        float[] lse = c.WithLogSumExp ? SweepData<T>.Poison<float>(s.LogSumExpElementCount) : [];
        float[] probabilities = c.WithProbabilities ? SweepData<T>.Poison<float>(s.ProbabilitiesElementCount) : [];
        if (!c.ViaTensors)
        {
            backend.ScaledDotProductAttention<T>(s, data.Query, data.Key, data.Value, output, data.Options, lse, probabilities);
            return new(output, lse, probabilities);
        }

        using var q = backend.Upload<T>(data.Query);
        using var k = backend.Upload<T>(data.Key);
        using var v = backend.Upload<T>(data.Value);
        using var o = backend.Upload<T>(output);
        using var l = c.WithLogSumExp ? backend.Upload<float>(lse) : null;
        using var p = c.WithProbabilities ? backend.Upload<float>(probabilities) : null;
        using var maskTensor = c.Mask is { InTensor: true } && data.Mask is not null ? backend.Upload<bool>(data.Mask) : null;
        using var biasTensor = c.Bias is { InTensor: true } && data.Bias is not null ? backend.Upload<float>(data.Bias) : null;
        var options = data.Options;
        if (maskTensor is not null)
        {
            options = options with { Mask = new AttentionMask(maskTensor, c.Mask!.Batch, c.Mask.Heads) };
        }

        if (biasTensor is not null)
        {
            options = options with { Bias = new AttentionBias(biasTensor, c.Bias!.Batch, c.Bias.Heads) };
        }

        backend.ScaledDotProductAttention(s, q, k, v, o, options, l, p);
        o.CopyTo(output);
        l?.CopyTo(lse);
        p?.CopyTo(probabilities);
        return new(output, lse, probabilities);
    }
}

/// <summary>A backend's outputs copied to the host; empty arrays for outputs not asked for.</summary>
internal sealed record BackendOutputs<T>(T[] Output, float[] LogSumExp, float[] Probabilities)
    where T : unmanaged;
