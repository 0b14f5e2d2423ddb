using Attention.Native.Reference;

namespace Attention.Native.Tests.Support;

/// <summary>
/// Runs a case on a backend with fresh random operands and poisoned outputs, and compares every output with the
/// float64 reference.
/// </summary>
public static class AttentionChecker
{
    public static void Check(AttentionBackend backend, AttentionCase c, bool viaTensors = false)
    {
        if (c.ElementType == typeof(Half))
        {
            Check<Half>(backend, c, viaTensors, 1.5e-3);
        }
        else if (c.ElementType == typeof(BFloat16))
        {
            Check<BFloat16>(backend, c, viaTensors, 1e-2);
        }
        else
        {
            Check<float>(backend, c, viaTensors, 1e-5);
        }
    }

    private static void Check<T>(AttentionBackend backend, AttentionCase c, bool viaTensors, double tolerance)
        where T : unmanaged
    {
        if (backend is Native.Cuda.CudaBackend)
        {
            CudaTestEnvironment.SkipWhenEmulatedAndLarge(c.Shape);
        }

        int seed = TestRandom.SeedOf($"{c.Name}/{typeof(T).Name}");
        var random = TestRandom.Create(seed);
        var shape = c.Shape;
        var options = c.Options(random);
        var sizes = c.ElementCounts;
        var (q, k, v) = c.RandomOperands<T>(random, sizes);
        var output = TestData.Poison<T>(sizes.Output);
        var lse = c.WithLogSumExp ? TestData.Poison<float>(shape.LogSumExpElementCount) : [];
        var probabilities = c.WithProbabilities ? TestData.Poison<float>(shape.ProbabilitiesElementCount) : [];
        var untouched = (T[])output.Clone();

        if (viaTensors)
        {
            using var tq = backend.Upload<T>(q);
            using var tk = backend.Upload<T>(k);
            using var tv = backend.Upload<T>(v);
            using var to = backend.Upload<T>(output);
            using var tl = c.WithLogSumExp ? backend.Upload<float>(lse) : null;
            using var tp = c.WithProbabilities ? backend.Upload<float>(probabilities) : null;
            backend.ScaledDotProductAttention(shape, tq, tk, tv, to, options, tl, tp);
            to.CopyTo(output);
            tl?.CopyTo(lse);
            tp?.CopyTo(probabilities);
        }
        else
        {
            backend.ScaledDotProductAttention<T>(shape, q, k, v, output, options, lse, probabilities);
        }

        var reference = ReferenceAttention.Compute<T>(shape, q, k, v, options);
        string context = $"case {c.Name}, {typeof(T).Name}, {backend.Description}, {TestRandom.Describe(seed)}";
        double error = reference.RelativeError<T>(output, options.Layout, options.OutputStrides);
        Assert.False(double.IsNaN(error), $"NaN in the output ({context})");
        tolerance = c.Tolerance ?? tolerance;
        Assert.True(error <= tolerance, $"relative error {error:E3} > {tolerance:E1} ({context})");
        AssertMaskedRowsAreZero(reference, output, options, shape, context);
        if (options.OutputStrides is not null)
        {
            AssertGapsUntouched(output, untouched, options.OutputStrides.Value, shape, context);
        }

        if (c.WithLogSumExp)
        {
            AssertLogSumExp(reference.LogSumExp, lse, 2e-5, context);
        }

        if (c.WithProbabilities)
        {
            for (int i = 0; i < probabilities.Length; i++)
            {
                Assert.True(Math.Abs(probabilities[i] - reference.Probabilities[i]) <= 2e-6 + (2e-5 * reference.Probabilities[i]),
                    $"probabilities[{i}] = {probabilities[i]}, expected {reference.Probabilities[i]} ({context})");
            }
        }
    }

    private static void AssertMaskedRowsAreZero<T>(
        ReferenceResult reference, T[] output, AttentionOptions options, AttentionShape s, string context)
        where T : unmanaged
    {
        var o = options.OutputStrides ?? TensorStrides.Contiguous(options.Layout, s.QueryHeads, s.QueryLength, s.ValueHeadDim);
        int row = 0;
        for (int b = 0; b < s.Batch; b++)
        {
            for (int h = 0; h < s.QueryHeads; h++)
            {
                for (int i = 0; i < s.QueryLength; i++, row++)
                {
                    if (!double.IsNegativeInfinity(reference.LogSumExp[row]))
                    {
                        continue;
                    }

                    long start = (b * o.Batch) + (h * o.Head) + (i * o.Sequence);
                    for (int c = 0; c < s.ValueHeadDim; c++)
                    {
                        Assert.True(TestData.ToDouble(output[start + c]) == 0,
                            $"fully masked row b={b} h={h} i={i} is not 0 ({context})");
                    }
                }
            }
        }
    }

    private static void AssertGapsUntouched<T>(T[] output, T[] poisoned, TensorStrides o, AttentionShape s, string context)
        where T : unmanaged
    {
        var written = new bool[output.Length];
        for (int b = 0; b < s.Batch; b++)
        {
            for (int h = 0; h < s.QueryHeads; h++)
            {
                for (int i = 0; i < s.QueryLength; i++)
                {
                    long start = (b * o.Batch) + (h * o.Head) + (i * o.Sequence);
                    for (int c = 0; c < s.ValueHeadDim; c++)
                    {
                        written[start + c] = true;
                    }
                }
            }
        }

        for (int i = 0; i < output.Length; i++)
        {
            if (!written[i])
            {
                Assert.True(EqualityComparer<T>.Default.Equals(output[i], poisoned[i]) || double.IsNaN(TestData.ToDouble(output[i])),
                    $"element {i} outside the output view was written ({context})");
            }
        }
    }

    /// <summary>
    /// Each log-sum-exp within <paramref name="tolerance"/>·max(1, |expected|) of the float64 one, and −∞ exactly where
    /// the reference's row sees no key.
    /// </summary>
    public static void AssertLogSumExp(IReadOnlyList<double> expected, float[] actual, double tolerance, string context)
    {
        for (int i = 0; i < actual.Length; i++)
        {
            double e = expected[i];
            Assert.True(
                double.IsNegativeInfinity(e) ? float.IsNegativeInfinity(actual[i])
                    : Math.Abs(actual[i] - e) <= tolerance * Math.Max(1, Math.Abs(e)),
                $"lse[{i}] = {actual[i]}, expected {e} ({context})");
        }
    }
}
