using Attention.Native.Cpu;

namespace Attention.Native.Tests.Api;

/// <summary>
/// One test per validation rule: the exception type, the parameter and option it names, and that a rejected call
/// wrote nothing, through the span overload and the tensor overload alike.
/// </summary>
public sealed class ValidationTests
{
    private static readonly AttentionShape Valid = BadCall.ValidShape;

    /// <summary>Elements of one Lq×Lk mask or bias plane.</summary>
    private static readonly long Plane = (long)Valid.QueryLength * Valid.KeyLength;

    public static TheoryData<string> Inputs => new("query", "key", "value");

    public static TheoryData<string> Operands => new("query", "key", "value", "output");

    public static TheoryData<string> AllTensors => new(TensorOperands.Names);

    public static TheoryData<string, string> OperandsByLayout =>
        Pairs(["query", "key", "value", "output"], ["Bhsd", "Bshd", "Strided"]);

    public static TheoryData<string, string> StrideComponents =>
        Pairs(["query", "key", "value", "output"], ["Batch", "Head", "Sequence"]);

    [Fact]
    public void The_unmodified_call_is_valid()
    {
        // The baseline every other test breaks one thing of: it must pass, and write every output.
        using var backend = BadCall.NewBackend();
        var call = new BadCall();
        var host = new HostOperands(call);
        host.Run(backend, call);
        using var tensors = new TensorOperands(new HostOperands(call), _ => backend);
        tensors.Run(backend, call);
        Assert.DoesNotContain(BadCall.Sentinel, host.Output);
        Assert.DoesNotContain(BadCall.Sentinel, tensors["logSumExp"].ToArray());
    }

    [Theory]
    [InlineData(nameof(AttentionShape.Batch), 0)]
    [InlineData(nameof(AttentionShape.Batch), -1)]
    [InlineData(nameof(AttentionShape.QueryHeads), 0)]
    [InlineData(nameof(AttentionShape.QueryHeads), -4)]
    [InlineData(nameof(AttentionShape.KeyValueHeads), 0)]
    [InlineData(nameof(AttentionShape.KeyValueHeads), -2)]
    [InlineData(nameof(AttentionShape.QueryLength), 0)]
    [InlineData(nameof(AttentionShape.QueryLength), int.MinValue)]
    [InlineData(nameof(AttentionShape.KeyLength), 0)]
    [InlineData(nameof(AttentionShape.KeyLength), -7)]
    [InlineData(nameof(AttentionShape.HeadDim), 0)]
    [InlineData(nameof(AttentionShape.HeadDim), -1)]
    [InlineData(nameof(AttentionShape.ValueHeadDim), 0)]
    [InlineData(nameof(AttentionShape.ValueHeadDim), -6)]
    public void Shape_dimension_below_one(string dimension, int value)
    {
        var shape = dimension switch
        {
            nameof(AttentionShape.Batch) => Valid with { Batch = value },
            nameof(AttentionShape.QueryHeads) => Valid with { QueryHeads = value },
            nameof(AttentionShape.KeyValueHeads) => Valid with { KeyValueHeads = value },
            nameof(AttentionShape.QueryLength) => Valid with { QueryLength = value },
            nameof(AttentionShape.KeyLength) => Valid with { KeyLength = value },
            nameof(AttentionShape.HeadDim) => Valid with { HeadDim = value },
            _ => Valid with { ValueHeadDim = value },
        };
        Rejected<ArgumentOutOfRangeException>(new BadCall { Shape = shape }, $"shape.{dimension}", "shape");
    }

    [Theory]
    [InlineData(6, 4)]
    [InlineData(4, 3)]
    [InlineData(2, 4)]
    public void Query_heads_not_a_multiple_of_key_value_heads(int queryHeads, int keyValueHeads)
    {
        var call = new BadCall { Shape = Valid with { QueryHeads = queryHeads, KeyValueHeads = keyValueHeads } };
        var errors = Rejected<ArgumentException>(call, "KeyValueHeads", "shape");
        Assert.All(errors, e => Assert.Contains("QueryHeads", e.Message, StringComparison.Ordinal));
    }

