using Attention.Native.Reference;

namespace Attention.Native.Tests.Backward;

/// <summary>
/// The float64 reference backward against central finite differences of the float64 reference forward, on small cases
/// of every option: with the loss <c>L = Σ dO∘O</c>, <c>∂L/∂x ≈ (L(x + h) − L(x − h)) / (2h)</c> for every element of
/// Q, K, V, the bias and the sinks.
/// </summary>
public sealed class ReferenceBackwardTests
{
    private const float Step = 1e-3f;

    public static TheoryData<string> Cases() => new(SmallCases().Select(c => c.Name));

    [Theory]
    [MemberData(nameof(Cases))]
    public void Matches_finite_differences(string name)
    {
        var c = SmallCases().Single(c => c.Name == name);
        int seed = TestRandom.SeedOf($"reference-backward/{name}");
        var random = TestRandom.Create(seed);
        var shape = c.Shape;
        var options = c.Options(random);
        var q = TestData.Random<float>(random, shape.QueryElementCount, c.Amplitude);
        var k = TestData.Random<float>(random, shape.KeyElementCount, c.Amplitude);
        var v = TestData.Random<float>(random, shape.ValueElementCount, 1f);
        var outputGrad = TestData.Random<float>(random, shape.OutputElementCount, 1f);
        var gradients = ReferenceAttentionBackward.Compute<float>(shape, q, k, v, outputGrad, options);
        string context = $"case {name}, {TestRandom.Describe(seed)}";

        var layout = options.Layout;
        var qs = TensorStrides.Contiguous(layout, shape.QueryHeads, shape.QueryLength, shape.HeadDim);
        var ks = TensorStrides.Contiguous(layout, shape.KeyValueHeads, shape.KeyLength, shape.HeadDim);
        var vs = TensorStrides.Contiguous(layout, shape.KeyValueHeads, shape.KeyLength, shape.ValueHeadDim);
        double Loss() => LossOf(shape, q, k, v, outputGrad, options);
        Compare(q, qs, shape.QueryHeads, shape.QueryLength, shape.HeadDim, gradients.QueryGrad, Loss, "queryGrad", context);
        Compare(k, ks, shape.KeyValueHeads, shape.KeyLength, shape.HeadDim, gradients.KeyGrad, Loss, "keyGrad", context);
        Compare(v, vs, shape.KeyValueHeads, shape.KeyLength, shape.ValueHeadDim, gradients.ValueGrad, Loss, "valueGrad", context);
        if (options.Bias is { } bias)
        {
            var values = bias.Memory.ToArray();
            var withValues = options with { Bias = new AttentionBias(values, bias.Batch, bias.Heads) };
            double BiasLoss() => LossOf(shape, q, k, v, outputGrad, withValues);
            long plane = (long)shape.QueryLength * shape.KeyLength;
            Compare(values, new(plane, plane, plane), bias.Batch * bias.Heads, 1, (int)plane, gradients.BiasGrad, BiasLoss,
                "biasGrad", context);
        }

        if (!options.Sinks.IsEmpty)
        {
            var sinks = options.Sinks.ToArray();
            var withSinks = options with { Sinks = sinks };
            double SinksLoss() => LossOf(shape, q, k, v, outputGrad, withSinks);
            int heads = shape.QueryHeads;
            Compare(sinks, new(heads, heads, heads), 1, 1, heads, gradients.SinksGrad, SinksLoss, "sinksGrad", context);
        }
    }

    /// <summary><c>Σ dO∘O</c> over the output, whose gradient with respect to O is dO.</summary>
    private static double LossOf(
        AttentionShape shape, float[] q, float[] k, float[] v, float[] outputGrad, AttentionOptions options)
    {
        var output = ReferenceAttention.Compute<float>(shape, q, k, v, options).Output;
        var os = TensorStrides.Contiguous(options.Layout, shape.QueryHeads, shape.QueryLength, shape.ValueHeadDim);
        double loss = 0;
        int index = 0;
        for (int b = 0; b < shape.Batch; b++)
        {
            for (int h = 0; h < shape.QueryHeads; h++)
            {
                for (int i = 0; i < shape.QueryLength; i++)
                {
                    long start = (b * os.Batch) + (h * os.Head) + (i * os.Sequence);
                    for (int c = 0; c < shape.ValueHeadDim; c++, index++)
                    {
                        loss += outputGrad[start + c] * output[index];
                    }
                }
            }
        }

        return loss;
    }

