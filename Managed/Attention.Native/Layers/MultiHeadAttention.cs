namespace Attention.Native.Layers;

/// <summary>
/// A multi-head attention layer (PyTorch <c>nn.MultiheadAttention</c> with <c>batch_first=True</c>, Keras
/// <c>MultiHeadAttention</c>) on a backend: Q/K/V projections, the backend's fused attention between them (on the
/// projections' <c>[B, L, H, D]</c> buffers through strides, so nothing is transposed), and the output projection.
/// Supports grouped-query attention, <c>kdim</c>/<c>vdim</c> ≠ E, masks, attention weights and a
/// <see cref="KeyValueCache{T}"/> for incremental decoding. Inference only (no dropout).
/// </summary>
/// <typeparam name="T">The element type of the weights, inputs, projections and outputs: <see cref="float"/>,
/// <see cref="Half"/> or <see cref="BFloat16"/> (PyTorch's <c>layer.half()</c> / <c>.bfloat16()</c>). Every product is
/// accumulated in float; Half and BFloat16 layers round each projection's result and the attention's output to
/// <typeparamref name="T"/> (on a GPU: cuBLAS with fp32 accumulation and the mma attention kernel). Attention
/// weights are float in every case.</typeparam>
/// <remarks>
/// Weights start at zero: load them with <see cref="LoadPyTorchWeights(ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float})"/>
/// or <see cref="LoadKerasWeights"/> (from float, rounded to <typeparamref name="T"/>). Inputs and outputs are
/// batch-first tensors of the layer's backend: query <c>[B, Lq, E]</c>, key <c>[B, Lk, KeyInputDim]</c>, value
/// <c>[B, Lk, ValueInputDim]</c>, output <c>[B, Lq, E]</c>. A layer keeps scratch buffers between calls and serves
/// one call at a time: a call that enters while another runs on the same layer (or with the same
/// <see cref="KeyValueCache{T}"/>) throws <see cref="InvalidOperationException"/>. Use one layer per thread.
/// </remarks>
public sealed partial class MultiHeadAttention<T> : IDisposable
    where T : unmanaged
{
    private readonly LayerDims dims;
    private readonly LayerEngine<T> engine;
    private readonly AttentionTensor<T> inWeight;
    private readonly AttentionTensor<T>? inBias;
    private readonly AttentionTensor<T> outWeight;
    private readonly AttentionTensor<T>? outBias;
    private readonly LayerScratch scratch;

    // The projections' weights inside inWeight and outWeight, each kept packed by the CPU engine between calls.
    private readonly ProjectionWeight<T>? packedProjection;
    private readonly ProjectionWeight<T> queryProjection, keyProjection, valueProjection, outProjection;
    private readonly SingleCallGuard guard = new("MultiHeadAttention");
    private bool disposed;

    /// <summary>Creates a layer with zero weights on <paramref name="backend"/>.</summary>
    /// <param name="backend">The backend that owns the weights and runs the layer.</param>
    /// <param name="options">The layer's sizes.</param>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException">A size is invalid: <c>ModelDim</c> not divisible by <c>NumHeads</c> without a
    /// <c>KeyDim</c>, <c>NumHeads</c> not a multiple of <c>NumKeyValueHeads</c> (the message names the option).</exception>
    /// <exception cref="NotSupportedException">The backend is of an unknown kind, or <typeparamref name="T"/> is not
    /// float, Half or BFloat16.</exception>
    public MultiHeadAttention(AttentionBackend backend, MultiHeadAttentionOptions options)
    {
        ArgumentNullException.ThrowIfNull(backend);
        ElementType.ThrowIfNotOperand<T>();
        dims = LayerDims.From(options);
        Backend = backend;
        Options = options;
        engine = LayerEngine<T>.For(backend, options.AllowTensorFloat32);
        inWeight = backend.Allocate<T>(dims.InProjectionLength);
        outWeight = backend.Allocate<T>(dims.OutProjectionLength);
        if (dims.UseBias)
        {
            inBias = backend.Allocate<T>(dims.PackedRows);
            outBias = backend.Allocate<T>(dims.ModelDim);
        }

        scratch = new LayerScratch(backend);
        packedProjection = dims.CanPack ? new(inWeight, 0, dims.PackedRows, dims.ModelDim) : null;
        queryProjection = new(inWeight, 0, dims.QueryRows, dims.ModelDim);
        keyProjection = new(inWeight, dims.KeyWeightOffset, dims.KeyRows, dims.KeyInputDim);
        valueProjection = new(inWeight, dims.ValueWeightOffset, dims.ValueRows, dims.ValueInputDim);
        outProjection = new(outWeight, 0, dims.ModelDim, dims.ContextWidth);
    }

    /// <summary>The backend the layer runs on.</summary>
    public AttentionBackend Backend { get; }

    /// <summary>The options the layer was created with.</summary>
    public MultiHeadAttentionOptions Options { get; }

    /// <summary>The model dimension E (query and output features).</summary>
    public int ModelDim => dims.ModelDim;

    /// <summary>Number of query heads.</summary>
    public int NumHeads => dims.Heads;

    /// <summary>Number of key/value heads.</summary>
    public int NumKeyValueHeads => dims.KeyValueHeads;

    /// <summary>Per-head size of queries and keys.</summary>
    public int KeyDim => dims.KeyDim;

    /// <summary>Per-head size of values.</summary>
    public int ValueDim => dims.ValueDim;

    /// <summary>Feature size of the key input (PyTorch <c>kdim</c>).</summary>
    public int KeyInputDim => dims.KeyInputDim;

    /// <summary>Feature size of the value input (PyTorch <c>vdim</c>).</summary>
    public int ValueInputDim => dims.ValueInputDim;

    /// <summary>The score scale in use (<c>1/√KeyDim</c> unless the options gave one).</summary>
    public float Scale => dims.Scale;

    /// <summary>Frees the weights and scratch buffers.</summary>
    public void Dispose()
    {
        if (disposed)
        {
            return;
        }

        disposed = true;
        engine.Synchronize();
        inWeight.Dispose();
        inBias?.Dispose();
        outWeight.Dispose();
        outBias?.Dispose();
        scratch.Dispose();
        foreach (var projection in Projections)
        {
            projection.Dispose();
        }

        engine.Dispose();
    }

    private IEnumerable<ProjectionWeight<T>> Projections =>
        packedProjection is null ? [queryProjection, keyProjection, valueProjection, outProjection]
        : [packedProjection, queryProjection, keyProjection, valueProjection, outProjection];

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(disposed, this);
}
