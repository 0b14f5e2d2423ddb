using System.Globalization;
using Attention.Native;
using Attention.Native.Reference;

/// <summary>
/// Attention on random data against the library's float64 reference (<see cref="ReferenceAttention"/>), for the
/// samples outside the test suite: the packed-package smoke test (Tests/PackageSmoke) and the NativeAOT sample
/// (Tests/AotSample, which compiles this file in).
/// </summary>
internal static class AttentionCheck
{
    /// <summary>The largest relative error accepted for float operands.</summary>
    public const double Tolerance = 1e-5;

    /// <summary>Small problems touching the tiled kernel, the decode kernel, masks and GQA.</summary>
    private static readonly (string Name, AttentionShape Shape, AttentionOptions Options)[] Cases =
    [
        ("multi-head", new AttentionShape(batch: 2, heads: 4, queryLength: 70, keyLength: 90, headDim: 64), AttentionOptions.Default),
        ("causal, bottom-right", new AttentionShape(batch: 1, heads: 2, queryLength: 37, keyLength: 53, headDim: 32),
            new AttentionOptions { Causal = CausalMask.BottomRight }),
        ("GQA decode, sliding window", new AttentionShape(1, QueryHeads: 8, KeyValueHeads: 2, QueryLength: 1, KeyLength: 200, HeadDim: 64, ValueHeadDim: 48),
            new AttentionOptions { Window = new SlidingWindow(64, 0) }),
    ];

    /// <summary>Runs every case on <paramref name="backend"/>, printing each relative error.</summary>
    /// <param name="backend">The backend to check.</param>
    /// <returns>Whether every error is within <see cref="Tolerance"/>.</returns>
    public static bool Run(AttentionBackend backend)
    {
        var random = new Random(20250611);
        bool ok = true;
        foreach (var (name, shape, options) in Cases)
        {
            float[] q = RandomData(random, shape.QueryElementCount);
            float[] k = RandomData(random, shape.KeyElementCount);
            float[] v = RandomData(random, shape.ValueElementCount);
            float[] o = new float[shape.OutputElementCount];
            backend.ScaledDotProductAttention<float>(shape, q, k, v, o, options);
            double error = ReferenceAttention.Compute<float>(shape, q, k, v, options).RelativeError<float>(o);
            bool pass = error <= Tolerance; // false for NaN too
            ok &= pass;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  {backend.Kind} {name} {shape}: relative error {error:0.00E+0} (limit {Tolerance:0E+0}) {(pass ? "ok" : "FAIL")}"));
        }

        return ok;
    }

    private static float[] RandomData(Random random, long length)
    {
        var data = new float[length];
        for (int i = 0; i < data.Length; i++)
        {
            data[i] = (float)((random.NextDouble() * 2) - 1);
        }

        return data;
    }
}
