using System.Buffers;
using System.Runtime.InteropServices;
using Attention.Native.Cpu.Decode;
using Attention.Native.Cpu.Simd;
using Attention.Native.Validation;

namespace Attention.Native.Cpu;

/// <summary>
/// The SIMD CPU backend: FlashAttention-style fused attention in float (Half and BFloat16 operands are converted
/// block by block), multi-threaded over (batch, head, query block) work items.
/// </summary>
/// <remarks>
/// Head dims (D and Dv) are at most 16,384: each worker keeps row tiles of the query and output D wide (about 450 bytes
/// per unit of D + Dv), so larger ones would need gigabytes of scratch per worker. Calls past it throw
/// <see cref="ArgumentOutOfRangeException"/> naming the dimension before anything is written.
/// </remarks>
public sealed class CpuBackend : AttentionBackend
{
    /// <summary>The largest head dim (D and Dv) the CPU kernels take.</summary>
    internal const int MaxHeadDim = 16384;

    /// <summary>Creates a CPU backend.</summary>
    /// <param name="options">Thread count and kernel variant; null for the defaults.</param>
    /// <exception cref="ArgumentOutOfRangeException">The thread count is negative or the variant is undefined.</exception>
    /// <exception cref="ArgumentException"><c>ATTENTION_NATIVE_CPU_VARIANT</c> names no variant.</exception>
    public CpuBackend(CpuBackendOptions? options = null)
        : this(options, "Requested explicitly.")
    {
    }

    internal CpuBackend(CpuBackendOptions? options, string reason)
        : base(reason)
    {
        options ??= new CpuBackendOptions();
        if (options.ThreadCount < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.ThreadCount, "ThreadCount must be 0 (all cores) or positive.");
        }

