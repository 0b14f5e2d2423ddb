using Attention.Native.Cpu;

namespace Attention.Native.Tests.Backward;

/// <summary>
/// Bad backward calls are rejected before anything is written: the exception names the parameter, and every gradient
/// still holds its sentinel.
/// </summary>
public sealed class BackwardValidationTests
{
    private static readonly AttentionShape Shape = BadCall.ValidShape;

    public static TheoryData<string> Gradients => new("queryGrad", "keyGrad", "valueGrad");

    [Fact]
    public void The_unmodified_call_is_valid()
    {
        var call = new Call();
        using var backend = BadCall.NewBackend();
        call.Run(backend);
        Assert.DoesNotContain(BadCall.Sentinel, call.QueryGrad);
        Assert.DoesNotContain(BadCall.Sentinel, call.KeyGrad);
        Assert.DoesNotContain(BadCall.Sentinel, call.ValueGrad);
    }

    [Theory]
    [MemberData(nameof(Gradients))]
    public void Gradient_shorter_than_its_operand(string name)
    {
        var call = new Call();
        call.Shorten(name);
        AssertRejected<ArgumentException>(call, name);
    }

    [Theory]
    [InlineData("outputGrad")]
    [InlineData("logSumExp")]
    [InlineData("output")]
    public void Input_shorter_than_needed(string name)
    {
        var call = new Call();
        call.Shorten(name);
        AssertRejected<ArgumentException>(call, name);
    }

    [Fact]
    public void Bias_gradient_without_a_bias()
    {
        var call = new Call { BiasGrad = BadCall.Sentinels(Shape.QueryLength * Shape.KeyLength) };
        AssertRejected<ArgumentException>(call, "biasGrad");
    }

    [Theory]
    [InlineData(1, 1, 2)]
    [InlineData(3, 1, 1)]
    [InlineData(1, 4, 3)]
    public void Bias_gradient_not_the_bias_length(int batch, int heads, int planes)
    {
        long plane = (long)Shape.QueryLength * Shape.KeyLength;
        var bias = new AttentionBias(new float[batch * heads * plane], batch, heads);
        var call = new Call { Options = new() { Bias = bias }, BiasGrad = BadCall.Sentinels(planes * plane) };
        AssertRejected<ArgumentException>(call, "biasGrad");
    }

