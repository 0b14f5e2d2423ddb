using Attention.Native.Cuda;
using Attention.Native.Reference;

namespace Attention.Native.Tests.Cuda;

/// <summary>
/// The CUDA backward (<c>attention_backward</c> kernels) against the float64 reference backward
/// (<see cref="ReferenceAttentionBackward"/>) over every forward option, on float, Half and BFloat16: the forward runs on
/// the same backend and hands its output and log-sum-exp over, as a training step does. Gradients start poisoned (NaN),
/// strided gradients keep their gaps. Small shapes: the emulated device runs them in a second or two each.
/// </summary>
[Trait("Device", "Cuda")]
public sealed class CudaAttentionBackwardTests
{
    /// <summary>A backward case: the shape, the options (drawn from the case's random source) and whether the bias
    /// gradient is asked for.</summary>
    public sealed record BackwardCase(string Name, AttentionShape Shape)
    {
        public Func<Random, AttentionShape, AttentionOptions> Options { get; init; } = (_, _) => AttentionOptions.Default;

        public float Amplitude { get; init; } = 1f;

        public override string ToString() => Name;
    }

    private static readonly Dictionary<string, BackwardCase> Cases = Build().ToDictionary(c => c.Name);

    public static TheoryData<string, string> CasesAndTypes()
    {
        var data = new TheoryData<string, string>();
        foreach (string name in Cases.Keys)
        {
            foreach (string type in new[] { "float", "Half", "BFloat16" })
            {
                data.Add(name, type);
            }
        }

        return data;
    }

    [CudaTheory]
    [MemberData(nameof(CasesAndTypes))]
    public void Gradients_match_the_float64_reference(string name, string type)
    {
        var c = Cases[name];
        switch (type)
        {
            case "float":
                Check<float>(c, 2e-5);
                break;
            case "Half":
                Check<Half>(c, 4e-3);
                break;
            default:
                Check<BFloat16>(c, 3e-2);
                break;
        }
    }

    /// <summary>The mma cases again with the backend forced to SIMT: Half and BFloat16 at D = 64 and 128 on
    /// <c>attention_backward_simt</c>, which the automatic choice never sends there.</summary>
    [CudaTheory]
    [InlineData("mma-d64-everything", "Half")]
    [InlineData("mma-d64-everything", "BFloat16")]
    [InlineData("mma-d128-gqa-causal", "Half")]
    public void Simt_forced_gradients_match_the_float64_reference(string name, string type)
    {
        var options = new CudaBackendOptions { Kernel = CudaAttentionKernel.Simt };
        if (type == "Half")
        {
            Check<Half>(Cases[name], 4e-3, options);
        }
        else
        {
            Check<BFloat16>(Cases[name], 3e-2, options);
        }
    }

    /// <summary>Which middle kernel a call gets: mma for Half and BFloat16 at D = Dv = 64 and 128, SIMT otherwise.</summary>
    [CudaTheory]
    [InlineData("Half", 64, 64, "attention_backward_mma_d64_f16")]
    [InlineData("BFloat16", 128, 128, "attention_backward_mma_d128_bf16")]
    [InlineData("Half", 64, 32, "attention_backward_simt_f16")]
    [InlineData("BFloat16", 96, 96, "attention_backward_simt_bf16")]
    [InlineData("float", 64, 64, "attention_backward_simt_f32")]
    public void The_mma_kernel_takes_its_shapes_and_simt_the_rest(string type, int headDim, int valueHeadDim, string expected)
    {
        CudaTestEnvironment.SkipUnlessAvailable();
        var shape = new AttentionShape(1, 2, 1, 5, 9, headDim, valueHeadDim);
        var problem = Validation.AttentionBackwardValidator.Validate(shape, AttentionOptions.Default, new(
            shape.QueryElementCount, shape.KeyElementCount, shape.ValueElementCount, shape.OutputElementCount,
            shape.LogSumExpElementCount, shape.OutputElementCount, shape.QueryElementCount, shape.KeyElementCount,
            shape.ValueElementCount, -1, -1));
        using var backend = new CudaBackend();
        var prepared = type switch
        {
            "Half" => Native.Cuda.Backward.CudaAttentionBackward.Prepare<Half>(backend, problem),
            "BFloat16" => Native.Cuda.Backward.CudaAttentionBackward.Prepare<BFloat16>(backend, problem),
            _ => Native.Cuda.Backward.CudaAttentionBackward.Prepare<float>(backend, problem),
        };
        Assert.Equal(expected, prepared.Middle.Name);
    }

