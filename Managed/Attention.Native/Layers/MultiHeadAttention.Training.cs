using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Attention.Native.Layers;

/// <summary>
/// Training: a forward that keeps what the backward needs, and the backward (gradients out; the caller updates the
/// weights, e.g. with <see cref="LoadPyTorchWeights(ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float})"/>).
/// Both run in float whatever <typeparamref name="T"/> is (a Half or BFloat16 layer trains on its weights' values
/// widened): the projections and their gradients on the host with the library's SGEMM, the attention and its
/// backward (<see cref="AttentionBackend.ScaledDotProductAttentionBackward{T}(AttentionShape, ReadOnlySpan{T}, ReadOnlySpan{T}, ReadOnlySpan{T}, ReadOnlySpan{T}, ReadOnlySpan{float}, ReadOnlySpan{T}, Span{T}, Span{T}, Span{T}, AttentionOptions?, Span{float}, Span{float})"/>)
/// on the layer's backend.
/// </summary>
public sealed partial class MultiHeadAttention<T>
{
    /// <summary>Self-attention as <see cref="Forward(int, ReadOnlySpan{T}, Span{T}, LayerMasks?, Span{float}, AttentionWeightsMode)"/>
    /// computes it, keeping what <see cref="Backward"/> needs.</summary>
    /// <param name="batch">Number of sequences B.</param>
    /// <param name="query">The input, <c>[B, L, E]</c>.</param>
    /// <param name="output">The result, <c>[B, L, E]</c>.</param>
    /// <param name="masks">Masks (true = attend); null for none.</param>
    /// <returns>The activations to pass to <see cref="Backward"/>.</returns>
    /// <exception cref="ArgumentException">A span's length does not fit the layer and <paramref name="batch"/>, a mask's
    /// shape is wrong, or the layer's <c>kdim</c>/<c>vdim</c> differ from E (named). Nothing is written then.</exception>
    /// <exception cref="ObjectDisposedException">The layer was disposed.</exception>
    /// <exception cref="InvalidOperationException">Another call is running on this layer (it serves one call at a time).</exception>
    /// <exception cref="NotSupportedException">The backend cannot run an option of the masks (named).</exception>
    [OverloadResolutionPriority(1)]
    public MultiHeadAttentionActivations ForwardForTraining(int batch, ReadOnlySpan<T> query, Span<T> output, LayerMasks? masks = null) =>
        Train(batch, query, default, default, selfAttention: true, output, masks);

    /// <summary>Cross-attention as <see cref="Forward(int, ReadOnlySpan{T}, ReadOnlySpan{T}, ReadOnlySpan{T}, Span{T}, LayerMasks?, Span{float}, AttentionWeightsMode)"/>
    /// computes it, keeping what <see cref="Backward"/> needs.</summary>
    /// <param name="batch">Number of sequences B.</param>
    /// <param name="query">Queries, <c>[B, Lq, E]</c>.</param>
    /// <param name="key">Keys, <c>[B, Lk, KeyInputDim]</c>.</param>
    /// <param name="value">Values, <c>[B, Lk, ValueInputDim]</c>.</param>
    /// <param name="output">The result, <c>[B, Lq, E]</c>.</param>
    /// <param name="masks">Masks (true = attend); null for none.</param>
    /// <returns>The activations to pass to <see cref="Backward"/>.</returns>
    /// <exception cref="ArgumentException">A span's length does not fit the layer and <paramref name="batch"/>, keys and
    /// values differ in length, or a mask's shape is wrong (named). Nothing is written then.</exception>
    /// <exception cref="ObjectDisposedException">The layer was disposed.</exception>
    /// <exception cref="InvalidOperationException">Another call is running on this layer (it serves one call at a time).</exception>
    /// <exception cref="NotSupportedException">The backend cannot run an option of the masks (named).</exception>
    public MultiHeadAttentionActivations ForwardForTraining(
        int batch, ReadOnlySpan<T> query, ReadOnlySpan<T> key, ReadOnlySpan<T> value, Span<T> output, LayerMasks? masks = null) =>
        Train(batch, query, key, value, selfAttention: false, output, masks);

