using Attention.Native.Validation;

namespace Attention.Native.Layers;

/// <summary>
/// Additive (Bahdanau) attention: <c>score(q_i, k_j) = vᵀ·tanh(W₁·q_i + W₂·k_j)</c>, softmax over the keys, and
/// <c>o_i = Σ_j p_ij·value_j</c> (values are not projected). Keras' <c>AdditiveAttention(use_scale=True)</c> is the
/// special case <c>W₁ = W₂ = I</c> (Units = the feature size) with <c>v</c> its <c>scale</c> vector.
/// </summary>
/// <remarks>
/// Inputs are batch-first float tensors of the layer's backend: query <c>[B, Tq, QueryDim]</c>, key
/// <c>[B, Tk, KeyDim]</c>, value <c>[B, Tk, ValueDim]</c>, output <c>[B, Tq, ValueDim]</c>. Masks: key padding, key
/// lengths, causal, boolean <c>[Tq, Tk]</c> / <c>[B, Tq, Tk]</c> masks (true = attend) and additive biases. Rows
/// that see no key output 0. Weights start at zero. A layer serves one call at a time: a call that enters while
/// another runs throws <see cref="InvalidOperationException"/>. Use one layer per thread.
/// </remarks>
public sealed partial class AdditiveAttention : IDisposable
{
    private readonly LayerEngine<float> engine;
    private readonly AttentionTensor<float> queryWeight;
    private readonly AttentionTensor<float> keyWeight;
    private readonly AttentionTensor<float> scoreVector;
    private readonly LayerScratch scratch;

    // W₁ and W₂ as the projections' weights, each kept packed by the CPU engine between calls.
    private readonly ProjectionWeight<float> queryProjection, keyProjection;
    private readonly SingleCallGuard guard = new("AdditiveAttention");
    private bool disposed;

    /// <summary>Creates the layer with zero weights on <paramref name="backend"/>.</summary>
    /// <param name="backend">The backend that owns the weights and runs the layer.</param>
    /// <param name="options">The sizes.</param>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A size is below 1.</exception>
    public AdditiveAttention(AttentionBackend backend, AdditiveAttentionOptions options)
    {
        ArgumentNullException.ThrowIfNull(backend);
        ArgumentNullException.ThrowIfNull(options);
        foreach (var (value, name) in new[] { (options.QueryDim, "QueryDim"), (options.KeyDim, "KeyDim"), (options.Units, "Units"), (options.ValueDim ?? 1, "ValueDim") })
        {
            if (value < 1)
            {
                throw new ArgumentOutOfRangeException(nameof(options), value, $"options.{name} must be at least 1.");
            }
        }

        Backend = backend;
        Options = options;
        engine = LayerEngine<float>.For(backend, allowTensorFloat32: false);
        queryWeight = backend.Allocate<float>((long)options.Units * options.QueryDim);
        keyWeight = backend.Allocate<float>((long)options.Units * options.KeyDim);
        queryProjection = new(queryWeight, 0, options.Units, options.QueryDim);
        keyProjection = new(keyWeight, 0, options.Units, options.KeyDim);
        scoreVector = backend.Allocate<float>(options.Units);
        scratch = new LayerScratch(backend);
    }

    /// <summary>The backend the layer runs on.</summary>
    public AttentionBackend Backend { get; }

    /// <summary>The layer's sizes.</summary>
    public AdditiveAttentionOptions Options { get; }

    private int ValueDim => Options.ValueDim ?? Options.KeyDim;