    [CudaFact]
    public void Forced_mma_rejects_what_it_cannot_run_naming_the_option()
    {
        CudaTestEnvironment.SkipUnlessAvailable();
        var shape = new AttentionShape(1, 1, 1, 3, 3, 32, 32);
        using var backend = new CudaBackend(new CudaBackendOptions { Kernel = CudaAttentionKernel.Mma });
        var x = new Half[96];
        var e = Assert.Throws<NotSupportedException>(() => backend.ScaledDotProductAttentionBackward<Half>(
            shape, x, x.ToArray(), x.ToArray(), x.ToArray(), new float[3], x.ToArray(), new Half[96], new Half[96], new Half[96]));
        Assert.Contains("shape.HeadDim", e.Message, StringComparison.Ordinal);
    }

    [CudaFact]
    public void Tensor_overload_matches_the_span_overload()
    {
        CudaTestEnvironment.SkipUnlessAvailable();
        var shape = new AttentionShape(2, 4, 2, 19, 23, 16, 8);
        var random = TestRandom.Create(nameof(Tensor_overload_matches_the_span_overload));
        var bias = new AttentionBias(TestData.Random<float>(random, 4L * 19 * 23, 1f), 1, 4);
        var options = new AttentionOptions { Causal = CausalMask.BottomRight, Bias = bias };
        var q = TestData.Random<Half>(random, shape.QueryElementCount, 1f);
        var k = TestData.Random<Half>(random, shape.KeyElementCount, 1f);
        var v = TestData.Random<Half>(random, shape.ValueElementCount, 1f);
        var dO = TestData.Random<Half>(random, shape.OutputElementCount, 1f);
        using var backend = new CudaBackend();
        var o = new Half[shape.OutputElementCount];
        var lse = new float[shape.LogSumExpElementCount];
        backend.ScaledDotProductAttention<Half>(shape, q, k, v, o, options, lse);
        var spanGrads = (Q: new Half[q.Length], K: new Half[k.Length], V: new Half[v.Length], Bias: new float[bias.Length]);
        backend.ScaledDotProductAttentionBackward<Half>(
            shape, q, k, v, o, lse, dO, spanGrads.Q, spanGrads.K, spanGrads.V, options, spanGrads.Bias);

        using var tq = Upload(backend, q);
        using var tk = Upload(backend, k);
        using var tv = Upload(backend, v);
        using var to = Upload(backend, o);
        using var tlse = Upload(backend, lse);
        using var tdo = Upload(backend, dO);
        using var dq = Upload(backend, TestData.Poison<Half>(q.Length));
        using var dk = Upload(backend, TestData.Poison<Half>(k.Length));
        using var dv = Upload(backend, TestData.Poison<Half>(v.Length));
        using var dBias = Upload(backend, TestData.Poison<float>(bias.Length));
        backend.ScaledDotProductAttentionBackward(shape, tq, tk, tv, to, tlse, tdo, dq, dk, dv, options, dBias);

        // The kernels are the same; only the order of the fp32 atomic adds into dQ and the bias gradient may differ.
        AssertClose(spanGrads.Q, Download(dq), 1e-3);
        Assert.Equal(spanGrads.K, Download(dk));
        Assert.Equal(spanGrads.V, Download(dv));
        AssertClose(spanGrads.Bias, Download(dBias), 1e-5);
    }