    /// <summary>
    /// The gradients of a loss with respect to the inputs, weights and biases of the call that made
    /// <paramref name="activations"/>, given the loss's gradient with respect to its output.
    /// </summary>
    /// <param name="activations">What <see cref="ForwardForTraining(int, ReadOnlySpan{T}, Span{T}, LayerMasks?)"/> returned (on this layer).</param>
    /// <param name="outputGrad">dOutput, <c>[B, Lq, E]</c>.</param>
    /// <returns>The gradients (new arrays); masked keys and rows that see no key get none.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="activations"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="activations"/> come from another layer, or
    /// <paramref name="outputGrad"/> has the wrong length (named).</exception>
    /// <exception cref="ObjectDisposedException">The layer was disposed.</exception>
    /// <exception cref="InvalidOperationException">Another call is running on this layer (it serves one call at a time).</exception>
    /// <exception cref="NotSupportedException">The backend has no attention backward for an option (named).</exception>
    public MultiHeadAttentionGradients Backward(MultiHeadAttentionActivations activations, ReadOnlySpan<T> outputGrad)
    {
        ThrowIfDisposed();
        ArgumentNullException.ThrowIfNull(activations);
        using var call = guard.Enter();
        if (!ReferenceEquals(activations.Layer, this))
        {
            throw new ArgumentException("activations come from another layer's ForwardForTraining.", nameof(activations));
        }

        var a = activations;

        var d = dims;
        var w = a.Weights;
        int rowsQ = a.Batch * a.QueryLength, rowsK = a.Batch * a.KeyLength;
        if (outputGrad.Length != (long)rowsQ * d.ModelDim)
        {
            throw new ArgumentException(
                $"outputGrad has {outputGrad.Length} elements; expected [B={a.Batch}, Lq={a.QueryLength}, E={d.ModelDim}] = {(long)rowsQ * d.ModelDim}.",
                nameof(outputGrad));
        }

        var host = HostLinear.For(Backend, engine.HostVariant);
        var dOut = Widened(outputGrad);
        var contextGrad = new float[a.Context.Length];
        var outWeightGrad = new float[w.OutProjWeight.Length];
        var outBiasGrad = new float[w.OutProjBias.Length];
        host.Backward(dOut, a.Context, rowsQ, d.ContextWidth, w.OutProjWeight, d.ModelDim, contextGrad, false, outWeightGrad, outBiasGrad);

        var queryProjectionGrad = new float[a.ProjectedQuery.Length];
        var keyProjectionGrad = new float[a.ProjectedKey.Length];
        var valueProjectionGrad = new float[a.ProjectedValue.Length];
        var sinksGrad = new float[a.Options.Sinks.Length];
        Backend.ScaledDotProductAttentionBackward<float>(
            a.Shape, a.ProjectedQuery, a.ProjectedKey, a.ProjectedValue, a.Context, a.LogSumExp, contextGrad, queryProjectionGrad,
            keyProjectionGrad, valueProjectionGrad, a.Options, sinksGrad: sinksGrad);

        var inBiasGrad = new float[w.InProjBias.Length];
        var queryGrad = new float[a.Query.Length];
        var keyGrad = a.IsSelfAttention ? queryGrad : new float[a.Key.Length];
        var valueGrad = a.IsSelfAttention ? queryGrad : new float[a.Value.Length];
        var qWeightGrad = new float[w.QProjWeight.Length];
        var kWeightGrad = new float[w.KProjWeight.Length];
        var vWeightGrad = new float[w.VProjWeight.Length];
        host.Backward(queryProjectionGrad, a.Query, rowsQ, d.ModelDim, w.QProjWeight, d.QueryRows, queryGrad, false, qWeightGrad, BiasSlice(inBiasGrad, 0, d.QueryRows));
        host.Backward(keyProjectionGrad, a.Key, rowsK, d.KeyInputDim, w.KProjWeight, d.KeyRows, keyGrad, a.IsSelfAttention, kWeightGrad, BiasSlice(inBiasGrad, d.QueryRows, d.KeyRows));
        host.Backward(valueProjectionGrad, a.Value, rowsK, d.ValueInputDim, w.VProjWeight, d.ValueRows, valueGrad, a.IsSelfAttention, vWeightGrad, BiasSlice(inBiasGrad, d.QueryRows + d.KeyRows, d.ValueRows));
        var pyTorch = new PyTorchAttentionWeights(qWeightGrad, kWeightGrad, vWeightGrad, inBiasGrad, outWeightGrad, outBiasGrad);
        return new MultiHeadAttentionGradients(
            queryGrad, a.IsSelfAttention ? [] : keyGrad, a.IsSelfAttention ? [] : valueGrad, pyTorch, KerasLayout(pyTorch))
        {
            SinksGrad = sinksGrad,
        };
    }

