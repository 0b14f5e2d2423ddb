using Attention.Native.Cpu.Additive;

namespace Attention.Native.Layers;

/// <summary>
/// Training: a forward that keeps what the backward needs, and the backward (gradients out; the caller updates the
/// weights, e.g. with <see cref="LoadWeights"/>). The backward runs on the host CPU
/// (<see cref="AdditiveAttentionBackwardKernel{TOps, TVec}"/> and the SGEMM) whatever the layer's backend.
/// </summary>
public sealed partial class AdditiveAttention
{
    /// <summary>The forward of <see cref="Forward(int, ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, LayerMasks?, Span{float})"/>,
    /// keeping what <see cref="Backward"/> needs.</summary>
    /// <param name="batch">Number of sequences B.</param>
    /// <param name="query">Queries, <c>[B, Tq, QueryDim]</c>.</param>
    /// <param name="key">Keys, <c>[B, Tk, KeyDim]</c>.</param>
    /// <param name="value">Values, <c>[B, Tk, ValueDim]</c>.</param>
    /// <param name="output">The result, <c>[B, Tq, ValueDim]</c>.</param>
    /// <param name="masks">Masks; null for none.</param>
    /// <returns>The activations to pass to <see cref="Backward"/> (host copies; the forward's weights included).</returns>
    /// <exception cref="ArgumentException">As for the forward, or an input is empty.</exception>
    /// <exception cref="ObjectDisposedException">The layer was disposed.</exception>
    /// <exception cref="InvalidOperationException">Another call is running on this layer (it serves one call at a time).</exception>
    public AdditiveAttentionActivations ForwardForTraining(
        int batch, ReadOnlySpan<float> query, ReadOnlySpan<float> key, ReadOnlySpan<float> value, Span<float> output,
        LayerMasks? masks = null)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        ArgumentOutOfRangeException.ThrowIfLessThan(batch, 1);
        int tq = Positions(query.Length, batch, Options.QueryDim, nameof(query));
        int tk = Positions(key.Length, batch, Options.KeyDim, nameof(key));
        var probabilities = new float[(long)batch * tq * tk];
        Forward(batch, query, key, value, output, masks, probabilities);
        var (w1, w2, v) = ReadWeights();
        var host = HostLinear.For(Backend, engine.HostVariant);
        var projectedQuery = new float[(long)batch * tq * Options.Units];
        var projectedKey = new float[(long)batch * tk * Options.Units];
        host.Forward(query, batch * tq, Options.QueryDim, w1, default, Options.Units, projectedQuery);
        host.Forward(key, batch * tk, Options.KeyDim, w2, default, Options.Units, projectedKey);
        return new AdditiveAttentionActivations(this, Problem(batch, tq, tk, masks))
        {
            Query = query.ToArray(),
            Key = key.ToArray(),
            Value = value.ToArray(),
            Output = output.ToArray(),
            Probabilities = probabilities,
            ProjectedQuery = projectedQuery,
            ProjectedKey = projectedKey,
            QueryWeight = w1,
            KeyWeight = w2,
            ScoreVector = v,
        };
    }

    /// <summary>The gradients of a loss with respect to the inputs and weights of the call that made <paramref name="activations"/>.</summary>
    /// <param name="activations">What <see cref="ForwardForTraining"/> returned (on this layer).</param>
    /// <param name="outputGrad">The loss's gradient with respect to the output, <c>[B, Tq, ValueDim]</c>.</param>
    /// <returns>The gradients (new arrays); masked keys and rows that see no key get none.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="activations"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="activations"/> come from another layer, or
    /// <paramref name="outputGrad"/> has the wrong length (named).</exception>
    /// <exception cref="ObjectDisposedException">The layer was disposed.</exception>
    /// <exception cref="InvalidOperationException">Another call is running on this layer (it serves one call at a time).</exception>
    public unsafe AdditiveAttentionGradients Backward(AdditiveAttentionActivations activations, ReadOnlySpan<float> outputGrad)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        ArgumentNullException.ThrowIfNull(activations);
        using var call = guard.Enter();
        if (!ReferenceEquals(activations.Layer, this))
        {
            throw new ArgumentException("activations come from another layer's ForwardForTraining.", nameof(activations));
        }

        var a = activations;
        int units = Options.Units, rowsQ = a.Batch * a.QueryLength, rowsK = a.Batch * a.KeyLength;
        Require(outputGrad, (long)rowsQ * ValueDim, nameof(outputGrad), $"[B={a.Batch}, Tq={a.QueryLength}, ValueDim={ValueDim}]");
        var problem = a.Problem;
        var linear = HostLinear.For(Backend, engine.HostVariant);
        var projectedQueryGrad = new float[(long)rowsQ * units];
        var projectedKeyGrad = new float[(long)rowsK * units];
        var scoreVectorGrad = new float[units];
        var valueGrad = new float[a.Value.Length];
        fixed (float* q = a.ProjectedQuery, k = a.ProjectedKey, v = a.ScoreVector, values = a.Value, p = a.Probabilities, o = a.Output)
        fixed (float* dO = outputGrad, dq = projectedQueryGrad, dk = projectedKeyGrad, dv = scoreVectorGrad, dValue = valueGrad)
        {
            AdditiveAttentionBackward.Run(engine.HostVariant, problem, q, k, v, values, p, o, dO, dq, dk, dv, dValue, linear.Threads);
        }

        var queryGrad = new float[a.Query.Length];
        var keyGrad = new float[a.Key.Length];
        var queryWeightGrad = new float[a.QueryWeight.Length];
        var keyWeightGrad = new float[a.KeyWeight.Length];
        linear.Backward(projectedQueryGrad, a.Query, rowsQ, Options.QueryDim, a.QueryWeight, units, queryGrad, false, queryWeightGrad, default);
        linear.Backward(projectedKeyGrad, a.Key, rowsK, Options.KeyDim, a.KeyWeight, units, keyGrad, false, keyWeightGrad, default);
        return new AdditiveAttentionGradients(queryGrad, keyGrad, valueGrad, queryWeightGrad, keyWeightGrad, scoreVectorGrad);
    }

    /// <summary>T of a <c>[batch, T, features]</c> span of <paramref name="length"/> elements.</summary>
    private static int Positions(int length, int batch, int features, string name)
    {
        long perBatch = (long)batch * features;
        if (length == 0 || length % perBatch != 0)
        {
            throw new ArgumentException($"{name} holds {length} elements, which is not [B={batch}, T, {features}].", name);
        }

        return (int)(length / perBatch);
    }
}