    [CudaFact]
    public void Head_dims_beyond_shared_memory_throw_naming_the_option()
    {
        CudaTestEnvironment.SkipUnlessAvailable();
        var shape = new AttentionShape(1, 1, 1, 1, 1, 1200, 1200);
        using var backend = new CudaBackend();
        var q = new float[1200];
        var e = Assert.Throws<NotSupportedException>(() => backend.ScaledDotProductAttentionBackward<float>(
            shape, q, q.ToArray(), q.ToArray(), q.ToArray(), new float[1], q.ToArray(), new float[1200], new float[1200],
            new float[1200]));
        Assert.Contains("shape.HeadDim", e.Message, StringComparison.Ordinal);
    }

    private static void Check<T>(BackwardCase c, double tolerance, CudaBackendOptions? backendOptions = null)
        where T : unmanaged
    {
        CudaTestEnvironment.SkipUnlessAvailable();
        var shape = c.Shape;
        var random = TestRandom.Create(c.Name);
        var options = c.Options(random, shape);
        var qs = options.QueryStrides ?? TensorStrides.Contiguous(options.Layout, shape.QueryHeads, shape.QueryLength, shape.HeadDim);
        var ks = options.KeyStrides ?? TensorStrides.Contiguous(options.Layout, shape.KeyValueHeads, shape.KeyLength, shape.HeadDim);
        var vs = options.ValueStrides ?? TensorStrides.Contiguous(options.Layout, shape.KeyValueHeads, shape.KeyLength, shape.ValueHeadDim);
        var os = options.OutputStrides ?? TensorStrides.Contiguous(options.Layout, shape.QueryHeads, shape.QueryLength, shape.ValueHeadDim);
        var q = TestData.Random<T>(random, qs.RequiredLength(shape.Batch, shape.QueryHeads, shape.QueryLength, shape.HeadDim), c.Amplitude);
        var k = TestData.Random<T>(random, ks.RequiredLength(shape.Batch, shape.KeyValueHeads, shape.KeyLength, shape.HeadDim), c.Amplitude);
        var v = TestData.Random<T>(random, vs.RequiredLength(shape.Batch, shape.KeyValueHeads, shape.KeyLength, shape.ValueHeadDim), 1f);
        long outputLength = os.RequiredLength(shape.Batch, shape.QueryHeads, shape.QueryLength, shape.ValueHeadDim);
        var dO = TestData.Random<T>(random, outputLength, 1f);

        using var backend = new CudaBackend(backendOptions);
        var o = new T[outputLength];
        var lse = new float[shape.LogSumExpElementCount];
        backend.ScaledDotProductAttention<T>(shape, q, k, v, o, options, lse);
        var dq = TestData.Poison<T>(q.Length);
        var dk = TestData.Poison<T>(k.Length);
        var dv = TestData.Poison<T>(v.Length);
        var dBias = options.Bias is { } bias ? TestData.Poison<float>(bias.Length) : [];
        var dSinks = TestData.Poison<float>(options.Sinks.Length);
        backend.ScaledDotProductAttentionBackward<T>(shape, q, k, v, o, lse, dO, dq, dk, dv, options, dBias, dSinks);

        var expected = ReferenceAttentionBackward.Compute<T>(shape, q, k, v, dO, options);
        string where = $"{c.Name} {typeof(T).Name}; {TestRandom.Describe(TestRandom.SeedOf(c.Name))}";
        Assert.True(expected.QueryGradError<T>(dq, qs) <= tolerance, $"dQ error {expected.QueryGradError<T>(dq, qs):G3} ({where})");
        Assert.True(expected.KeyGradError<T>(dk, ks) <= tolerance, $"dK error {expected.KeyGradError<T>(dk, ks):G3} ({where})");
        Assert.True(expected.ValueGradError<T>(dv, vs) <= tolerance, $"dV error {expected.ValueGradError<T>(dv, vs):G3} ({where})");
        if (options.Bias is not null)
        {
            Assert.True(expected.BiasGradError(dBias) <= tolerance, $"biasGrad error {expected.BiasGradError(dBias):G3} ({where})");
        }

        if (dSinks.Length > 0)
        {
            Assert.True(expected.SinksGradError(dSinks) <= tolerance, $"sinksGrad error {expected.SinksGradError(dSinks):G3} ({where})");
        }

        AssertGapsPoisoned(dq, qs, shape.QueryHeads, shape.QueryLength, shape.HeadDim, shape.Batch);
        AssertGapsPoisoned(dk, ks, shape.KeyValueHeads, shape.KeyLength, shape.HeadDim, shape.Batch);
        AssertGapsPoisoned(dv, vs, shape.KeyValueHeads, shape.KeyLength, shape.ValueHeadDim, shape.Batch);
        AssertZeroWhereNothingFlows(shape, options, lse, dq, qs, dk, ks, dv, vs);
    }

