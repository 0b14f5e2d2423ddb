namespace Attention.Native.Validation;

/// <summary>
/// The memory of a backward call's operands, to reject a gradient that overlaps anything the call reads or another
/// gradient: the kernels read every input while they write the gradients, and write several gradients at once.
/// </summary>
internal ref struct BackwardOverlaps
{
    private const int FirstWritten = 8;
    private const int Count = 13;

    public ReadOnlySpan<byte> Query;
    public ReadOnlySpan<byte> Key;
    public ReadOnlySpan<byte> Value;
    public ReadOnlySpan<byte> Output;
    public ReadOnlySpan<byte> LogSumExp;
    public ReadOnlySpan<byte> OutputGrad;
    public ReadOnlySpan<byte> Mask;
    public ReadOnlySpan<byte> Bias;
    public ReadOnlySpan<byte> QueryGrad;
    public ReadOnlySpan<byte> KeyGrad;
    public ReadOnlySpan<byte> ValueGrad;
    public ReadOnlySpan<byte> BiasGrad;
    public ReadOnlySpan<byte> SinksGrad;

    /// <exception cref="ArgumentException">A gradient overlaps an input or an earlier gradient (named in the message).</exception>
    public readonly void ThrowIfAny()
    {
        for (int written = FirstWritten; written < Count; written++)
        {
            for (int other = 0; other < written; other++)
            {
                if (Get(written).Overlaps(Get(other)))
                {
                    throw new ArgumentException($"{Name(written)} must not overlap {Name(other)}.", Name(written));
                }
            }
        }
    }

    private readonly ReadOnlySpan<byte> Get(int index) => index switch
    {
        0 => Query,
        1 => Key,
        2 => Value,
        3 => Output,
        4 => LogSumExp,
        5 => OutputGrad,
        6 => Mask,
        7 => Bias,
        8 => QueryGrad,
        9 => KeyGrad,
        10 => ValueGrad,
        11 => BiasGrad,
        _ => SinksGrad,
    };

    private static string Name(int index) => index switch
    {
        0 => "query",
        1 => "key",
        2 => "value",
        3 => "output",
        4 => "logSumExp",
        5 => "outputGrad",
        6 => "options.Mask",
        7 => "options.Bias",
        8 => "queryGrad",
        9 => "keyGrad",
        10 => "valueGrad",
        11 => "biasGrad",
        _ => "sinksGrad",
    };
}
