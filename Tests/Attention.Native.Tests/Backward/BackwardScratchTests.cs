using System.Runtime.Intrinsics;
using Attention.Native.Cpu.Backward;
using Attention.Native.Cpu.Simd;
using Attention.Native.Validation;

namespace Attention.Native.Tests.Backward;

/// <summary>The CPU backward's scratch per worker depends on the block size and head dims, never on Lq or Lk.</summary>
public sealed class BackwardScratchTests
{
    [Theory]
    [InlineData(64)]
    [InlineData(128)]
    [InlineData(256)]
    public void Scratch_is_independent_of_sequence_lengths(int dim)
    {
        int small = AttentionBackwardKernel<Vector256Ops, Vector256<float>>.ScratchFloatsPerWorker(Problem(64, 64, dim));
        int large = AttentionBackwardKernel<Vector256Ops, Vector256<float>>.ScratchFloatsPerWorker(Problem(100_000, 200_000, dim));
        Assert.Equal(small, large);

        // A key block's K, V, dK, dV (at most 128 keys, D wide each) and one row tile's operands: no Lq × Lk matrix.
        Assert.True(small <= (8 * 128 * dim) + (128 * 64), $"{small} floats per worker at D = {dim}");
    }

    private static AttentionProblem Problem(int queryLength, int keyLength, int dim)
    {
        var shape = new AttentionShape(1, 8, 8, queryLength, keyLength, dim, dim);
        return AttentionValidator.Validate(shape, new AttentionOptions { Softcap = 5f }, new(
            shape.QueryElementCount, shape.KeyElementCount, shape.ValueElementCount, shape.OutputElementCount,
            shape.LogSumExpElementCount, -1));
    }
}
