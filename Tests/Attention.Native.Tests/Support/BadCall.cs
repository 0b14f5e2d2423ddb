using Attention.Native.Cpu;

namespace Attention.Native.Tests.Support;

/// <summary>
/// An attention call that validation must reject: a shape, options and operand lengths, all valid until a test
/// changes one. <see cref="HostOperands"/> and <see cref="TensorOperands"/> run it through spans and tensors.
/// </summary>
internal sealed record BadCall
{
    /// <summary>What every output holds before the call; a rejected call must leave it there.</summary>
    public const float Sentinel = -31.5f;

    /// <summary>A valid GQA shape in which Lq ≠ Lk and Dv ≠ D, so that a mixed-up size cannot pass by accident.</summary>
    public static AttentionShape ValidShape { get; } = new(
        Batch: 3, QueryHeads: 4, KeyValueHeads: 2, QueryLength: 5, KeyLength: 7, HeadDim: 8, ValueHeadDim: 6);

    public AttentionShape Shape { get; init; } = ValidShape;

    public AttentionOptions Options { get; init; } = AttentionOptions.Default;

    public long QueryLength { get; init; } = ValidShape.QueryElementCount;

    public long KeyLength { get; init; } = ValidShape.KeyElementCount;

    public long ValueLength { get; init; } = ValidShape.ValueElementCount;

    public long OutputLength { get; init; } = ValidShape.OutputElementCount;

    public long LogSumExpLength { get; init; } = ValidShape.LogSumExpElementCount;

    public long ProbabilitiesLength { get; init; } = ValidShape.ProbabilitiesElementCount;

    /// <summary>A call on <see cref="ValidShape"/> whose operands are exactly as long as <paramref name="options"/>' strides need.</summary>
    public static BadCall For(AttentionOptions options)
    {
        var s = ValidShape;
        long Needed(TensorStrides? strides, int heads, int length, int dim) =>
            (strides ?? TensorStrides.Contiguous(options.Layout, heads, length, dim)).RequiredLength(s.Batch, heads, length, dim);

        return new BadCall
        {
            Options = options,
            QueryLength = Needed(options.QueryStrides, s.QueryHeads, s.QueryLength, s.HeadDim),
            KeyLength = Needed(options.KeyStrides, s.KeyValueHeads, s.KeyLength, s.HeadDim),
            ValueLength = Needed(options.ValueStrides, s.KeyValueHeads, s.KeyLength, s.ValueHeadDim),
            OutputLength = Needed(options.OutputStrides, s.QueryHeads, s.QueryLength, s.ValueHeadDim),
        };
    }

    /// <summary>A backend that ignores the environment (other tests set the variant variable).</summary>
    public static CpuBackend NewBackend() => new(new CpuBackendOptions { ThreadCount = 2, Variant = CpuKernelVariant.Scalar });

    public static float[] Sentinels(long length)
    {
        var values = new float[Math.Max(length, 0)];
        Array.Fill(values, Sentinel);
        return values;
    }

    /// <summary>A call with a host-memory mask or bias of the given broadcast shape and element count.</summary>
    public static BadCall WithScores(bool bias, int batch, int heads, long length)
    {
        var random = TestRandom.Create(10);
        var options = bias
            ? new AttentionOptions { Bias = new AttentionBias(TestData.RandomBias(random, length), batch, heads) }
            : new AttentionOptions { Mask = new AttentionMask(TestData.RandomMask(random, length), batch, heads) };
        return new BadCall { Options = options };
    }

    /// <summary>Runs <paramref name="call"/> on <paramref name="backend"/> through spans and through tensors; both must
    /// throw <typeparamref name="TException"/> naming <paramref name="named"/> and <paramref name="parameter"/>, and
    /// write nothing.</summary>
    public static TException[] Rejected<TException>(AttentionBackend backend, BadCall call, string named, string parameter)
        where TException : Exception
    {
        var host = new HostOperands(call);
        var viaSpans = Assert.Throws<TException>(() => host.Run(backend, call));
        host.AssertOutputsUntouched();
        using var tensors = new TensorOperands(new HostOperands(call), _ => backend);
        var viaTensors = Assert.Throws<TException>(() => tensors.Run(backend, call));
        tensors.AssertOutputsUntouched();
        AssertNames(viaSpans, named, parameter);
        AssertNames(viaTensors, named, parameter);
        return [viaSpans, viaTensors];
    }

    /// <summary>The error is an <see cref="ArgumentException"/> for <paramref name="parameter"/> whose message names
    /// <paramref name="named"/>.</summary>
    public static void AssertNames(Exception error, string named, string parameter)
    {
        Assert.Contains(named, error.Message, StringComparison.Ordinal);
        Assert.Equal(parameter, Assert.IsAssignableFrom<ArgumentException>(error).ParamName);
    }

    public static void AssertSentinels(ReadOnlySpan<float> values, string name)
    {
        for (int i = 0; i < values.Length; i++)
        {
            Assert.True(values[i] == Sentinel, $"{name}[{i}] was overwritten with {values[i]} by a rejected call");
        }
    }
}