    [Fact]
    public void Key_broadcast_by_zero_strides_cannot_take_a_gradient()
    {
        // Reading one K row for every head is fine; writing every head's dK to it would race.
        var strides = new TensorStrides(0, 0, Shape.HeadDim);
        var call = new Call { Options = new() { KeyStrides = strides } };
        call.Resize("key", (long)Shape.KeyLength * Shape.HeadDim);
        var e = AssertRejected<ArgumentException>(call, "options");
        Assert.Contains("keyGrad", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("queryGrad", "query")]
    [InlineData("keyGrad", "queryGrad")]
    [InlineData("valueGrad", "outputGrad")]
    [InlineData("queryGrad", "logSumExp")]
    public void Gradient_overlapping_another_operand(string written, string other)
    {
        var call = new Call();
        call.Share(written, other);
        var e = AssertRejected<ArgumentException>(call, written);
        Assert.Contains(other, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Sinks_gradient_without_sinks()
    {
        var call = new Call { SinksGrad = BadCall.Sentinels(Shape.QueryHeads) };
        AssertRejected<ArgumentException>(call, "sinksGrad");
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(1)]
    public void Sinks_gradient_not_one_per_query_head(int extra)
    {
        var sinks = new float[Shape.QueryHeads];
        var call = new Call { Options = new() { Sinks = sinks }, SinksGrad = BadCall.Sentinels(Shape.QueryHeads + extra) };
        AssertRejected<ArgumentException>(call, "sinksGrad");
    }

    [Fact]
    public void Sinks_gradient_overlapping_another_gradient()
    {
        var call = new Call { Options = new() { Sinks = new float[Shape.QueryHeads] } };
        var shared = call.ValueGrad.AsMemory(0, Shape.QueryHeads);
        var e = Assert.Throws<ArgumentException>(() =>
        {
            using var backend = BadCall.NewBackend();
            backend.ScaledDotProductAttentionBackward<float>(Shape, call.Query, call.Key, call.Value, call.Output, call.LogSumExp,
                call.OutputGrad, call.QueryGrad, call.KeyGrad, call.ValueGrad, call.Options, default, shared.Span);
        });
        Assert.Equal("sinksGrad", e.ParamName);
        Assert.Contains("valueGrad", e.Message, StringComparison.Ordinal);
        Assert.All(call.ValueGrad, x => Assert.Equal(BadCall.Sentinel, x));
    }

    [Fact]
    public void Bias_gradient_overlapping_the_bias()
    {
        long plane = (long)Shape.QueryLength * Shape.KeyLength;
        var shared = new float[plane];
        var call = new Call { Options = new() { Bias = new AttentionBias(shared) }, BiasGrad = shared };
        AssertRejected<ArgumentException>(call, "biasGrad");
    }

    [Fact]
    public void Tensor_gradient_that_is_an_input()
    {
        using var backend = BadCall.NewBackend();
        var t = new Call().Upload(backend, backend);
        try
        {
            var e = Assert.Throws<ArgumentException>(() => backend.ScaledDotProductAttentionBackward(
                Shape, t[0], t[1], t[2], t[3], t[4], t[5], t[0], t[7], t[8]));
            Assert.Equal("queryGrad", e.ParamName);
            Assert.DoesNotContain(t[7].ToArray(), x => x != BadCall.Sentinel);
        }
        finally
        {
            Array.ForEach(t, tensor => tensor.Dispose());
        }
    }

    [Fact]
    public void Tensor_of_another_backend()
    {
        using var backend = BadCall.NewBackend();
        using var other = BadCall.NewBackend();
        var t = new Call().Upload(backend, other);
        try
        {
            var e = Assert.Throws<ArgumentException>(() => backend.ScaledDotProductAttentionBackward(
                Shape, t[0], t[1], t[2], t[3], t[4], t[5], t[6], t[7], t[8]));
            Assert.Equal("queryGrad", e.ParamName);
        }
        finally
        {
            Array.ForEach(t, tensor => tensor.Dispose());
        }
    }

    [Fact]
    public void Disposed_backend()
    {
        var backend = BadCall.NewBackend();
        backend.Dispose();
        Assert.Throws<ObjectDisposedException>(() => new Call().Run(backend));
    }

    private static TException AssertRejected<TException>(Call call, string parameter)
        where TException : ArgumentException
    {
        using var backend = BadCall.NewBackend();
        var before = call.Snapshot();
        var e = Assert.Throws<TException>(() => call.Run(backend));
        Assert.Equal(parameter, e.ParamName);
        Assert.Equal(before, call.Snapshot());
        return e;
    }

    /// <summary>A valid backward call on host arrays, from a forward on the same operands, until a test changes it.</summary>
    private sealed class Call
    {
        private readonly Dictionary<string, float[]> arrays;

        public Call()
        {
            var random = TestRandom.Create(15);
            arrays = new()
            {
                ["query"] = TestData.Random<float>(random, Shape.QueryElementCount, 1f),
                ["key"] = TestData.Random<float>(random, Shape.KeyElementCount, 1f),
                ["value"] = TestData.Random<float>(random, Shape.ValueElementCount, 1f),
                ["output"] = new float[Shape.OutputElementCount],
                ["logSumExp"] = new float[Shape.LogSumExpElementCount],
                ["outputGrad"] = TestData.Random<float>(random, Shape.OutputElementCount, 1f),
                ["queryGrad"] = BadCall.Sentinels(Shape.QueryElementCount),
                ["keyGrad"] = BadCall.Sentinels(Shape.KeyElementCount),
                ["valueGrad"] = BadCall.Sentinels(Shape.ValueElementCount),
            };
            using var backend = new CpuBackend();
            backend.ScaledDotProductAttention<float>(Shape, Query, Key, Value, Output, null, LogSumExp);
        }

        public AttentionOptions? Options { get; init; }

        public float[] BiasGrad { get; init; } = [];

        public float[] SinksGrad { get; init; } = [];

        public float[] Query => arrays["query"];

        public float[] Key => arrays["key"];

        public float[] Value => arrays["value"];

        public float[] Output => arrays["output"];

        public float[] LogSumExp => arrays["logSumExp"];

        public float[] OutputGrad => arrays["outputGrad"];

        public float[] QueryGrad => arrays["queryGrad"];

        public float[] KeyGrad => arrays["keyGrad"];

        public float[] ValueGrad => arrays["valueGrad"];

        /// <summary>Copies of every array (the gradients included), to show that a rejected call wrote nothing.</summary>
        public float[][] Snapshot() =>
            [.. arrays.Values.Select(a => (float[])a.Clone()), (float[])BiasGrad.Clone(), (float[])SinksGrad.Clone()];

        /// <summary>
        /// Q, K, V, O, the LSE, dO, dQ, dK, dV as tensors of <paramref name="backend"/>, dQ of <paramref name="queryGradBackend"/>.
        /// </summary>
        public AttentionTensor<float>[] Upload(AttentionBackend backend, AttentionBackend queryGradBackend) =>
        [
            backend.Upload<float>(Query), backend.Upload<float>(Key), backend.Upload<float>(Value), backend.Upload<float>(Output),
            backend.Upload<float>(LogSumExp), backend.Upload<float>(OutputGrad), queryGradBackend.Upload<float>(QueryGrad),
            backend.Upload<float>(KeyGrad), backend.Upload<float>(ValueGrad),
        ];

        public void Shorten(string name) => Resize(name, arrays[name].Length - 1);

        public void Resize(string name, long length)
        {
            var resized = arrays[name];
            Array.Resize(ref resized, (int)length);
            arrays[name] = resized;
        }

        /// <summary>Makes <paramref name="written"/> a view of <paramref name="other"/>'s memory.</summary>
        public void Share(string written, string other)
        {
            var shared = new float[Math.Max(arrays[written].Length, arrays[other].Length)];
            Array.Fill(shared, BadCall.Sentinel);
            arrays[other].CopyTo(shared, 0);
            arrays[other] = shared;
            arrays[written] = shared;
        }

        public void Run(AttentionBackend backend)
        {
            backend.ScaledDotProductAttentionBackward<float>(
                Shape, Query, Key, Value, Output, LogSumExp, OutputGrad, QueryGrad, KeyGrad, ValueGrad, Options, BiasGrad, SinksGrad);
        }
    }
}