    [Theory]
    [MemberData(nameof(OperandsByLayout))]
    public void Operand_shorter_than_its_layout_needs(string operand, string layout)
    {
        var options = layout switch
        {
            "Bhsd" => new AttentionOptions { Layout = AttentionLayout.Bhsd },
            "Bshd" => new AttentionOptions { Layout = AttentionLayout.Bshd },
            _ => new AttentionOptions
            {
                // Rows of a wider packed buffer, batches with a gap: what a slice of a QKV projection looks like.
                QueryStrides = Padded(Valid.QueryHeads, Valid.QueryLength, Valid.HeadDim),
                KeyStrides = Padded(Valid.KeyValueHeads, Valid.KeyLength, Valid.HeadDim),
                ValueStrides = Padded(Valid.KeyValueHeads, Valid.KeyLength, Valid.ValueHeadDim),
                OutputStrides = Padded(Valid.QueryHeads, Valid.QueryLength, Valid.ValueHeadDim),
            },
        };
        var call = BadCall.For(options);
        call = operand switch
        {
            "query" => call with { QueryLength = call.QueryLength - 1 },
            "key" => call with { KeyLength = call.KeyLength - 1 },
            "value" => call with { ValueLength = call.ValueLength - 1 },
            _ => call with { OutputLength = call.OutputLength - 1 },
        };
        Rejected<ArgumentException>(call, operand, operand);
    }

    [Theory]
    [InlineData("logSumExp")]
    [InlineData("probabilities")]
    public void Optional_output_too_small(string output)
    {
        var call = output == "logSumExp"
            ? new BadCall { LogSumExpLength = Valid.LogSumExpElementCount - 1 }
            : new BadCall { ProbabilitiesLength = Valid.ProbabilitiesElementCount - 1 };
        Rejected<ArgumentException>(call, output, output);
    }

    [Theory]
    [InlineData(float.NaN)]
    [InlineData(float.PositiveInfinity)]
    [InlineData(float.NegativeInfinity)]
    public void Scale_not_finite(float scale) =>
        Rejected<ArgumentOutOfRangeException>(new BadCall { Options = new() { Scale = scale } }, "options.Scale", "options");

