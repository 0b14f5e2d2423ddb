namespace Attention.Native.Tests.Support;

/// <summary>Fresh random operands (never zeros) and NaN-poisoned outputs.</summary>
public static class TestData
{
    public static T[] Random<T>(Random random, long length, float amplitude)
        where T : unmanaged
    {
        var values = new T[length];
        for (long i = 0; i < length; i++)
        {
            // Uniform in ±[0.05, 1]·amplitude: never zero, both signs.
            float magnitude = (0.05f + (0.95f * random.NextSingle())) * amplitude;
            values[i] = FromSingle<T>(random.Next(2) == 0 ? magnitude : -magnitude);
        }

        return values;
    }

    public static T[] Poison<T>(long length)
        where T : unmanaged
    {
        var values = new T[length];
        Array.Fill(values, FromSingle<T>(float.NaN));
        return values;
    }

    public static T FromSingle<T>(float value)
        where T : unmanaged
    {
        object boxed = typeof(T) == typeof(Half) ? (object)(Half)value
            : typeof(T) == typeof(BFloat16) ? (object)(BFloat16)value
            : (object)value;
        return (T)boxed;
    }

    public static double ToDouble<T>(T value)
        where T : unmanaged => value switch
        {
            float f => f,
            Half h => (double)h,
            BFloat16 b => b.ToSingle(),
            _ => throw new NotSupportedException(typeof(T).Name),
        };

    public static bool[] RandomMask(Random random, long length, double attendProbability = 0.7)
    {
        var mask = new bool[length];
        for (long i = 0; i < length; i++)
        {
            mask[i] = random.NextDouble() < attendProbability;
        }

        return mask;
    }

    public static float[] RandomBias(Random random, long length)
    {
        var bias = new float[length];
        for (long i = 0; i < length; i++)
        {
            bias[i] = (random.NextSingle() * 4f) - 2f;
        }

        return bias;
    }
}