    /// <summary>Fully masked rows get dQ = 0 exactly; keys past a batch entry's key length dK = dV = 0 exactly.</summary>
    private static void AssertZeroWhereNothingFlows<T>(
        AttentionShape shape, AttentionOptions options, float[] lse, T[] dq, TensorStrides qs, T[] dk, TensorStrides ks, T[] dv,
        TensorStrides vs)
        where T : unmanaged
    {
        for (int b = 0; b < shape.Batch; b++)
        {
            for (int h = 0; h < shape.QueryHeads; h++)
            {
                for (int i = 0; i < shape.QueryLength; i++)
                {
                    if (float.IsNegativeInfinity(lse[((((long)b * shape.QueryHeads) + h) * shape.QueryLength) + i]))
                    {
                        long start = (b * qs.Batch) + (h * qs.Head) + (i * qs.Sequence);
                        Assert.All(dq.AsSpan((int)start, shape.HeadDim).ToArray(), x => Assert.Equal(0.0, TestData.ToDouble(x)));
                    }
                }
            }

            int length = options.KeyLengths.IsEmpty ? shape.KeyLength : options.KeyLengths.Span[b];
            for (int h = 0; h < shape.KeyValueHeads; h++)
            {
                for (int j = length; j < shape.KeyLength; j++)
                {
                    long kStart = (b * ks.Batch) + (h * ks.Head) + (j * ks.Sequence);
                    long vStart = (b * vs.Batch) + (h * vs.Head) + (j * vs.Sequence);
                    Assert.All(dk.AsSpan((int)kStart, shape.HeadDim).ToArray(), x => Assert.Equal(0.0, TestData.ToDouble(x)));
                    Assert.All(dv.AsSpan((int)vStart, shape.ValueHeadDim).ToArray(), x => Assert.Equal(0.0, TestData.ToDouble(x)));
                }
            }
        }
    }

    /// <summary>Elements between the rows of a strided gradient are not the gradient's: they keep their poison.</summary>
    private static void AssertGapsPoisoned<T>(T[] gradient, TensorStrides strides, int heads, int length, int dim, int batch)
        where T : unmanaged
    {
        var covered = new bool[gradient.Length];
        for (int b = 0; b < batch; b++)
        {
            for (int h = 0; h < heads; h++)
            {
                for (int s = 0; s < length; s++)
                {
                    long start = (b * strides.Batch) + (h * strides.Head) + (s * strides.Sequence);
                    covered.AsSpan((int)start, dim).Fill(true);
                }
            }
        }

        for (int n = 0; n < gradient.Length; n++)
        {
            if (!covered[n])
            {
                Assert.True(double.IsNaN(TestData.ToDouble(gradient[n])), $"the gap element {n} was written");
            }
        }
    }