    [Theory]
    [InlineData(-1f)]
    [InlineData(-float.Epsilon)]
    [InlineData(float.NaN)]
    [InlineData(float.PositiveInfinity)]
    [InlineData(float.NegativeInfinity)]
    public void Softcap_negative_or_not_finite(float softcap) =>
        Rejected<ArgumentOutOfRangeException>(new BadCall { Options = new() { Softcap = softcap } }, "options.Softcap", "options");

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(4)]
    public void Key_lengths_not_one_per_batch_entry(int count)
    {
        var random = TestRandom.Create(count);
        var lengths = Enumerable.Range(0, count).Select(_ => random.Next(Valid.KeyLength + 1)).ToArray();
        Rejected<ArgumentException>(new BadCall { Options = new() { KeyLengths = lengths } }, "options.KeyLengths", "options");
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(int.MinValue)]
    [InlineData(8)]
    [InlineData(int.MaxValue)]
    public void Key_length_outside_zero_to_key_length(int bad)
    {
        var options = new AttentionOptions { KeyLengths = new[] { Valid.KeyLength, bad, 0 } };
        Rejected<ArgumentOutOfRangeException>(new BadCall { Options = options }, "options.KeyLengths", "options");
    }

    [Theory]
    [InlineData(false, 0)]
    [InlineData(false, 2)]
    [InlineData(false, 4)]
    [InlineData(true, 0)]
    [InlineData(true, 2)]
    public void Mask_or_bias_batch_not_one_or_the_batch_size(bool bias, int batch) =>
        Rejected<ArgumentException>(Scores(bias, batch, 1, Math.Max(batch, 1) * Plane), $"options.{ScoresName(bias)}.Batch", "options");

    [Theory]
    [InlineData(false, 0)]
    [InlineData(false, 2)]
    [InlineData(false, 3)]
    [InlineData(true, 2)]
    [InlineData(true, 5)]
    public void Mask_or_bias_heads_not_one_or_the_query_heads(bool bias, int heads) =>
        Rejected<ArgumentException>(Scores(bias, 1, heads, Math.Max(heads, 1) * Plane), $"options.{ScoresName(bias)}.Heads", "options");

    [Theory]
    [InlineData(false, 1, 1)]
    [InlineData(false, 3, 4)]
    [InlineData(true, 3, 1)]
    [InlineData(true, 1, 4)]
    public void Mask_or_bias_too_short(bool bias, int batch, int heads)
    {
        var call = Scores(bias, batch, heads, (batch * heads * Plane) - 1);
        var errors = Rejected<ArgumentException>(call, $"options.{ScoresName(bias)}", "options");
        Assert.All(errors, e => Assert.Contains("needs", e.Message, StringComparison.Ordinal));
    }

    [Theory]
    [MemberData(nameof(StrideComponents))]
    public void Negative_stride(string operand, string component)
    {
        var strides = TensorStrides.Contiguous(AttentionLayout.Bhsd, Valid.QueryHeads, Valid.QueryLength, Valid.HeadDim);
        strides = component switch
        {
            "Batch" => strides with { Batch = -1 },
            "Head" => strides with { Head = -strides.Head },
            _ => strides with { Sequence = long.MinValue },
        };
        string option = $"options.{char.ToUpperInvariant(operand[0])}{operand[1..]}Strides";
        Rejected<ArgumentOutOfRangeException>(new BadCall { Options = WithStrides(operand, strides) }, option, "options");
    }

    [Theory]
    [InlineData(30, 6, 5)] // rows overlap: Sequence < Dv
    [InlineData(120, 0, 6)] // every head writes the same rows
    [InlineData(30, 30, 6)] // batches alias heads
    [InlineData(0, 30, 6)] // batches alias each other
    [InlineData(120, 6, 18)] // heads interleave with rows, but rows are too close for 4 heads
    public void Overlapping_output_strides(long batch, long head, long sequence)
    {
        var options = new AttentionOptions { OutputStrides = new TensorStrides(batch, head, sequence) };
        Rejected<ArgumentException>(new BadCall { Options = options }, "options.OutputStrides", "options");
    }

    [Theory]
    [MemberData(nameof(Operands))]
    public void Strides_whose_extent_overflows_a_long(string operand)
    {
        // (B − 1)·stride wraps past long.MaxValue to a small number; unchecked, the kernels index terabytes away.
        var strides = new TensorStrides((1L << 62) + (1L << 40), 64, 8);
        Rejected<ArgumentException>(new BadCall { Options = WithStrides(operand, strides) }, operand, operand);
    }

    [Fact]
    public void Shape_whose_contiguous_query_extent_overflows_a_long()
    {
        // Hq·Lq·D = 2^64: the batch stride wraps to 0 and the old length check wrapped to exactly 0 as well.
        var shape = new AttentionShape(2, 1 << 21, 1 << 21, 1 << 21, 1, 1 << 22, 1);
        Rejected<ArgumentException>(new BadCall { Shape = shape }, "query", "query");
    }

    [Theory]
    [InlineData(nameof(AttentionOptions.Layout), 2)]
    [InlineData(nameof(AttentionOptions.Layout), -1)]
    [InlineData(nameof(AttentionOptions.Causal), 3)]
    [InlineData(nameof(AttentionOptions.Causal), -1)]
    public void Undefined_layout_or_causal_value(string option, int value)
    {
        var options = option == nameof(AttentionOptions.Layout)
            ? new AttentionOptions { Layout = (AttentionLayout)value }
            : new AttentionOptions { Causal = (CausalMask)value };
        Rejected<ArgumentOutOfRangeException>(new BadCall { Options = options }, $"options.{option}", "options");
    }

    [Theory]
    [InlineData("query", true)]
    [InlineData("query", false)]
    [InlineData("key", true)]
    [InlineData("key", false)]
    [InlineData("value", true)]
    [InlineData("value", false)]
    public void Output_span_overlapping_an_input(string input, bool fromStart)
    {
        using var backend = BadCall.NewBackend();
        var call = new BadCall();
        var host = new HostOperands(call);
        float[] values = input switch { "query" => host.Query, "key" => host.Key, _ => host.Value };

        // One buffer holds the input and then sentinels; the output starts at the input's start or its last element.
        var buffer = BadCall.Sentinels(values.Length + host.Output.Length);
        values.CopyTo(buffer, 0);
        var before = (float[])buffer.Clone();
        int outputStart = fromStart ? 0 : values.Length - 1;
        var error = Assert.Throws<ArgumentException>(() =>
        {
            ReadOnlySpan<float> aliased = buffer.AsSpan(0, values.Length);
            backend.ScaledDotProductAttention(
                call.Shape, input == "query" ? aliased : host.Query, input == "key" ? aliased : host.Key,
                input == "value" ? aliased : host.Value, buffer.AsSpan(outputStart, host.Output.Length), call.Options,
                host.LogSumExp, host.Probabilities);
        });
        AssertNames(error, "overlap", "output");
        Assert.Equal(before, buffer);
        host.AssertOutputsUntouched();
    }

    [Theory]
    [MemberData(nameof(Inputs))]
    public void Output_tensor_that_is_an_input(string input)
    {
        using var backend = BadCall.NewBackend();
        var call = new BadCall();
        var host = new HostOperands(call);
        using var tensors = new TensorOperands(host, _ => backend);
        var aliased = tensors[input];
        var error = Assert.Throws<ArgumentException>(() => tensors.Run(backend, call, output: aliased));
        AssertNames(error, "another operand", "output");
        Assert.Equal(input switch { "query" => host.Query, "key" => host.Key, _ => host.Value }, aliased.ToArray());
        tensors.AssertOutputsUntouched();
    }

    [Theory]
    [MemberData(nameof(AllTensors))]
    public void Operand_tensor_from_another_backend(string operand)
    {
        using var backend = BadCall.NewBackend();
        using var other = BadCall.NewBackend();
        var call = new BadCall();
        using var tensors = new TensorOperands(new HostOperands(call), name => name == operand ? other : backend);
        var error = Assert.Throws<ArgumentException>(() => tensors.Run(backend, call));
        AssertNames(error, "another backend", operand);
        tensors.AssertOutputsUntouched();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Mask_or_bias_tensor_from_another_backend(bool bias)
    {
        using var other = BadCall.NewBackend();
        using var mask = other.Upload<bool>(TestData.RandomMask(TestRandom.Create(7), Plane));
        using var values = other.Upload<float>(TestData.RandomBias(TestRandom.Create(8), Plane));
        var options = bias ? new AttentionOptions { Bias = new(values) } : new AttentionOptions { Mask = new(mask) };
        Rejected<ArgumentException>(new BadCall { Options = options }, "another backend", "options");
    }

    [Theory]
    [MemberData(nameof(AllTensors))]
    public void Disposed_operand_tensor(string operand)
    {
        using var backend = BadCall.NewBackend();
        var call = new BadCall();
        using var tensors = new TensorOperands(new HostOperands(call), _ => backend);
        tensors[operand].Dispose();
        var error = Assert.Throws<ObjectDisposedException>(() => tensors.Run(backend, call));
        Assert.Equal(operand, error.ObjectName);
        tensors.AssertOutputsUntouched();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Disposed_mask_or_bias_tensor(bool bias)
    {
        using var backend = BadCall.NewBackend();
        var mask = backend.Upload<bool>(TestData.RandomMask(TestRandom.Create(7), Plane));
        var values = backend.Upload<float>(TestData.RandomBias(TestRandom.Create(8), Plane));
        mask.Dispose();
        values.Dispose();
        var call = new BadCall { Options = bias ? new() { Bias = new(values) } : new() { Mask = new(mask) } };
        var host = new HostOperands(call);
        Assert.Throws<ObjectDisposedException>(() => host.Run(backend, call));
        host.AssertOutputsUntouched();
        using var tensors = new TensorOperands(host, _ => backend);
        Assert.Throws<ObjectDisposedException>(() => tensors.Run(backend, call));
        tensors.AssertOutputsUntouched();
    }

    [Fact]
    public void Disposed_backend()
    {
        var backend = BadCall.NewBackend();
        var call = new BadCall();
        var host = new HostOperands(call);
        using var tensors = new TensorOperands(host, _ => backend);
        backend.Dispose();
        backend.Dispose();
        Assert.Throws<ObjectDisposedException>(() => host.Run(backend, call));
        host.AssertOutputsUntouched();
        Assert.Throws<ObjectDisposedException>(() => tensors.Run(backend, call));
        tensors.AssertOutputsUntouched();
        Assert.Throws<ObjectDisposedException>(() => backend.Allocate<float>(4));
        Assert.Throws<ObjectDisposedException>(() => backend.Upload<float>(host.Query));
    }

    [Fact]
    public void Unsupported_element_type()
    {
        using var backend = BadCall.NewBackend();
        var s = Valid;
        var random = TestRandom.Create(9);
        double[] Input(long length) => TestData.Random<float>(random, length, 1f).Select(x => (double)x).ToArray();
        double[] q = Input(s.QueryElementCount), k = Input(s.KeyElementCount), v = Input(s.ValueElementCount);
        var output = new double[s.OutputElementCount];
        Array.Fill(output, BadCall.Sentinel);
        var viaSpans = Assert.Throws<NotSupportedException>(() => backend.ScaledDotProductAttention<double>(s, q, k, v, output));
        Assert.All(output, x => Assert.Equal(BadCall.Sentinel, x));

        // Tensors of such a type cannot even be made.
        var viaTensors = Assert.Throws<NotSupportedException>(() => backend.Upload<double>(q));
        Assert.Throws<NotSupportedException>(() => backend.Allocate<double>(8));
        Assert.Contains(nameof(Double), viaSpans.Message, StringComparison.Ordinal);
        Assert.Contains(nameof(Double), viaTensors.Message, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Operands))]
    public void Null_tensor(string operand)
    {
        using var backend = BadCall.NewBackend();
        var call = new BadCall();
        using var tensors = new TensorOperands(new HostOperands(call), _ => backend);
        AttentionTensor<float> Pick(string name) => name == operand ? null! : tensors[name];
        var error = Assert.Throws<ArgumentNullException>(() => backend.ScaledDotProductAttention(
            call.Shape, Pick("query"), Pick("key"), Pick("value"), Pick("output"), call.Options,
            tensors["logSumExp"], tensors["probabilities"]));
        Assert.Equal(operand, error.ParamName);
        tensors.AssertOutputsUntouched();
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(int.MinValue)]
    public void Negative_cpu_thread_count(int threads)
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new CpuBackend(new CpuBackendOptions { ThreadCount = threads }));
        AssertNames(error, nameof(CpuBackendOptions.ThreadCount), "options");
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(int.MaxValue + 1L)]
    public void Allocate_length_out_of_range(long length)
    {
        using var backend = BadCall.NewBackend();
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => backend.Allocate<float>(length));
        Assert.Equal("length", error.ParamName);
    }

    private static TheoryData<string, string> Pairs(string[] first, string[] second)
    {
        var data = new TheoryData<string, string>();
        foreach (string a in first)
        {
            foreach (string b in second)
            {
                data.Add(a, b);
            }
        }

        return data;
    }

    private static AttentionOptions WithStrides(string operand, TensorStrides strides) => operand switch
    {
        "query" => new AttentionOptions { QueryStrides = strides },
        "key" => new AttentionOptions { KeyStrides = strides },
        "value" => new AttentionOptions { ValueStrides = strides },
        _ => new AttentionOptions { OutputStrides = strides },
    };

    private static TensorStrides Padded(int heads, int length, int dim) =>
        new(Batch: ((long)length * ((heads * dim) + 5)) + 3, Head: dim, Sequence: (heads * dim) + 5);

    private static string ScoresName(bool bias) => bias ? nameof(AttentionOptions.Bias) : nameof(AttentionOptions.Mask);

    /// <summary>A call with a host-memory mask or bias of the given broadcast shape and element count.</summary>
    private static BadCall Scores(bool bias, int batch, int heads, long length) => BadCall.WithScores(bias, batch, heads, length);

    /// <summary>Runs <paramref name="call"/> through spans and through tensors; both must throw and write nothing.</summary>
    private static TException[] Rejected<TException>(BadCall call, string named, string parameter)
        where TException : Exception
    {
        using var backend = BadCall.NewBackend();
        return BadCall.Rejected<TException>(backend, call, named, parameter);
    }

    private static void AssertNames(Exception error, string named, string parameter) => BadCall.AssertNames(error, named, parameter);
}
