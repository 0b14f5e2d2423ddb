using Attention.Native.Cpu;
using Attention.Native.Cuda;
using Attention.Native.Validation;

namespace Attention.Native.Layers;

/// <summary>
/// The few operations the layers need from a backend besides attention: a linear projection with bias, fused
/// attention on views, a copy. One subclass per backend; the layers themselves are backend-neutral.
/// </summary>
/// <typeparam name="T">The layer's element type (float, Half or BFloat16): weights, inputs, projections, outputs.</typeparam>
internal abstract class LayerEngine<T> : IDisposable
    where T : unmanaged
{
    /// <summary>The engine for <paramref name="backend"/>.</summary>
    public static LayerEngine<T> For(AttentionBackend backend, bool allowTensorFloat32) => backend switch
    {
        CpuBackend cpu => new CpuLayerEngine<T>(cpu),
        CudaBackend cuda => new CudaLayerEngine<T>(cuda, allowTensorFloat32),
        _ => throw new NotSupportedException($"The layers do not support the backend {backend.GetType().Name}."),
    };

    /// <summary>
    /// The CPU variant of the layer's host-side work (weights rounded to <typeparamref name="T"/> as they are loaded, and
    /// widened as they are read back): the CPU backend's own variant; on a GPU backend the host's
    /// (<see cref="CpuKernelVariant.Auto"/>, resolved at each call).
    /// </summary>
    public virtual CpuKernelVariant HostVariant => CpuKernelVariant.Auto;

    /// <summary>
    /// <c>Y[r, :] = X[r, :]·Wᵀ + bias</c> for <paramref name="rows"/> rows: X is <c>[rows, inFeatures]</c> (row stride
    /// <paramref name="ldx"/>), W is <c>[outFeatures, inFeatures]</c> (PyTorch's Linear layout), Y has row stride
    /// <paramref name="ldy"/>. Accumulates in float whatever <typeparamref name="T"/> is.
    /// </summary>
    public abstract void Linear(
        LayerOperand<T> x, int ldx, int rows, int inFeatures, LayerOperand<T> weight, LayerOperand<T>? bias, int outFeatures,
        LayerOperand<T> y, int ldy);

    /// <summary>
    /// <see cref="Linear(LayerOperand{T}, int, int, int, LayerOperand{T}, LayerOperand{T}?, int, LayerOperand{T}, int)"/>
    /// with a layer's own weight, which the engine may keep in a form of its own between calls (the CPU's packed W).
    /// </summary>
    public virtual void Linear(
        LayerOperand<T> x, int ldx, int rows, ProjectionWeight<T> weight, LayerOperand<T>? bias, LayerOperand<T> y, int ldy) =>
        Linear(x, ldx, rows, weight.InFeatures, weight.Operand, bias, weight.OutFeatures, y, ldy);

    /// <summary>
    /// <see cref="Linear(LayerOperand{T}, int, int, int, LayerOperand{T}, LayerOperand{T}?, int, LayerOperand{T}, int)"/> on <paramref name="batches"/> equally spaced blocks of <paramref name="rows"/> rows: block
    /// <c>b</c> reads X from <c>b·batchStrideX</c> and writes Y from <c>b·batchStrideY</c> elements on (each sequence's
    /// new tokens into its own rows of a key/value cache). One call per block here; one strided-batched GEMM on a GPU.
    /// </summary>
    public virtual void LinearBatched(
        LayerOperand<T> x, int ldx, long batchStrideX, int rows, int batches, int inFeatures, LayerOperand<T> weight,
        LayerOperand<T>? bias, int outFeatures, LayerOperand<T> y, int ldy, long batchStrideY)
    {
        for (int b = 0; b < batches; b++)
        {
            Linear(x.At(b * batchStrideX), ldx, rows, inFeatures, weight, bias, outFeatures, y.At(b * batchStrideY), ldy);
        }
    }

    /// <summary>Fused attention on views; <paramref name="probabilities"/> (always float) is optional.</summary>
    public abstract void Attention(
        AttentionShape shape, AttentionOptions options, LayerOperand<T> query, LayerOperand<T> key, LayerOperand<T> value,
        LayerOperand<T> output, LayerOperand<float>? probabilities);

    /// <summary>
    /// Whether a <see cref="PagedKeyValueCache{T}"/> of <typeparamref name="T"/> pages on this backend keeps each page
    /// head-major (<see cref="PagedKeyValueLayout.HeadMajor"/>): the layout its paged kernels read fastest.
    /// </summary>
    public virtual bool HeadMajorPages => false;

    /// <summary>
    /// Row i of <paramref name="rows"/> (<paramref name="heads"/>·<paramref name="dim"/> elements, heads side by side,
    /// rows <paramref name="rowStride"/> apart) into pool position <c>positions[i]</c> (page·<paramref name="pageSize"/>
    /// + slot) of <paramref name="pool"/>, <c>[pages, pageSize, heads, dim]</c> or, head-major,
    /// <c>[pages, heads, pageSize, dim]</c>: a copy per row (per head and row head-major) here; a GPU engine does it in
    /// one launch.
    /// </summary>
    public virtual void AppendPoolRows(
        LayerOperand<T> rows, int rowStride, ReadOnlySpan<long> positions, AttentionTensor<T> pool, int heads, int dim,
        int pageSize, bool headMajor)
    {
        for (int i = 0; i < positions.Length; i++)
        {
            var row = rows.At((long)i * rowStride);
            long position = positions[i];
            if (!headMajor)
            {
                Copy(row, new(pool, position * heads * dim), (long)heads * dim);
                continue;
            }

            long page = position / pageSize, slot = position % pageSize;
            for (int h = 0; h < heads; h++)
            {
                Copy(row.At((long)h * dim), new(pool, ((((page * heads) + h) * pageSize) + slot) * dim), dim);
            }
        }
    }

    /// <summary>
    /// Attention whose K and V are read from <paramref name="keyPages"/> and <paramref name="valuePages"/> through
    /// <paramref name="pages"/> (a <see cref="PagedKeyValueCache{T}"/>'s pool of <typeparamref name="T"/> pages).
    /// </summary>
    public abstract void PagedAttention(
        AttentionShape shape, AttentionOptions options, LayerOperand<T> query, AttentionTensor<T> keyPages,
        AttentionTensor<T> valuePages, PagedKeyValueLayout pages, LayerOperand<T> output);

    /// <summary>
    /// Throws what <see cref="Attention"/> would throw for this shape and these options (the validator's rules, the
    /// backend's limits, a GPU's choice of kernel) without running anything: a decoding step checks before it writes
    /// to its cache, so that a rejected step leaves the cache as it was.
    /// </summary>
    public abstract void CheckAttention(AttentionShape shape, AttentionOptions options, bool wantsProbabilities);

    /// <summary>
    /// The problem of an attention call on the layer's own buffers. They are sized from the options' strides, so their
    /// lengths pass as "long enough": what can fail is the caller's options (masks, key lengths).
    /// </summary>
    protected static AttentionProblem Validate(AttentionShape shape, AttentionOptions options, bool wantsProbabilities) =>
        AttentionValidator.Validate(shape, options, new(
            long.MaxValue, long.MaxValue, long.MaxValue, long.MaxValue, -1, wantsProbabilities ? long.MaxValue : -1));

        /// <summary>Additive attention after the projections (<see cref="Cpu.Additive.AdditiveAttentionKernel{TOps, TVec}"/>'s semantics; float operands).</summary>
    public abstract void Additive(
        in AdditiveAttentionProblem problem, LayerOperand<float> queries, LayerOperand<float> keys,
        LayerOperand<float> scoreVector, LayerOperand<float> values, LayerOperand<float> output, LayerOperand<float>? probabilities);

    /// <summary>Copies <paramref name="count"/> elements between views of this backend.</summary>
    public abstract void Copy(LayerOperand<T> source, LayerOperand<T> destination, long count);

    /// <summary>Waits for queued work (GPU); a no-op on the CPU.</summary>
    public virtual void Synchronize()
    {
    }

    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    protected virtual void Dispose(bool disposing)
    {
    }
}