    private static void AssertClose<T>(T[] expected, T[] actual, double tolerance)
        where T : unmanaged
    {
        Assert.Equal(expected.Length, actual.Length);
        double norm = 0;
        double difference = 0;
        for (int n = 0; n < expected.Length; n++)
        {
            double e = TestData.ToDouble(expected[n]);
            double d = TestData.ToDouble(actual[n]) - e;
            norm += e * e;
            difference += d * d;
        }

        Assert.True(Math.Sqrt(difference) <= tolerance * Math.Max(Math.Sqrt(norm), 1e-30), $"relative difference {Math.Sqrt(difference / norm):G3}");
    }

    private static AttentionTensor<T> Upload<T>(CudaBackend backend, T[] values)
        where T : unmanaged
    {
        var tensor = backend.Allocate<T>(values.Length);
        tensor.CopyFrom(values);
        return tensor;
    }

    private static T[] Download<T>(AttentionTensor<T> tensor)
        where T : unmanaged
    {
        var values = new T[tensor.Length];
        tensor.CopyTo(values);
        return values;
    }

    private static IEnumerable<BackwardCase> Build()
    {
        foreach (var c in MmaCases())
        {
            yield return c;
        }

        yield return new("plain-19x21-d16", new(2, 3, 3, 19, 21, 16, 16));
        yield return new("odd-7x33-d33-dv7", new(1, 2, 2, 7, 33, 33, 7));
        yield return new("tiny-1x1-d1", new(1, 1, 1, 1, 1, 1, 1));
        yield return new("headdim-64", new(1, 1, 1, 17, 18, 64, 64));
        yield return new("headdim-128", new(1, 1, 1, 9, 17, 128, 128));
        yield return new("scale-explicit", new(1, 2, 2, 12, 20, 8, 8)) { Options = (_, _) => new() { Scale = 0.37f } };
        yield return new("causal-topleft-20x17", new(1, 2, 2, 20, 17, 8, 8)) { Options = (_, _) => new() { Causal = CausalMask.TopLeft } };
        yield return new("causal-bottomright-9x30", new(1, 2, 2, 9, 30, 8, 8)) { Options = (_, _) => new() { Causal = CausalMask.BottomRight } };
        yield return new("causal-bottomright-30x9", new(1, 1, 1, 30, 9, 8, 8)) { Options = (_, _) => new() { Causal = CausalMask.BottomRight } };
        yield return new("window-both", new(1, 2, 2, 40, 45, 8, 8)) { Options = (_, _) => new() { Window = new(7, 3) } };
        yield return new("softcap", new(1, 2, 2, 17, 33, 16, 16)) { Amplitude = 3f, Options = (_, _) => new() { Softcap = 5f } };
        yield return new("keylengths", new(3, 2, 2, 18, 37, 8, 8)) { Options = (_, _) => new() { KeyLengths = new[] { 37, 0, 20 } } };
        yield return new("mask-broadcast-heads", new(2, 3, 3, 17, 19, 8, 8))
        {
            Options = (r, s) => new() { Mask = new AttentionMask(Bools(r, 2L * s.QueryLength * s.KeyLength, 0.6), 2, 1) },
        };
        yield return new("mask-sparse-empty-rows", new(1, 2, 2, 17, 5, 8, 8))
        {
            Options = (r, s) => new() { Mask = new AttentionMask(Bools(r, 2L * s.QueryLength * s.KeyLength, 0.15), 1, 2) },
        };
        yield return new("bias-broadcast-batch", new(2, 3, 3, 17, 19, 8, 8))
        {
            Options = (r, s) => new() { Bias = new AttentionBias(TestData.Random<float>(r, 3L * s.QueryLength * s.KeyLength, 2f), 1, 3) },
        };
        yield return new("bias-full-softcap-causal", new(2, 2, 1, 17, 19, 8, 8))
        {
            Options = (r, s) => new()
            {
                Bias = new AttentionBias(TestData.Random<float>(r, 4L * s.QueryLength * s.KeyLength, 2f), 2, 2),
                Softcap = 4f,
                Causal = CausalMask.TopLeft,
            },
        };
        yield return new("gqa-6-2", new(1, 6, 2, 17, 21, 8, 8));
        yield return new("mqa-4-1-causal", new(2, 4, 1, 18, 18, 16, 16)) { Options = (_, _) => new() { Causal = CausalMask.TopLeft } };
        yield return new("bshd-gqa", new(2, 4, 2, 17, 19, 8, 12)) { Options = (_, _) => new() { Layout = AttentionLayout.Bshd } };
        yield return new("padded-strides", new(2, 2, 1, 17, 19, 8, 6))
        {
            Options = (_, s) => new()
            {
                QueryStrides = new(2L * 17 * 11, 17L * 11, 11),
                KeyStrides = new(19L * 10, 19L * 10, 10),
                ValueStrides = new(19L * 9, 19L * 9, 9),
                OutputStrides = new(2L * 17 * 7, 7, 2L * 7),
            },
        };
        // Sinks: rows that see no key (key length 0, bottom-right rows above the diagonal) have lse = the sink.
        yield return new("sinks-gqa-masked-rows", new(2, 4, 2, 21, 13, 8, 8))
        {
            Options = (r, _) => new()
            {
                Sinks = new[] { 1.5f, -1f, 0.25f, 3f },
                Causal = CausalMask.BottomRight,
                KeyLengths = new[] { 13, 0 },
            },
        };
        yield return new("everything", new(2, 4, 2, 21, 23, 12, 10))
        {
            Options = (r, s) => new()
            {
                Causal = CausalMask.BottomRight,
                Window = new(9, -1),
                Softcap = 6f,
                KeyLengths = new[] { 23, 11 },
                Mask = new AttentionMask(Bools(r, 4L * s.QueryLength * s.KeyLength, 0.8), 1, 4),
                Bias = new AttentionBias(TestData.Random<float>(r, 2L * s.QueryLength * s.KeyLength, 1f), 2, 1),
                Layout = AttentionLayout.Bshd,
            },
        };
    }