        ThreadCount = options.ThreadCount == 0 ? Environment.ProcessorCount : options.ThreadCount;
        Variant = CpuIsa.Resolve(options.Variant);
        HugePages = options.HugePages;
    }

    /// <inheritdoc />
    public override AttentionBackendKind Kind => AttentionBackendKind.Cpu;

    /// <summary>Worker threads per call.</summary>
    public int ThreadCount { get; }

    /// <summary>The kernel variant in use (never <see cref="CpuKernelVariant.Auto"/>).</summary>
    public CpuKernelVariant Variant { get; }

    /// <summary>Whether large tensors ask for transparent huge pages (<see cref="CpuBackendOptions.HugePages"/>).</summary>
    public bool HugePages { get; }

    /// <summary>Whether <see cref="Variant"/> runs on this machine's vector hardware (a forced variant may be emulated).</summary>
    public bool IsVariantAccelerated => CpuIsa.IsAccelerated(Variant);

    /// <inheritdoc />
    public override string Description =>
        $"CPU {Variant}{(IsVariantAccelerated ? string.Empty : " (emulated)")}, {ThreadCount} thread{(ThreadCount == 1 ? string.Empty : "s")}";

    private protected override AttentionTensor<T> AllocateCore<T>(long length) => new CpuTensor<T>(this, length);

    private protected override unsafe void RunCore<T>(
        AttentionProblem problem,
        AttentionTensor<T> query,
        AttentionTensor<T> key,
        AttentionTensor<T> value,
        AttentionTensor<T> output,
        AttentionTensor<float>? logSumExp,
        AttentionTensor<float>? probabilities)
    {
        Run(problem, CpuTensor<T>.PointerOf(query), CpuTensor<T>.PointerOf(key), CpuTensor<T>.PointerOf(value),
            CpuTensor<T>.PointerOf(output), CpuTensor<float>.PointerOf(logSumExp), CpuTensor<float>.PointerOf(probabilities));
    }

    private protected override unsafe void RunCore<T>(
        AttentionProblem problem,
        ReadOnlySpan<T> query,
        ReadOnlySpan<T> key,
        ReadOnlySpan<T> value,
        Span<T> output,
        Span<float> logSumExp,
        Span<float> probabilities)
    {
        fixed (T* q = query)
        fixed (T* k = key)
        fixed (T* v = value)
        fixed (T* o = output)
        fixed (float* lse = logSumExp)
        fixed (float* probs = probabilities)
        {
            Run(problem, q, k, v, o, problem.WantsLogSumExp ? lse : null, problem.WantsProbabilities ? probs : null);
        }
    }

    private protected override unsafe void RunBackwardCore<T>(
        AttentionBackwardProblem problem,
        AttentionTensor<T> query,
        AttentionTensor<T> key,
        AttentionTensor<T> value,
        AttentionTensor<T> output,
        AttentionTensor<float> logSumExp,
        AttentionTensor<T> outputGrad,
        AttentionTensor<T> queryGrad,
        AttentionTensor<T> keyGrad,
        AttentionTensor<T> valueGrad,
        AttentionTensor<float>? biasGrad,
        AttentionTensor<float>? sinksGrad)
    {
        RunBackward(problem, new BackwardOperands<T>
        {
            Query = CpuTensor<T>.PointerOf(query),
            Key = CpuTensor<T>.PointerOf(key),
            Value = CpuTensor<T>.PointerOf(value),
            Output = CpuTensor<T>.PointerOf(output),
            LogSumExp = CpuTensor<float>.PointerOf(logSumExp),
            OutputGrad = CpuTensor<T>.PointerOf(outputGrad),
            QueryGrad = CpuTensor<T>.PointerOf(queryGrad),
            KeyGrad = CpuTensor<T>.PointerOf(keyGrad),
            ValueGrad = CpuTensor<T>.PointerOf(valueGrad),
            BiasGrad = CpuTensor<float>.PointerOf(biasGrad),
            SinksGrad = CpuTensor<float>.PointerOf(sinksGrad),
        });
    }

    private protected override unsafe void RunBackwardCore<T>(
        AttentionBackwardProblem problem,
        ReadOnlySpan<T> query,
        ReadOnlySpan<T> key,
        ReadOnlySpan<T> value,
        ReadOnlySpan<T> output,
        ReadOnlySpan<float> logSumExp,
        ReadOnlySpan<T> outputGrad,
        Span<T> queryGrad,
        Span<T> keyGrad,
        Span<T> valueGrad,
        Span<float> biasGrad,
        Span<float> sinksGrad)
    {
        fixed (T* q = query)
        fixed (T* k = key)
        fixed (T* v = value)
        fixed (T* o = output)
        fixed (float* lse = logSumExp)
        fixed (T* dO = outputGrad)
        fixed (T* dQ = queryGrad)
        fixed (T* dK = keyGrad)
        fixed (T* dV = valueGrad)
        fixed (float* dBias = biasGrad)
        fixed (float* dSinks = sinksGrad)
        {
            RunBackward(problem, new BackwardOperands<T>
            {
                Query = q,
                Key = k,
                Value = v,
                Output = o,
                LogSumExp = lse,
                OutputGrad = dO,
                QueryGrad = dQ,
                KeyGrad = dK,
                ValueGrad = dV,
                BiasGrad = problem.WantsBiasGrad ? dBias : null,
                SinksGrad = problem.WantsSinksGrad ? dSinks : null,
            });
        }
    }

    /// <summary>Rejects what the CPU kernels cannot hold: head dims above <see cref="MaxHeadDim"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A head dim is above the limit.</exception>
    internal static void ThrowIfBeyondLimits(AttentionProblem problem)
    {
        ThrowIfAbove(problem.HeadDim, nameof(AttentionShape.HeadDim));
        ThrowIfAbove(problem.ValueHeadDim, nameof(AttentionShape.ValueHeadDim));

        static void ThrowIfAbove(int dim, string name)
        {
            if (dim > MaxHeadDim)
            {
                throw new ArgumentOutOfRangeException(
                    "shape", dim, $"shape.{name} is {dim}; the CPU backend takes head dims up to {MaxHeadDim}.");
            }
        }
    }

    private protected override ReadOnlySpan<byte> HostBytes<TElement>(AttentionTensor<TElement> tensor) =>
        MemoryMarshal.AsBytes(((CpuTensor<TElement>)tensor).AsSpan());

    private unsafe void Run<T>(AttentionProblem problem, T* q, T* k, T* v, T* o, float* lse, float* probs)
        where T : unmanaged
    {
        ThrowIfBeyondLimits(problem);
        using var mask = Pin(problem.Mask, out bool* maskPointer);
        using var bias = Pin(problem.Bias, out float* biasPointer);
        var operands = new Operands<T>
        {
            Query = q,
            Key = k,
            Value = v,
            Output = o,
            LogSumExp = lse,
            Probabilities = probs,
            Mask = maskPointer,
            Bias = biasPointer,
        };
        if (problem.Varlen is not null)
        {
            VarlenAttention.Run(Variant, problem, operands, ThreadCount);
            return;
        }

        CpuKernels.Run(Variant, problem, operands, ThreadCount);
    }

    private unsafe void RunBackward<T>(AttentionBackwardProblem problem, BackwardOperands<T> operands)
        where T : unmanaged
    {
        ThrowIfBeyondLimits(problem.Forward);
        using var mask = Pin(problem.Forward.Mask, out bool* maskPointer);
        using var bias = Pin(problem.Forward.Bias, out float* biasPointer);
        CpuKernels.RunBackward(Variant, problem, operands with { Mask = maskPointer, Bias = biasPointer }, ThreadCount);
    }

    /// <summary>
    /// The decode kernel with K and V from <paramref name="rows"/> (an int8 key/value cache): validated by the caller
    /// (<see cref="Decode.ByteCacheAttention"/>), which checked that the decode kernel takes the problem.
    /// </summary>
    internal unsafe void RunDecode<T, TKv>(AttentionProblem problem, T* q, KeyValueRows<TKv> rows, T* o, float* lse)
        where T : unmanaged
        where TKv : unmanaged
    {
        ThrowIfBeyondLimits(problem);
        using var mask = Pin(problem.Mask, out bool* maskPointer);
        using var bias = Pin(problem.Bias, out float* biasPointer);
        var operands = new Operands<T>
        {
            Query = q,
            Output = o,
            LogSumExp = lse,
            Mask = maskPointer,
            Bias = biasPointer,
        };
        CpuKernels.RunDecode(Variant, problem, operands, rows, ThreadCount);
    }

    private static unsafe MemoryHandle Pin<TElement>(BroadcastScores<TElement>? scores, out TElement* pointer)
        where TElement : unmanaged
    {
        if (scores is null)
        {
            pointer = null;
            return default;
        }

        if (scores.Tensor is not null)
        {
            pointer = CpuTensor<TElement>.PointerOf(scores.Tensor);
            return default;
        }

        var handle = scores.Memory.Pin();
        pointer = (TElement*)handle.Pointer;
        return handle;
    }
}