    /// <summary>Loads the weights (PyTorch <c>Linear</c> layout: <c>[out, in]</c>, no biases).</summary>
    /// <param name="queryWeight">W₁, <c>[Units, QueryDim]</c>.</param>
    /// <param name="keyWeight">W₂, <c>[Units, KeyDim]</c>.</param>
    /// <param name="scoreVector">v, <c>[Units]</c>.</param>
    /// <exception cref="ArgumentException">A span has the wrong length (named); nothing is loaded then.</exception>
    /// <exception cref="ObjectDisposedException">The layer was disposed.</exception>
    /// <exception cref="InvalidOperationException">Another call is running on this layer (it serves one call at a time).</exception>
    public void LoadWeights(ReadOnlySpan<float> queryWeight, ReadOnlySpan<float> keyWeight, ReadOnlySpan<float> scoreVector)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        using var call = guard.Enter();
        Require(queryWeight, this.queryWeight.Length, nameof(queryWeight), $"[Units={Options.Units}, QueryDim={Options.QueryDim}]");
        Require(keyWeight, this.keyWeight.Length, nameof(keyWeight), $"[Units={Options.Units}, KeyDim={Options.KeyDim}]");
        Require(scoreVector, this.scoreVector.Length, nameof(scoreVector), $"[Units={Options.Units}]");
        this.queryWeight.CopyFrom(queryWeight);
        this.keyWeight.CopyFrom(keyWeight);
        queryProjection.Changed();
        keyProjection.Changed();
        this.scoreVector.CopyFrom(scoreVector);
    }

    /// <summary>Reads the weights back: W₁, W₂ and v in the layout of <see cref="LoadWeights"/>.</summary>
    /// <returns>Copies of the three.</returns>
    /// <exception cref="ObjectDisposedException">The layer was disposed.</exception>
    /// <exception cref="InvalidOperationException">Another call is running on this layer (it serves one call at a time).</exception>
    public (float[] QueryWeight, float[] KeyWeight, float[] ScoreVector) ReadWeights()
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        using var call = guard.Enter();
        return (queryWeight.ToArray(), keyWeight.ToArray(), scoreVector.ToArray());
    }

    /// <summary>Computes the attention on tensors of the layer's backend.</summary>
    /// <param name="batch">Number of sequences B.</param>
    /// <param name="query">Queries, <c>[B, Tq, QueryDim]</c>.</param>
    /// <param name="key">Keys, <c>[B, Tk, KeyDim]</c>.</param>
    /// <param name="value">Values, <c>[B, Tk, ValueDim]</c>.</param>
    /// <param name="output">The result, <c>[B, Tq, ValueDim]</c>.</param>
    /// <param name="masks">Masks (true = attend; per-head masks do not apply); null for none.</param>
    /// <param name="weights">Optional attention weights, <c>[B, Tq, Tk]</c>.</param>
    /// <exception cref="ArgumentNullException">A required tensor is null.</exception>
    /// <exception cref="ArgumentException">A tensor's length does not fit <paramref name="batch"/> and the sizes, a mask's shape
    /// is wrong, or a tensor belongs to another backend (named). Nothing is written then.</exception>
    /// <exception cref="ObjectDisposedException">The layer or a tensor was disposed.</exception>
    /// <exception cref="InvalidOperationException">Another call is running on this layer (it serves one call at a time).</exception>
    public void Forward(
        int batch, AttentionTensor<float> query, AttentionTensor<float> key, AttentionTensor<float> value,
        AttentionTensor<float> output, LayerMasks? masks = null, AttentionTensor<float>? weights = null)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        using var call = guard.Enter();
        Run(batch, query, key, value, output, masks, weights);
    }

    /// <summary>Computes the attention on host memory (copied in and out).</summary>
    /// <param name="batch">Number of sequences B.</param>
    /// <param name="query">Queries, <c>[B, Tq, QueryDim]</c>.</param>
    /// <param name="key">Keys, <c>[B, Tk, KeyDim]</c>.</param>
    /// <param name="value">Values, <c>[B, Tk, ValueDim]</c>.</param>
    /// <param name="output">The result, <c>[B, Tq, ValueDim]</c>.</param>
    /// <param name="masks">Masks; null for none.</param>
    /// <param name="weights">Optional attention weights, <c>[B, Tq, Tk]</c>; empty when not wanted.</param>
    /// <exception cref="ArgumentException">As for the tensor overload, or an input is empty.</exception>
    /// <exception cref="ObjectDisposedException">The layer was disposed.</exception>
    /// <exception cref="InvalidOperationException">Another call is running on this layer (it serves one call at a time).</exception>
    public void Forward(
        int batch, ReadOnlySpan<float> query, ReadOnlySpan<float> key, ReadOnlySpan<float> value, Span<float> output,
        LayerMasks? masks = null, Span<float> weights = default)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        using var call = guard.Enter();
        using var q = Upload(query, nameof(query));
        using var k = Upload(key, nameof(key));
        using var v = Upload(value, nameof(value));
        using var o = Upload(output, nameof(output));
        using var w = weights.IsEmpty ? null : Backend.Allocate<float>(weights.Length);
        Run(batch, q, k, v, o, masks, w);
        o.CopyTo(output);
        w?.CopyTo(weights);
    }

    /// <summary>Frees the weights and scratch memory.</summary>
    public void Dispose()
    {
        if (!disposed)
        {
            disposed = true;
            engine.Synchronize();
            queryWeight.Dispose();
            keyWeight.Dispose();
            queryProjection.Dispose();
            keyProjection.Dispose();
            scoreVector.Dispose();
            scratch.Dispose();
            engine.Dispose();
        }
    }

    /// <summary>The forward pass on tensors, inside a call.</summary>
    private void Run(
        int batch, AttentionTensor<float> query, AttentionTensor<float> key, AttentionTensor<float> value,
        AttentionTensor<float> output, LayerMasks? masks, AttentionTensor<float>? weights)
    {
        int tq = Length(query, batch, Options.QueryDim, nameof(query));
        int tk = Length(key, batch, Options.KeyDim, nameof(key));
        if (Length(value, batch, ValueDim, nameof(value)) != tk)
        {
            throw new ArgumentException($"value must hold as many positions per sequence as key ({tk}).", nameof(value));
        }

        if (Length(output, batch, ValueDim, nameof(output)) != tq || ReferenceEquals(output, query) || ReferenceEquals(output, key) || ReferenceEquals(output, value))
        {
            throw new ArgumentException($"output must be a separate [B={batch}, Tq={tq}, ValueDim={ValueDim}] tensor.", nameof(output));
        }

        if (weights is not null && (Length(weights, batch, tk, nameof(weights)) != tq || ReferenceEquals(weights, output)
            || ReferenceEquals(weights, query) || ReferenceEquals(weights, key) || ReferenceEquals(weights, value)))
        {
            throw new ArgumentException($"weights must be a separate [B={batch}, Tq={tq}, Tk={tk}] tensor.", nameof(weights));
        }

        int units = Options.Units;
        var problem = Problem(batch, tq, tk, masks);
        long queryRows = (long)batch * tq * units;
        var projections = scratch.Get<float>(LayerScratch.Projections, queryRows + ((long)batch * tk * units));
        engine.Linear(query, Options.QueryDim, batch * tq, queryProjection, null, projections, units);
        engine.Linear(key, Options.KeyDim, batch * tk, keyProjection, null, new(projections, queryRows), units);
        engine.Additive(
            problem, projections, new(projections, queryRows),
            scoreVector, value, output, weights is null ? (LayerOperand<float>?)null : new LayerOperand<float>(weights, 0));
    }

    /// <summary>The validated problem of a call after its projections (the masks resolved for one head).</summary>
    private AdditiveAttentionProblem Problem(int batch, int queryLength, int keyLength, LayerMasks? masks)
    {
        var options = LayerMaskResolver.Resolve(masks, batch, 1, queryLength, keyLength, 1f) with { Layout = AttentionLayout.Bshd };
        var shape = new AttentionShape(batch, 1, 1, queryLength, keyLength, Options.Units, ValueDim);
        var resolved = AttentionValidator.Validate(shape, options, new(
            shape.QueryElementCount, shape.KeyElementCount, shape.ValueElementCount, shape.OutputElementCount, -1, -1));
        return new AdditiveAttentionProblem(batch, queryLength, keyLength, Options.Units, ValueDim, resolved);
    }

    private AttentionTensor<float> Upload(ReadOnlySpan<float> data, string name) =>
        data.IsEmpty ? throw new ArgumentException($"{name} must not be empty.", name) : Backend.Upload(data);

    private int Length(AttentionTensor<float> tensor, int batch, int features, string name)
    {
        ArgumentNullException.ThrowIfNull(tensor, name);
        ObjectDisposedException.ThrowIf(tensor.IsDisposed, tensor);
        ArgumentOutOfRangeException.ThrowIfLessThan(batch, 1);
        if (!ReferenceEquals(tensor.Backend, Backend))
        {
            throw new ArgumentException($"{name} belongs to another backend than the layer's.", name);
        }

        long perBatch = (long)batch * features;
        if (tensor.Length % perBatch != 0 || tensor.Length / perBatch > int.MaxValue)
        {
            throw new ArgumentException($"{name} holds {tensor.Length} elements, which is not [B={batch}, T, {features}].", name);
        }

        return (int)(tensor.Length / perBatch);
    }

    private static void Require(ReadOnlySpan<float> span, long expected, string name, string shape)
    {
        if (span.Length != expected)
        {
            throw new ArgumentException($"{name} has {span.Length} elements; expected {shape} = {expected}.", name);
        }
    }
}
