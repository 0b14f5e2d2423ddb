namespace Attention.Native;

/// <summary>
/// Per-score data (a boolean mask or an additive bias) of logical shape <c>[B|1, Hq|1, Lq, Lk]</c>, contiguous, and
/// broadcast over the dimensions given as 1. It lives either in host memory (any backend reads it; a GPU backend
/// uploads it for each call) or in a tensor of the backend that runs the call.
/// </summary>
/// <typeparam name="T">The element type.</typeparam>
public abstract class BroadcastScores<T>
    where T : unmanaged
{
    private protected BroadcastScores(ReadOnlyMemory<T> memory, AttentionTensor<T>? tensor, int batch, int heads)
    {
        Memory = memory;
        Tensor = tensor;
        Batch = batch;
        Heads = heads;
    }

    /// <summary>Host memory holding the values, when <see cref="Tensor"/> is null.</summary>
    public ReadOnlyMemory<T> Memory { get; }

    /// <summary>The backend tensor holding the values, or null when they are in <see cref="Memory"/>.</summary>
    public AttentionTensor<T>? Tensor { get; }

    /// <summary>Size of the batch dimension: 1 (broadcast) or the problem's batch size.</summary>
    public int Batch { get; }

    /// <summary>Size of the head dimension: 1 (broadcast) or the problem's query-head count.</summary>
    public int Heads { get; }

    /// <summary>Number of elements the data holds (from <see cref="Memory"/> or <see cref="Tensor"/>).</summary>
    public long Length => Tensor?.Length ?? Memory.Length;
}

/// <summary>
/// A boolean attention mask, <b>true = attend</b> (PyTorch SDPA, ONNX and Keras convention; PyTorch's
/// <c>key_padding_mask</c> is the opposite and must be negated), of shape <c>[B|1, Hq|1, Lq, Lk]</c>.
/// </summary>
public sealed class AttentionMask : BroadcastScores<bool>
{
    /// <summary>A mask in host memory.</summary>
    /// <param name="values">Row-major <c>[batch, heads, Lq, Lk]</c> values, true where the query may attend the key.</param>
    /// <param name="batch">1 to broadcast over the batch, or the problem's batch size.</param>
    /// <param name="heads">1 to broadcast over heads, or the problem's query-head count.</param>
    public AttentionMask(ReadOnlyMemory<bool> values, int batch = 1, int heads = 1)
        : base(values, null, batch, heads)
    {
    }

    /// <summary>A mask held in a backend tensor.</summary>
    /// <param name="values">Row-major <c>[batch, heads, Lq, Lk]</c> values, true where the query may attend the key.</param>
    /// <param name="batch">1 to broadcast over the batch, or the problem's batch size.</param>
    /// <param name="heads">1 to broadcast over heads, or the problem's query-head count.</param>
    /// <exception cref="ArgumentNullException"><paramref name="values"/> is null.</exception>
    public AttentionMask(AttentionTensor<bool> values, int batch = 1, int heads = 1)
        : base(default, values ?? throw new ArgumentNullException(nameof(values)), batch, heads)
    {
    }
}

/// <summary>
/// An additive float bias (ALiBi, relative positions, a float mask with −∞) added to the scaled (and soft-capped)
/// score, of shape <c>[B|1, Hq|1, Lq, Lk]</c>.
/// </summary>
public sealed class AttentionBias : BroadcastScores<float>
{
    /// <summary>A bias in host memory.</summary>
    /// <param name="values">Row-major <c>[batch, heads, Lq, Lk]</c> values.</param>
    /// <param name="batch">1 to broadcast over the batch, or the problem's batch size.</param>
    /// <param name="heads">1 to broadcast over heads, or the problem's query-head count.</param>
    public AttentionBias(ReadOnlyMemory<float> values, int batch = 1, int heads = 1)
        : base(values, null, batch, heads)
    {
    }

    /// <summary>A bias held in a backend tensor.</summary>
    /// <param name="values">Row-major <c>[batch, heads, Lq, Lk]</c> values.</param>
    /// <param name="batch">1 to broadcast over the batch, or the problem's batch size.</param>
    /// <param name="heads">1 to broadcast over heads, or the problem's query-head count.</param>
    /// <exception cref="ArgumentNullException"><paramref name="values"/> is null.</exception>
    public AttentionBias(AttentionTensor<float> values, int batch = 1, int heads = 1)
        : base(default, values ?? throw new ArgumentNullException(nameof(values)), batch, heads)
    {
    }
}
