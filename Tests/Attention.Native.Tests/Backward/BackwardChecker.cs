using Attention.Native.Reference;

namespace Attention.Native.Tests.Backward;

/// <summary>
/// Runs a case's forward on a backend (for O and the log-sum-exp), then its backward with fresh random dO and
/// NaN-poisoned gradients, and compares dQ, dK, dV (and the bias and sinks gradients where the case has a bias or
/// sinks) with the float64 reference backward.
/// </summary>
public static class BackwardChecker
{
    /// <summary>Relative-error bounds (‖actual − reference‖₂ / ‖reference‖₂) per element type.</summary>
    public const double FloatTolerance = 5e-6;

    /// <summary>Half: O and the gradients are rounded to 11 bits.</summary>
    public const double HalfTolerance = 2e-3;

    /// <summary>BFloat16: O and the gradients are rounded to 8 bits.</summary>
    public const double BFloat16Tolerance = 1e-2;

    public static void Check(AttentionBackend backend, AttentionCase c, bool viaTensors = false)
    {
        if (c.ElementType == typeof(Half))
        {
            Check<Half>(backend, c, viaTensors, HalfTolerance);
        }
        else if (c.ElementType == typeof(BFloat16))
        {
            Check<BFloat16>(backend, c, viaTensors, BFloat16Tolerance);
        }
        else
        {
            Check<float>(backend, c, viaTensors, FloatTolerance);
        }
    }

    private static void Check<T>(AttentionBackend backend, AttentionCase c, bool viaTensors, double tolerance)
        where T : unmanaged
    {
        int seed = TestRandom.SeedOf($"backward/{c.Name}/{typeof(T).Name}");
        var random = TestRandom.Create(seed);
        var shape = c.Shape;
        var options = c.Options(random);
        var sizes = c.ElementCounts;
        var (q, k, v) = c.RandomOperands<T>(random, sizes);
        var outputGrad = TestData.Random<T>(random, sizes.Output, 1f);
        var output = TestData.Poison<T>(sizes.Output);
        var lse = TestData.Poison<float>(shape.LogSumExpElementCount);
        backend.ScaledDotProductAttention<T>(shape, q, k, v, output, options, lse);

        var dq = TestData.Poison<T>(sizes.Query);
        var dk = TestData.Poison<T>(sizes.Key);
        var dv = TestData.Poison<T>(sizes.Value);
        var dBias = options.Bias is null ? [] : TestData.Poison<float>(options.Bias.Length);
        var dSinks = TestData.Poison<float>(options.Sinks.Length);
        if (viaTensors)
        {
            using var tq = backend.Upload<T>(q);
            using var tk = backend.Upload<T>(k);
            using var tv = backend.Upload<T>(v);
            using var to = backend.Upload<T>(output);
            using var tl = backend.Upload<float>(lse);
            using var tdo = backend.Upload<T>(outputGrad);
            using var tdq = backend.Upload<T>(dq);
            using var tdk = backend.Upload<T>(dk);
            using var tdv = backend.Upload<T>(dv);
            using var tdb = dBias.Length > 0 ? backend.Upload<float>(dBias) : null;
            using var tds = dSinks.Length > 0 ? backend.Upload<float>(dSinks) : null;
            backend.ScaledDotProductAttentionBackward(shape, tq, tk, tv, to, tl, tdo, tdq, tdk, tdv, options, tdb, tds);
            tdq.CopyTo(dq);
            tdk.CopyTo(dk);
            tdv.CopyTo(dv);
            tdb?.CopyTo(dBias);
            tds?.CopyTo(dSinks);
        }
        else
        {
            backend.ScaledDotProductAttentionBackward<T>(shape, q, k, v, output, lse, outputGrad, dq, dk, dv, options, dBias, dSinks);
        }

        var reference = ReferenceAttentionBackward.Compute<T>(shape, q, k, v, outputGrad, options);
        string context = $"case {c.Name}, {typeof(T).Name}, {backend.Description}, {TestRandom.Describe(seed)}";
        var layout = options.Layout;
        var qs = options.QueryStrides ?? TensorStrides.Contiguous(layout, shape.QueryHeads, shape.QueryLength, shape.HeadDim);
        var ks = options.KeyStrides ?? TensorStrides.Contiguous(layout, shape.KeyValueHeads, shape.KeyLength, shape.HeadDim);
        var vs = options.ValueStrides ?? TensorStrides.Contiguous(layout, shape.KeyValueHeads, shape.KeyLength, shape.ValueHeadDim);
        tolerance = c.Tolerance ?? tolerance;
        AssertWithin(reference.QueryGradError<T>(dq, qs), tolerance, "queryGrad", context);
        AssertWithin(reference.KeyGradError<T>(dk, ks), tolerance, "keyGrad", context);
        AssertWithin(reference.ValueGradError<T>(dv, vs), tolerance, "valueGrad", context);
        if (dBias.Length > 0)
        {
            AssertWithin(reference.BiasGradError(dBias), tolerance, "biasGrad", context);
        }

        if (dSinks.Length > 0)
        {
            AssertWithin(reference.SinksGradError(dSinks), tolerance, "sinksGrad", context);
        }

        // Structural zeros: rows that see no key (dQ), keys that no row sees (dK, dV; their dV row is exactly 0).
        var forward = ReferenceAttention.Compute<T>(shape, q, k, v, options);
        bool RowSeesNothing(long row) => double.IsNegativeInfinity(forward.LogSumExp[(int)row]);
        bool KeyUnseen(long row) => Enumerable.Range(0, shape.ValueHeadDim).All(c => reference.ValueGrad[(int)((row * shape.ValueHeadDim) + c)] == 0);
        AssertView(dq, qs, shape.Batch, shape.QueryHeads, shape.QueryLength, shape.HeadDim, RowSeesNothing, "queryGrad", context);
        AssertView(dk, ks, shape.Batch, shape.KeyValueHeads, shape.KeyLength, shape.HeadDim, KeyUnseen, "keyGrad", context);
        AssertView(dv, vs, shape.Batch, shape.KeyValueHeads, shape.KeyLength, shape.ValueHeadDim, KeyUnseen, "valueGrad", context);
    }

