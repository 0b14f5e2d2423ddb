namespace Attention.Native.Perf.Workloads;

/// <summary>Fresh random Q, K and V for a case: uniform in ±[0.05, 1], never zero, both signs.</summary>
internal sealed class RandomOperands
{
    private RandomOperands(float[] query, float[] key, float[] value)
    {
        Query = query;
        Key = key;
        Value = value;
    }

    public float[] Query { get; }

    public float[] Key { get; }

    public float[] Value { get; }

    public static RandomOperands Create(AttentionShape shape, Random random) => new(
        Fill(shape.QueryElementCount, random), Fill(shape.KeyElementCount, random), Fill(shape.ValueElementCount, random));

    private static float[] Fill(long length, Random random)
    {
        var values = new float[length];
        for (long i = 0; i < values.LongLength; i++)
        {
            float magnitude = 0.05f + (0.95f * random.NextSingle());
            values[i] = random.Next(2) == 0 ? magnitude : -magnitude;
        }

        return values;
    }
}
