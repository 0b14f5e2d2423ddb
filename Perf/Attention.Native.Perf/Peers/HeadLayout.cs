namespace Attention.Native.Perf.Peers;

/// <summary>Copies between the BHSD operands <c>compare</c> makes and the layouts a peer's operator or a BSHD case takes.</summary>
internal static class HeadLayout
{
    /// <summary><c>[B, H, L, D]</c> to <c>[B, L, H·D]</c> (ONNX Runtime's MultiHeadAttention input, the backend's BSHD).</summary>
    public static T[] ToSequenceMajor<T>(T[] bhsd, int batch, int heads, int length, int dim) =>
        Transpose(bhsd, batch, heads, length, dim, toSequenceMajor: true);

    /// <summary><c>[B, L, H·D]</c> back to <c>[B, H, L, D]</c>.</summary>
    public static T[] ToHeadMajor<T>(T[] bshd, int batch, int heads, int length, int dim) =>
        Transpose(bshd, batch, heads, length, dim, toSequenceMajor: false);

    /// <summary><c>[B, Hkv, L, D]</c> to <c>[B, Hkv·G, L, D]</c>, each head repeated for the <paramref name="group"/>
    /// query heads that read it (query head <c>h</c> reads key/value head <c>h / G</c>).</summary>
    public static float[] RepeatHeads(float[] bhsd, int batch, int heads, int group, int length, int dim)
    {
        long plane = (long)length * dim;
        var repeated = new float[bhsd.LongLength * group];
        for (long bh = 0; bh < (long)batch * heads; bh++)
        {
            var source = bhsd.AsSpan().Slice(checked((int)(bh * plane)), checked((int)plane));
            for (int g = 0; g < group; g++)
            {
                source.CopyTo(repeated.AsSpan(checked((int)(((bh * group) + g) * plane))));
            }
        }

        return repeated;
    }

    private static T[] Transpose<T>(T[] source, int batch, int heads, int length, int dim, bool toSequenceMajor)
    {
        var result = new T[source.LongLength];
        for (long b = 0; b < batch; b++)
        {
            for (long h = 0; h < heads; h++)
            {
                for (long l = 0; l < length; l++)
                {
                    long headMajor = ((((b * heads) + h) * length) + l) * dim;
                    long sequenceMajor = ((((b * length) + l) * heads) + h) * dim;
                    long from = toSequenceMajor ? headMajor : sequenceMajor;
                    long to = toSequenceMajor ? sequenceMajor : headMajor;
                    Array.Copy(source, from, result, to, dim);
                }
            }
        }

        return result;
    }
}
