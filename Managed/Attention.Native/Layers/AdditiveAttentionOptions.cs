namespace Attention.Native.Layers;

/// <summary>The sizes of an <see cref="AdditiveAttention"/> layer.</summary>
/// <param name="QueryDim">Feature size of the queries.</param>
/// <param name="KeyDim">Feature size of the keys.</param>
/// <param name="Units">Size of the hidden layer inside the <c>tanh</c> (the rows of W₁ and W₂, the length of v).</param>
public sealed record AdditiveAttentionOptions(int QueryDim, int KeyDim, int Units)
{
    /// <summary>Feature size of the values (and of the output); null = <see cref="KeyDim"/>.</summary>
    public int? ValueDim { get; init; }
}
