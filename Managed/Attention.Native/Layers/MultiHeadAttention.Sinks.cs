namespace Attention.Native.Layers;

/// <summary>Attention sinks: one logit per query head that joins every row's softmax denominator.</summary>
public sealed partial class MultiHeadAttention<T>
{
    private float[] sinks = [];

    /// <summary>
    /// Per-query-head attention-sink logits (gpt-oss style; <see cref="AttentionOptions.Sinks"/>): head <c>h</c>'s
    /// softmax denominator gains <c>exp(Sinks[h])</c> with no value row, in <see cref="Forward(int, AttentionTensor{T}, AttentionTensor{T}, LayerMasks?, AttentionTensor{float}?, AttentionWeightsMode)"/>
    /// and its overloads, the decoding steps, the paged steps and <see cref="ForwardForTraining(int, ReadOnlySpan{T}, Span{T}, LayerMasks?)"/>.
    /// Empty (the default) means none; otherwise one finite value per query head (<see cref="NumHeads"/>). The layer
    /// keeps a copy of what it is given. <see cref="Backward"/> returns their gradient
    /// (<see cref="MultiHeadAttentionGradients.SinksGrad"/>) for activations computed with sinks.
    /// </summary>
    /// <exception cref="ArgumentException">Set to a length other than 0 or <see cref="NumHeads"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException">Set to a value that is not finite.</exception>
    /// <exception cref="ObjectDisposedException">The layer was disposed.</exception>
    /// <exception cref="InvalidOperationException">Set while another call runs on this layer.</exception>
    public ReadOnlyMemory<float> Sinks
    {
        get => sinks;
        set
        {
            ThrowIfDisposed();
            using var call = guard.Enter();
            var span = value.Span;
            if (!span.IsEmpty && span.Length != dims.Heads)
            {
                throw new ArgumentException($"Sinks has {span.Length} entries; it needs one per query head ({dims.Heads}) or none.", nameof(value));
            }

            foreach (float sink in span)
            {
                if (!float.IsFinite(sink))
                {
                    throw new ArgumentOutOfRangeException(nameof(value), sink, "Sinks values must be finite.");
                }
            }

            sinks = span.ToArray();
        }
    }
}
