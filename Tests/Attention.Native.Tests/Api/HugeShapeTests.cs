using Attention.Native.Cpu;
using Attention.Native.Validation;

namespace Attention.Native.Tests.Api;

/// <summary>
/// Shapes whose products of sizes pass 2^31 while their tensors stay small (zero strides let one row stand for every
/// head): the CPU backend computes them or rejects them by name, never crashes. The limit on head dims keeps a worker's
/// scratch (row tiles D wide) in megabytes.
/// </summary>
public sealed class HugeShapeTests
{
    private const int MaxHeadDim = 16384;

    [Fact]
    public void Two_to_the_21_query_heads_sharing_one_key_value_head()
    {
        // 2^21 heads × 4 queries: 2^23 rows of one KV head, whose decode scratch (two 256-key score rows per row)
        // would be 2^32 floats. Every query is the same row, so every output row is the same softmax-weighted value.
        const int heads = 1 << 21, queries = 4, keys = 3;
        var shape = new AttentionShape(1, heads, 1, queries, keys, 1, 1);
        float[] q = [0.75f], k = [0.5f, -1f, 2f], v = [3f, -2f, 0.25f];
        var output = TestData.Poison<float>(shape.OutputElementCount);
        using var backend = new CpuBackend(new CpuBackendOptions { ThreadCount = 2 });
        backend.ScaledDotProductAttention<float>(shape, q, k, v, output, new AttentionOptions { QueryStrides = new(0, 0, 0) });

        double[] weights = [.. k.Select(key => Math.Exp(q[0] * key))];
        double expected = weights.Select((w, j) => w * v[j]).Sum() / weights.Sum();
        for (int i = 0; i < output.Length; i++)
        {
            Assert.True(Math.Abs(output[i] - expected) <= 1e-5, $"output[{i}] = {output[i]}, expected {expected}");
        }
    }

    [Theory]
    [InlineData(MaxHeadDim + 1, 1)]
    [InlineData(1, MaxHeadDim + 1)]
    public void Head_dims_beyond_the_cpu_limit_are_rejected_by_name(int headDim, int valueHeadDim)
    {
        var shape = new AttentionShape(1, 1, 1, 5, 1, headDim, valueHeadDim);
        var call = new BadCall
        {
            Shape = shape,
            Options = new() { QueryStrides = new(0, 0, 0), KeyStrides = new(0, 0, 0), ValueStrides = new(0, 0, 0) },
            QueryLength = headDim,
            KeyLength = headDim,
            ValueLength = valueHeadDim,
            OutputLength = shape.OutputElementCount,
            LogSumExpLength = shape.LogSumExpElementCount,
            ProbabilitiesLength = -1,
        };
        using var backend = BadCall.NewBackend();
        string dimension = headDim > MaxHeadDim ? "shape.HeadDim" : "shape.ValueHeadDim";
        var errors = BadCall.Rejected<ArgumentOutOfRangeException>(backend, call, dimension, "shape");
        Assert.All(errors, e => Assert.Contains($"{MaxHeadDim}", e.Message, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("float")]
    [InlineData("Half")]
    public void Head_dims_at_the_cpu_limit_run_on_a_small_stack(string type)
    {
        // Half rows are staged on the stack eight at a time for head dims up to 256; beyond, a staging block of eight
        // rows would be 512 KB at the limit. A thread with a 256 KB stack runs the call.
        var c = new AttentionCase($"headdim-limit-{type}", new AttentionShape(1, 1, 1, 9, 3, MaxHeadDim, MaxHeadDim))
        {
            ElementType = type == "Half" ? typeof(Half) : typeof(float),
            Options = _ => new() { QueryStrides = new(0, 0, 0) },
            Sizes = s => new(s.HeadDim, s.KeyElementCount, s.ValueElementCount, s.OutputElementCount),
        };
        Exception? failure = null;
        var thread = new Thread(
            () =>
            {
                try
                {
                    using var backend = new CpuBackend(new CpuBackendOptions { ThreadCount = 1 });
                    AttentionChecker.Check(backend, c);
                }
                catch (Exception e)
                {
                    failure = e;
                }
            },
            maxStackSize: 256 * 1024);
        thread.Start();
        thread.Join();
        Assert.Null(failure);
    }

    [Theory]
    [InlineData(1 << 17, 1, MaxHeadDim, false)] // rows·D = 2^31: the decode scratch's query rows alone pass int range
    [InlineData(1 << 21, 4, 1, false)] // 2^23 rows of two 256-key score blocks
    [InlineData(32, 4, 128, true)] // GQA decoding: 128 rows of one KV head
    [InlineData(8, 1, MaxHeadDim, true)] // a large head dim in a small group
    public void Decode_kernel_takes_a_query_group_only_while_its_scratch_stays_bounded(
        int groupSize, int queries, int headDim, bool decode)
    {
        var shape = new AttentionShape(1, groupSize, 1, queries, 4096, headDim, headDim);
        var problem = AttentionValidator.Validate(shape, new AttentionOptions { QueryStrides = new(0, 0, 0) }, new(
            headDim, shape.KeyElementCount, shape.ValueElementCount, shape.OutputElementCount, -1, -1));
        Assert.Equal(decode, CpuKernels.UsesDecodeKernel(problem));
    }
}
