namespace Attention.Native.Perf.Device;

/// <summary>A case's operands, drawn fresh from its seed: Q, K, V never zero, the mask and bias it asks for.</summary>
/// <typeparam name="T">The operand element type.</typeparam>
internal sealed class SweepData<T>
    where T : unmanaged
{
    private SweepData(SweepCase c, T[] query, T[] key, T[] value, bool[]? mask, float[]? bias)
    {
        Case = c;
        Query = query;
        Key = key;
        Value = value;
        Mask = mask;
        Bias = bias;
        Options = c.Options(mask, bias);
    }

    public SweepCase Case { get; }

    public T[] Query { get; }

    public T[] Key { get; }

    public T[] Value { get; }

    public bool[]? Mask { get; }

    public float[]? Bias { get; }

    /// <summary>The options with the mask and bias in host memory.</summary>
    public AttentionOptions Options { get; }

    public static SweepData<T> Draw(SweepCase c)
    {
        var r = new Random(c.Seed + 1);
        var s = c.Shape;
        var g = c.Geometry;
        var query = Operand(r, g.QueryLength, c.Amplitude);
        var key = Operand(r, g.KeyLength, c.Amplitude);
        var value = Operand(r, g.ValueLength, 1f);
        bool[]? mask = null;
        if (c.Mask is { } m)
        {
            mask = new bool[(long)m.Batch * m.Heads * s.QueryLength * s.KeyLength];
            for (long i = 0; i < mask.LongLength; i++)
            {
                mask[i] = r.NextDouble() < c.MaskDensity;
            }

            // Whole rows that attend nothing, in the first broadcast slice (so in every batch/head that reads it).
            for (int row = 0; row < c.MaskedRows; row++)
            {
                int i = r.Next(s.QueryLength);
                Array.Fill(mask, false, i * s.KeyLength, s.KeyLength);
            }
        }

        float[]? bias = null;
        if (c.Bias is { } b)
        {
            bias = new float[(long)b.Batch * b.Heads * s.QueryLength * s.KeyLength];
            for (long i = 0; i < bias.LongLength; i++)
            {
                bias[i] = (r.NextSingle() * 4f) - 2f;
            }

            if (c.BiasNegativeInfinity)
            {
                for (int n = 0; n < Math.Max(1, bias.Length / 10); n++)
                {
                    bias[r.Next(bias.Length)] = float.NegativeInfinity;
                }

                int row = r.Next(s.QueryLength);
                Array.Fill(bias, float.NegativeInfinity, row * s.KeyLength, s.KeyLength);
            }
        }

        return new SweepData<T>(c, query, key, value, mask, bias);
    }

    /// <summary>Uniform in ±[0.05, 1]·amplitude: never zero, both signs.</summary>
    public static T[] Operand(Random r, long length, float amplitude)
    {
        var values = new T[length];
        for (long i = 0; i < values.LongLength; i++)
        {
            float magnitude = (0.05f + (0.95f * r.NextSingle())) * amplitude;
            values[i] = ElementType.FromSingle<T>(r.Next(2) == 0 ? magnitude : -magnitude);
        }

        return values;
    }

    /// <summary>NaN everywhere: an element the backend should write and did not stays NaN.</summary>
    public static TElement[] Poison<TElement>(long length)
        where TElement : unmanaged
    {
        var values = new TElement[length];
        Array.Fill(values, ElementType.FromSingle<TElement>(float.NaN));
        return values;
    }
}
