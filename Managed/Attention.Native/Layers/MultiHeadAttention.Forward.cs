using System.Runtime.CompilerServices;

namespace Attention.Native.Layers;

/// <summary>The full (non-incremental) forward passes: self- and cross-attention, on tensors and on spans.</summary>
public sealed partial class MultiHeadAttention<T>
{
    /// <summary>Self-attention: queries, keys and values all projected from <paramref name="query"/> (one packed GEMM).</summary>
    /// <param name="batch">Number of sequences B.</param>
    /// <param name="query">The input, <c>[B, L, E]</c>.</param>
    /// <param name="output">The result, <c>[B, L, E]</c>.</param>
    /// <param name="masks">Masks (true = attend); null for none.</param>
    /// <param name="weights">Optional attention weights: <c>[B, L, L]</c> averaged over heads or <c>[B, H, L, L]</c> per head.</param>
    /// <param name="weightsMode">Whether <paramref name="weights"/> is averaged over heads (PyTorch's default) or per head.</param>
    /// <exception cref="ArgumentNullException">A required tensor is null.</exception>
    /// <exception cref="ArgumentException">A tensor's length does not fit the layer and <paramref name="batch"/>, a mask's
    /// shape is wrong, a tensor belongs to another backend, the output is an input, or the layer's <c>kdim</c>/<c>vdim</c>
    /// differ from E (the message names the parameter). Nothing is written then.</exception>
    /// <exception cref="ObjectDisposedException">The layer or a tensor was disposed.</exception>
    /// <exception cref="InvalidOperationException">Another call is running on this layer (it serves one call at a time).</exception>
    // With nulls for the optional arguments (Forward(b, q, o, null, null)) the cross overload would fit too, with the
    // output as its key and a null value: self-attention is what such a call means.
    [OverloadResolutionPriority(1)]
    public void Forward(
        int batch, AttentionTensor<T> query, AttentionTensor<T> output, LayerMasks? masks = null,
        AttentionTensor<float>? weights = null, AttentionWeightsMode weightsMode = AttentionWeightsMode.AveragedOverHeads) =>
        Run(batch, query, null, null, output, masks, weights, weightsMode);