    private MultiHeadAttentionActivations Train(
        int batch, ReadOnlySpan<T> query, ReadOnlySpan<T> key, ReadOnlySpan<T> value, bool selfAttention, Span<T> output, LayerMasks? masks)
    {
        ThrowIfDisposed();
        using var call = guard.Enter();
        var d = dims;
        ArgumentOutOfRangeException.ThrowIfLessThan(batch, 1);
        int lq = Positions(query.Length, batch, d.ModelDim, nameof(query)), lk = lq;
        if (selfAttention && !d.CanPack)
        {
            throw new ArgumentException(
                $"Self-attention projects keys and values from the query, but this layer's kdim ({d.KeyInputDim}) or vdim ({d.ValueInputDim}) differs from E ({d.ModelDim}): pass key and value.",
                nameof(key));
        }

        if (!selfAttention)
        {
            lk = Positions(key.Length, batch, d.KeyInputDim, nameof(key));
            if (Positions(value.Length, batch, d.ValueInputDim, nameof(value)) != lk)
            {
                throw new ArgumentException($"value holds {value.Length / ((long)batch * d.ValueInputDim)} positions per sequence but key holds {lk}; they must match.", nameof(value));
            }
        }

        int rowsQ = batch * lq, rowsK = batch * lk;
        if (output.Length != (long)rowsQ * d.ModelDim)
        {
            throw new ArgumentException($"output has {output.Length} elements; expected [B={batch}, Lq={lq}, E={d.ModelDim}] = {(long)rowsQ * d.ModelDim}.", nameof(output));
        }

        var shape = new AttentionShape(batch, d.Heads, d.KeyValueHeads, lq, lk, d.KeyDim, d.ValueDim);
        var options = LayerMaskResolver.Resolve(masks, batch, d.Heads, lq, lk, d.Scale) with
        {
            QueryStrides = Rows(lq, d.QueryRows, d.KeyDim),
            KeyStrides = Rows(lk, d.KeyRows, d.KeyDim),
            ValueStrides = Rows(lk, d.ValueRows, d.ValueDim),
            OutputStrides = Rows(lq, d.ContextWidth, d.ValueDim),
            Sinks = sinks,
        };

        var packed = Read(inWeight);
        var inBiasValues = inBias is null ? [] : Read(inBias);
        var w = new PyTorchAttentionWeights(
            packed[..(int)d.KeyWeightOffset], packed[(int)d.KeyWeightOffset..(int)d.ValueWeightOffset], packed[(int)d.ValueWeightOffset..],
            inBiasValues, Read(outWeight), outBias is null ? [] : Read(outBias));
        var x = Widened(query);
        var xk = selfAttention ? x : Widened(key);
        var xv = selfAttention ? x : Widened(value);
        var host = HostLinear.For(Backend, engine.HostVariant);
        var q = new float[(long)rowsQ * d.QueryRows];
        var k = new float[(long)rowsK * d.KeyRows];
        var v = new float[(long)rowsK * d.ValueRows];
        host.Forward(x, rowsQ, d.ModelDim, w.QProjWeight, BiasSlice(inBiasValues, 0, d.QueryRows), d.QueryRows, q);
        host.Forward(xk, rowsK, d.KeyInputDim, w.KProjWeight, BiasSlice(inBiasValues, d.QueryRows, d.KeyRows), d.KeyRows, k);
        host.Forward(xv, rowsK, d.ValueInputDim, w.VProjWeight, BiasSlice(inBiasValues, d.QueryRows + d.KeyRows, d.ValueRows), d.ValueRows, v);
        var context = new float[(long)rowsQ * d.ContextWidth];
        var logSumExp = new float[shape.LogSumExpElementCount];
        Backend.ScaledDotProductAttention<float>(shape, q, k, v, context, options, logSumExp);
        var result = new float[(long)rowsQ * d.ModelDim];
        host.Forward(context, rowsQ, d.ContextWidth, w.OutProjWeight, w.OutProjBias, d.ModelDim, result);
        if (typeof(T) == typeof(float))
        {
            result.CopyTo(MemoryMarshal.Cast<T, float>(output));
        }
        else
        {
            ElementType.Narrow<T>(engine.HostVariant, result, output);
        }

        return new MultiHeadAttentionActivations(this, shape, options, selfAttention)
        {
            Query = x,
            Key = xk,
            Value = xv,
            Weights = w,
            ProjectedQuery = q,
            ProjectedKey = k,
            ProjectedValue = v,
            Context = context,
            LogSumExp = logSumExp,
        };
    }

    /// <summary>The span as floats (a copy; widened for Half and BFloat16).</summary>
    private float[] Widened(ReadOnlySpan<T> values)
    {
        var result = new float[values.Length];
        ElementType.Widen<T>(engine.HostVariant, values, result);
        return result;
    }

    /// <summary>A projection's part of the in-projection bias, or empty when the layer has no biases.</summary>
    private static Span<float> BiasSlice(float[] bias, int start, int length) => bias.Length == 0 ? default : bias.AsSpan(start, length);

    /// <summary>L of a <c>[batch, L, features]</c> span of <paramref name="length"/> elements.</summary>
    private static int Positions(int length, int batch, int features, string name)
    {
        long perBatch = (long)batch * features;
        if (length == 0 || length % perBatch != 0)
        {
            throw new ArgumentException($"{name} holds {length} elements, which is not [B={batch}, L, {features}]: check its batch size and feature size ({features}).", name);
        }

        return (int)(length / perBatch);
    }
}