    private static IEnumerable<BackwardCase> MmaCases()
    {
        // attention_backward_mma's shapes (Half and BFloat16 with D = Dv = 64 or 128): several key blocks of 64 and
        // query blocks of 64 (D = 64) or 16 (D = 128), so dQ sums over CTAs and dK, dV over query blocks and heads.
        yield return new("mma-d64-everything", new(1, 4, 2, 66, 70, 64, 64))
        {
            Options = (r, s) => new()
            {
                Causal = CausalMask.BottomRight,
                Softcap = 6f,
                KeyLengths = new[] { 67 },
                Mask = new AttentionMask(Bools(r, (long)s.QueryLength * s.KeyLength, 0.85)),
                Bias = new AttentionBias(TestData.Random<float>(r, 4L * s.QueryLength * s.KeyLength, 1f), 1, 4),
            },
        };
        yield return new("mma-d128-gqa-causal", new(1, 2, 1, 40, 70, 128, 128)) { Options = (_, _) => new() { Causal = CausalMask.TopLeft } };
        yield return new("mma-d64-sinks", new(2, 4, 2, 33, 70, 64, 64))
        {
            Options = (_, _) => new() { Sinks = new[] { 0.5f, 2f, -1f, 4f }, Causal = CausalMask.TopLeft },
        };
        yield return new("mma-d64-bshd-padded", new(2, 2, 2, 20, 65, 64, 64))
        {
            Options = (_, s) => new()
            {
                Layout = AttentionLayout.Bshd,
                KeyStrides = new(65L * 2 * 72, 72, 2 * 72),
                ValueStrides = new(65L * 2 * 72, 72, 2 * 72),
            },
        };
    }

    private static bool[] Bools(Random random, long length, double density)
    {
        var values = new bool[length];
        for (long n = 0; n < length; n++)
        {
            values[n] = random.NextDouble() < density;
        }

        return values;
    }
}