    /// <summary>Cross-attention (or self-attention with separate inputs): <c>Lq ≠ Lk</c> allowed.</summary>
    /// <param name="batch">Number of sequences B.</param>
    /// <param name="query">Queries, <c>[B, Lq, E]</c>.</param>
    /// <param name="key">Keys, <c>[B, Lk, KeyInputDim]</c>.</param>
    /// <param name="value">Values, <c>[B, Lk, ValueInputDim]</c>.</param>
    /// <param name="output">The result, <c>[B, Lq, E]</c>.</param>
    /// <param name="masks">Masks (true = attend); null for none.</param>
    /// <param name="weights">Optional attention weights: <c>[B, Lq, Lk]</c> averaged or <c>[B, H, Lq, Lk]</c> per head.</param>
    /// <param name="weightsMode">Whether <paramref name="weights"/> is averaged over heads or per head.</param>
    /// <exception cref="ArgumentNullException">A required tensor is null.</exception>
    /// <exception cref="ArgumentException">A tensor's length does not fit the layer and <paramref name="batch"/> (for
    /// example a key of another batch size or feature size), keys and values differ in length, a mask's shape is
    /// wrong, a tensor belongs to another backend, or the output is an input (the message names the parameter).
    /// Nothing is written then.</exception>
    /// <exception cref="ObjectDisposedException">The layer or a tensor was disposed.</exception>
    /// <exception cref="InvalidOperationException">Another call is running on this layer (it serves one call at a time).</exception>
    public void Forward(
        int batch, AttentionTensor<T> query, AttentionTensor<T> key, AttentionTensor<T> value,
        AttentionTensor<T> output, LayerMasks? masks = null, AttentionTensor<float>? weights = null,
        AttentionWeightsMode weightsMode = AttentionWeightsMode.AveragedOverHeads)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(value);
        Run(batch, query, key, value, output, masks, weights, weightsMode);
    }

    /// <summary>Cross-attention on host memory: the inputs are copied into backend tensors and the results out.</summary>
    /// <param name="batch">Number of sequences B.</param>
    /// <param name="query">Queries, <c>[B, Lq, E]</c>.</param>
    /// <param name="key">Keys, <c>[B, Lk, KeyInputDim]</c>.</param>
    /// <param name="value">Values, <c>[B, Lk, ValueInputDim]</c>.</param>
    /// <param name="output">The result, <c>[B, Lq, E]</c>.</param>
    /// <param name="masks">Masks (true = attend); null for none.</param>
    /// <param name="weights">Optional attention weights (empty when not wanted).</param>
    /// <param name="weightsMode">Whether <paramref name="weights"/> is averaged over heads or per head.</param>
    /// <exception cref="ArgumentException">As for the tensor overload.</exception>
    /// <exception cref="ObjectDisposedException">The layer was disposed.</exception>
    /// <exception cref="InvalidOperationException">Another call is running on this layer (it serves one call at a time).</exception>
    public void Forward(
        int batch, ReadOnlySpan<T> query, ReadOnlySpan<T> key, ReadOnlySpan<T> value, Span<T> output,
        LayerMasks? masks = null, Span<float> weights = default, AttentionWeightsMode weightsMode = AttentionWeightsMode.AveragedOverHeads)
    {
        ThrowIfDisposed();
        using var q = UploadInput(query, nameof(query));
        using var k = UploadInput(key, nameof(key));
        using var v = UploadInput(value, nameof(value));
        RunOnSpans(batch, q, k, v, output, masks, weights, weightsMode);
    }

    /// <summary>Self-attention on host memory.</summary>
    /// <param name="batch">Number of sequences B.</param>
    /// <param name="query">The input, <c>[B, L, E]</c>.</param>
    /// <param name="output">The result, <c>[B, L, E]</c>.</param>
    /// <param name="masks">Masks (true = attend); null for none.</param>
    /// <param name="weights">Optional attention weights (empty when not wanted).</param>
    /// <param name="weightsMode">Whether <paramref name="weights"/> is averaged over heads or per head.</param>
    /// <exception cref="ArgumentException">As for the tensor overload.</exception>
    /// <exception cref="ObjectDisposedException">The layer was disposed.</exception>
    /// <exception cref="InvalidOperationException">Another call is running on this layer (it serves one call at a time).</exception>
    [OverloadResolutionPriority(1)]
    public void Forward(
        int batch, ReadOnlySpan<T> query, Span<T> output, LayerMasks? masks = null, Span<float> weights = default,
        AttentionWeightsMode weightsMode = AttentionWeightsMode.AveragedOverHeads)
    {
        ThrowIfDisposed();
        using var q = UploadInput(query, nameof(query));
        RunOnSpans(batch, q, null, null, output, masks, weights, weightsMode);
    }

    private void RunOnSpans(
        int batch, AttentionTensor<T> query, AttentionTensor<T>? key, AttentionTensor<T>? value, Span<T> output,
        LayerMasks? masks, Span<float> weights, AttentionWeightsMode weightsMode)
    {
        if (output.IsEmpty)
        {
            throw new ArgumentException("output must not be empty.", nameof(output));
        }

        using var o = Backend.Allocate<T>(output.Length);
        using var w = weights.IsEmpty ? null : Backend.Allocate<float>(weights.Length);
        Run(batch, query, key, value, o, masks, w, weightsMode);
        o.CopyTo(output);
        w?.CopyTo(weights);
    }

    private AttentionTensor<T> UploadInput(ReadOnlySpan<T> data, string name) =>
        data.IsEmpty ? throw new ArgumentException($"{name} must not be empty.", name) : Backend.Upload(data);

    private void Run(
        int batch, AttentionTensor<T> query, AttentionTensor<T>? key, AttentionTensor<T>? value,
        AttentionTensor<T> output, LayerMasks? masks, AttentionTensor<float>? weights, AttentionWeightsMode weightsMode)
    {
        ThrowIfDisposed();
        using var call = guard.Enter();
        var d = dims;
        int lq = SequenceLength(query, batch, d.ModelDim, nameof(query));
        bool packed = key is null;
        int lk = lq;
        if (packed)
        {
            if (!d.CanPack)
            {
                throw new ArgumentException(
                    $"Self-attention projects keys and values from the query, but this layer's kdim ({d.KeyInputDim}) or vdim ({d.ValueInputDim}) differs from E ({d.ModelDim}): pass key and value.",
                    nameof(key));
            }
        }
        else
        {
            lk = SequenceLength(key!, batch, d.KeyInputDim, nameof(key));
            int lv = SequenceLength(value!, batch, d.ValueInputDim, nameof(value));
            if (lv != lk)
            {
                throw new ArgumentException($"value holds {lv} positions per sequence but key holds {lk}; they must match.", nameof(value));
            }
        }

        RequireOutput(output, batch, lq, query, key, value);
        var options = LayerMaskResolver.Resolve(masks, batch, d.Heads, lq, lk, d.Scale);
        RequireWeights(weights, weightsMode, batch, lq, lk, output, query, key, value);

        int rowsQ = batch * lq, rowsK = batch * lk;
        var shape = new AttentionShape(batch, d.Heads, d.KeyValueHeads, lq, lk, d.KeyDim, d.ValueDim);
        LayerOperand<T> q, k, v;
        if (packed)
        {
            // One GEMM for Q, K and V; the attention reads them in place as [B, L, H, D] views of the [B·L, Q|K|V] rows.
            var proj = scratch.Get<T>(LayerScratch.Projections, (long)rowsQ * d.PackedRows);
            engine.Linear(query, d.ModelDim, rowsQ, packedProjection!, InBias(0), proj, d.PackedRows);
            q = proj;
            k = new(proj, d.QueryRows);
            v = new(proj, d.QueryRows + d.KeyRows);
            options = options with
            {
                QueryStrides = Rows(lq, d.PackedRows, d.KeyDim),
                KeyStrides = Rows(lk, d.PackedRows, d.KeyDim),
                ValueStrides = Rows(lk, d.PackedRows, d.ValueDim),
            };
        }
        else
        {
            long qLength = (long)rowsQ * d.QueryRows, kLength = (long)rowsK * d.KeyRows;
            var proj = scratch.Get<T>(LayerScratch.Projections, qLength + kLength + ((long)rowsK * d.ValueRows));
            q = proj;
            k = new(proj, qLength);
            v = new(proj, qLength + kLength);
            engine.Linear(query, d.ModelDim, rowsQ, queryProjection, InBias(0), q, d.QueryRows);
            engine.Linear(key!, d.KeyInputDim, rowsK, keyProjection, InBias(d.QueryRows), k, d.KeyRows);
            engine.Linear(value!, d.ValueInputDim, rowsK, valueProjection, InBias(d.QueryRows + d.KeyRows), v, d.ValueRows);
            options = options with
            {
                QueryStrides = Rows(lq, d.QueryRows, d.KeyDim),
                KeyStrides = Rows(lk, d.KeyRows, d.KeyDim),
                ValueStrides = Rows(lk, d.ValueRows, d.ValueDim),
            };
        }

        AttendAndProject(shape, options, q, k, v, output, weights, weightsMode);
    }

    /// <summary>Attention into the context buffer <c>[B, Lq, H·Dv]</c>, the output projection, and the weights if wanted.</summary>
    private void AttendAndProject(
        AttentionShape shape, AttentionOptions options, LayerOperand<T> q, LayerOperand<T> k, LayerOperand<T> v,
        AttentionTensor<T> output, AttentionTensor<float>? weights, AttentionWeightsMode weightsMode) =>
        AttendAndProject(shape, options, output, weights, weightsMode,
            (contextOptions, context, probabilities) => engine.Attention(shape, contextOptions, q, k, v, context, probabilities));

    /// <summary>The options an attention call into the context buffer takes: its rows, and the layer's sinks.</summary>
    private AttentionOptions ContextOptions(AttentionShape shape, AttentionOptions options) =>
        options with { OutputStrides = Rows(shape.QueryLength, dims.ContextWidth, dims.ValueDim), Sinks = sinks };

    /// <summary>
    /// <paramref name="attention"/> into the context buffer <c>[B, Lq, H·Dv]</c> (given the options with the context's
    /// output strides), the output projection, and the weights if wanted.
    /// </summary>
    private void AttendAndProject(
        AttentionShape shape, AttentionOptions options, AttentionTensor<T> output, AttentionTensor<float>? weights,
        AttentionWeightsMode weightsMode, Action<AttentionOptions, LayerOperand<T>, LayerOperand<float>?> attention)
    {
        var d = dims;
        int rowsQ = shape.Batch * shape.QueryLength;
        var context = scratch.Get<T>(LayerScratch.Context, (long)rowsQ * d.ContextWidth);
        LayerOperand<float>? probabilities = weights is null ? (LayerOperand<float>?)null
            : weightsMode == AttentionWeightsMode.PerHead ? new LayerOperand<float>(weights, 0)
            : new LayerOperand<float>(scratch.Get<float>(LayerScratch.Probabilities, shape.ProbabilitiesElementCount), 0);
        attention(ContextOptions(shape, options), context, probabilities);
        ProjectContext(context, rowsQ, output);
        if (weights is not null && weightsMode == AttentionWeightsMode.AveragedOverHeads)
        {
            HeadAverage.Write(probabilities!.Value.Tensor, weights, shape);
        }
    }

    /// <summary>The output projection of <paramref name="rows"/> rows of the context buffer into <paramref name="output"/>.</summary>
    private void ProjectContext(AttentionTensor<T> context, int rows, AttentionTensor<T> output) =>
        engine.Linear(context, dims.ContextWidth, rows, outProjection, outBias is null ? (LayerOperand<T>?)null : new LayerOperand<T>(outBias, 0), output, dims.ModelDim);

    /// <summary>Strides of a <c>[B, L, H, D]</c> view into rows of <paramref name="rowWidth"/> elements.</summary>
    private static TensorStrides Rows(int length, int rowWidth, int headDim) => new((long)length * rowWidth, headDim, rowWidth);

    private LayerOperand<T>? InBias(long offset) => inBias is null ? (LayerOperand<T>?)null : new LayerOperand<T>(inBias, offset);

    /// <summary>L for a <c>[batch, L, features]</c> tensor, checking it is one of this layer's backend.</summary>
    private int SequenceLength(AttentionTensor<T> tensor, int batch, int features, string name)
    {
        ArgumentNullException.ThrowIfNull(tensor, name);
        ThrowIfForeign(tensor, name);
        ArgumentOutOfRangeException.ThrowIfLessThan(batch, 1);
        long perBatch = (long)batch * features;
        if (tensor.Length % perBatch != 0 || tensor.Length / perBatch > int.MaxValue)
        {
            throw new ArgumentException(
                $"{name} holds {tensor.Length} elements, which is not [B={batch}, L, {features}]: check its batch size and feature size ({features}).",
                name);
        }

        return (int)(tensor.Length / perBatch);
    }

    private void RequireOutput(AttentionTensor<T> output, int batch, int queryLength, params AttentionTensor<T>?[] inputs)
    {
        ArgumentNullException.ThrowIfNull(output);
        ThrowIfForeign(output, nameof(output));
        long expected = (long)batch * queryLength * dims.ModelDim;
        if (output.Length != expected)
        {
            throw new ArgumentException($"output holds {output.Length} elements; expected [B={batch}, Lq={queryLength}, E={dims.ModelDim}] = {expected}.", nameof(output));
        }

        if (Array.Exists(inputs, input => ReferenceEquals(input, output)))
        {
            throw new ArgumentException("output must not also be an input.", nameof(output));
        }
    }

    private void RequireWeights(
        AttentionTensor<float>? weights, AttentionWeightsMode mode, int batch, int queryLength, int keyLength,
        params AttentionTensor<T>?[] others)
    {
        if (weights is null)
        {
            return;
        }

        ThrowIfForeign(weights, nameof(weights));
        if (mode is not (AttentionWeightsMode.AveragedOverHeads or AttentionWeightsMode.PerHead))
        {
            throw new ArgumentOutOfRangeException("weightsMode", mode, "Unknown AttentionWeightsMode.");
        }

        int heads = mode == AttentionWeightsMode.PerHead ? dims.Heads : 1;
        long expected = (long)batch * heads * queryLength * keyLength;
        if (weights.Length != expected)
        {
            string shape = mode == AttentionWeightsMode.PerHead ? $"[B={batch}, H={heads}, Lq={queryLength}, Lk={keyLength}]" : $"[B={batch}, Lq={queryLength}, Lk={keyLength}]";
            throw new ArgumentException($"weights holds {weights.Length} elements; expected {shape} = {expected}.", nameof(weights));
        }

        if (Array.Exists(others, other => ReferenceEquals(other, weights)))
        {
            throw new ArgumentException("weights must not also be another operand.", nameof(weights));
        }
    }

    private void ThrowIfForeign<TElement>(AttentionTensor<TElement> tensor, string name)
        where TElement : unmanaged
    {
        ObjectDisposedException.ThrowIf(tensor.IsDisposed, tensor);
        if (!ReferenceEquals(tensor.Backend, Backend))
        {
            throw new ArgumentException($"{name} belongs to another backend than the layer's.", name);
        }
    }
}