    /// <summary>
    /// Exactly 0 in the rows <paramref name="isZeroRow"/> names (by <c>(b·heads + h)·length + s</c>), and the poison
    /// left in every element outside the gradient's strided view.
    /// </summary>
    private static void AssertView<T>(
        T[] actual, TensorStrides strides, int batch, int heads, int length, int dim, Func<long, bool> isZeroRow, string name,
        string context)
        where T : unmanaged
    {
        var inView = new bool[actual.Length];
        long row = 0;
        for (int b = 0; b < batch; b++)
        {
            for (int h = 0; h < heads; h++)
            {
                for (int s = 0; s < length; s++, row++)
                {
                    long start = (b * strides.Batch) + (h * strides.Head) + (s * strides.Sequence);
                    bool zero = isZeroRow(row);
                    for (int x = 0; x < dim; x++)
                    {
                        inView[start + x] = true;
                        Assert.True(!zero || TestData.ToDouble(actual[start + x]) == 0,
                            $"{name} row {row} is not 0, and no key (query) reaches it ({context})");
                    }
                }
            }
        }

        for (int i = 0; i < actual.Length; i++)
        {
            Assert.True(inView[i] || double.IsNaN(TestData.ToDouble(actual[i])), $"{name}: element {i} outside the view was written ({context})");
        }
    }

    private static void AssertWithin(double error, double tolerance, string name, string context)
    {
        Assert.False(double.IsNaN(error), $"NaN in {name} ({context})");
        Assert.True(error <= tolerance, $"{name}: relative error {error:E3} > {tolerance:E1} ({context})");
    }
}
