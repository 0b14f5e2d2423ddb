namespace Attention.Native.Tests.Support;

/// <summary>One attention problem to check against the float64 reference: shape, options and operand type.</summary>
public sealed record AttentionCase(string Name, AttentionShape Shape)
{
    /// <summary>Builds the options; gets a random source to draw masks and biases from.</summary>
    public Func<Random, AttentionOptions> Options { get; init; } = _ => AttentionOptions.Default;

    /// <summary>float, Half or BFloat16.</summary>
    public Type ElementType { get; init; } = typeof(float);

    /// <summary>Magnitude of the random operands (large values make huge scores).</summary>
    public float Amplitude { get; init; } = 1f;

    /// <summary>Relative-error bound replacing the element type's default; null for the default.</summary>
    public double? Tolerance { get; init; }

    /// <summary>Whether to ask for the log-sum-exp output.</summary>
    public bool WithLogSumExp { get; init; } = true;

    /// <summary>Whether to ask for the probabilities output.</summary>
    public bool WithProbabilities { get; init; }

    /// <summary>Extra elements around the operands (for strided cases the strides decide the size).</summary>
    public Func<AttentionShape, OperandSizes>? Sizes { get; init; }

    /// <summary>The operands' element counts: <see cref="Sizes"/>'s, or the contiguous ones.</summary>
    public OperandSizes ElementCounts => Sizes?.Invoke(Shape)
        ?? new OperandSizes(Shape.QueryElementCount, Shape.KeyElementCount, Shape.ValueElementCount, Shape.OutputElementCount);

    /// <summary>Random Q and K of <see cref="Amplitude"/> and V of magnitude 1, drawn in that order.</summary>
    public (T[] Query, T[] Key, T[] Value) RandomOperands<T>(Random random, OperandSizes sizes)
        where T : unmanaged =>
        (TestData.Random<T>(random, sizes.Query, Amplitude), TestData.Random<T>(random, sizes.Key, Amplitude),
            TestData.Random<T>(random, sizes.Value, 1f));

    public override string ToString() => Name;
}

/// <summary>Element counts of Q, K, V, O when they are not the contiguous ones.</summary>
public readonly record struct OperandSizes(long Query, long Key, long Value, long Output);