    /// <summary>Every element's central difference against the analytic gradient (contiguous <c>[B, heads, length, dim]</c>).</summary>
    private static void Compare(
        float[] operand, TensorStrides strides, int heads, int length, int dim, IReadOnlyList<double> analytic,
        Func<double> loss, string name, string context)
    {
        double largest = analytic.Max(Math.Abs);
        int index = 0;
        int batch = analytic.Count / (heads * length * dim);
        for (int b = 0; b < batch; b++)
        {
            for (int h = 0; h < heads; h++)
            {
                for (int s = 0; s < length; s++)
                {
                    long start = (b * strides.Batch) + (h * strides.Head) + (s * strides.Sequence);
                    for (int x = 0; x < dim; x++, index++)
                    {
                        long at = start + x;
                        float original = operand[at];
                        if (!float.IsFinite(original))
                        {
                            // A −∞ bias entry: that score is masked, its gradient is 0.
                            Assert.True(analytic[index] == 0, $"{name}[{index}] = {analytic[index]} at a -inf bias ({context})");
                            continue;
                        }

                        float up = original + Step;
                        float down = original - Step;
                        operand[at] = up;
                        double lossUp = loss();
                        operand[at] = down;
                        double lossDown = loss();
                        operand[at] = original;
                        double numeric = (lossUp - lossDown) / ((double)up - down);
                        Assert.True(Math.Abs(numeric - analytic[index]) <= 1e-5 + (1e-4 * largest),
                            $"{name}[{index}]: analytic {analytic[index]:R}, finite difference {numeric:R} ({context})");
                    }
                }
            }
        }
    }

    private static IEnumerable<AttentionCase> SmallCases()
    {
        yield return new("plain", new(1, 2, 2, 5, 7, 3, 3));
        yield return new("scale-dv-ne-d", new(1, 2, 2, 4, 6, 3, 5)) { Options = _ => new() { Scale = 0.7f } };
        yield return new("causal-topleft", new(1, 2, 1, 6, 4, 3, 2)) { Options = _ => new() { Causal = CausalMask.TopLeft } };
        // Lq > Lk bottom-right: the first rows see no key.
        yield return new("causal-bottomright", new(1, 1, 1, 6, 4, 2, 2)) { Options = _ => new() { Causal = CausalMask.BottomRight } };
        yield return new("window", new(1, 1, 1, 6, 8, 2, 2)) { Options = _ => new() { Window = new(2, 1) } };
        yield return new("softcap", new(1, 2, 2, 4, 5, 3, 3)) { Amplitude = 2f, Options = _ => new() { Softcap = 1.5f } };
        yield return new("keylengths", new(2, 1, 1, 3, 6, 2, 3)) { Options = _ => new() { KeyLengths = new[] { 5, 0 } } };
        yield return new("mask-fully-masked-row", new(1, 2, 2, 4, 5, 2, 2))
        {
            Options = r =>
            {
                var mask = TestData.RandomMask(r, 20);
                Array.Fill(mask, false, 5, 5);
                return new() { Mask = new(mask) };
            },
        };
        foreach (var (mb, mh) in new[] { (1, 1), (2, 1), (1, 2), (2, 2) })
        {
            yield return new($"bias-{mb}x{mh}", new(2, 2, 2, 3, 4, 2, 2))
            {
                Options = r =>
                {
                    var bias = TestData.RandomBias(r, (long)mb * mh * 12);
                    bias[^1] = float.NegativeInfinity;
                    return new() { Bias = new(bias, mb, mh) };
                },
            };
        }

        yield return new("gqa", new(1, 4, 2, 3, 5, 2, 3));
        yield return new("sinks", new(2, 4, 2, 4, 5, 3, 3)) { Options = _ => new() { Sinks = new[] { 0.5f, -1f, 2f, 0f } } };
        // Key length 0 and bottom-right rows above the diagonal: rows whose output is 0 and whose lse is the sink.
        yield return new("sinks-masked-rows", new(2, 2, 1, 6, 4, 2, 2))
        {
            Options = _ => new() { Sinks = new[] { 1f, -0.5f }, Causal = CausalMask.BottomRight, KeyLengths = new[] { 4, 0 } },
        };
        yield return new("mqa", new(1, 3, 1, 3, 5, 2, 2));
        yield return new("bshd", new(2, 2, 1, 3, 4, 3, 2)) { Options = _ => new() { Layout = AttentionLayout.Bshd } };
        yield return new("everything", new(2, 4, 2, 5, 6, 3, 2))
        {
            Amplitude = 2f,
            Options = r => new()
            {
                Scale = 0.4f,
                Softcap = 2f,
                Causal = CausalMask.BottomRight,
                Window = new(3, 1),
                KeyLengths = new[] { 6, 4 },
                Mask = new(TestData.RandomMask(r, 2L * 30, 0.8), 2, 1),
                Bias = new(TestData.RandomBias(r, 4L * 30), 1, 4),
                Layout = AttentionLayout.Bshd,
            },
        };
    }
}
