using Attention.Native.Cpu.Decode;
using Attention.Native.Cpu.Simd;
using Attention.Native.Cpu.Tiled;
using Attention.Native.Validation;

namespace Attention.Native.Tests.Api;

/// <summary>The CPU kernels' scratch memory depends on block sizes and head dims, never on Lq × Lk.</summary>
public sealed class ScratchSizeTests
{
    private static AttentionProblem Problem(int queryLength, int keyLength, int dim, int queryHeads = 8, int kvHeads = 8)
    {
        var shape = new AttentionShape(1, queryHeads, kvHeads, queryLength, keyLength, dim, dim);
        return AttentionValidator.Validate(shape, AttentionOptions.Default, new(
            shape.QueryElementCount, shape.KeyElementCount, shape.ValueElementCount, shape.OutputElementCount, -1, -1));
    }

    [Theory]
    [InlineData(64)]
    [InlineData(128)]
    [InlineData(256)]
    public void Tiled_scratch_is_independent_of_sequence_lengths(int dim)
    {
        int small = TiledAttentionKernel<Vector256Ops, System.Runtime.Intrinsics.Vector256<float>>.ScratchFloatsPerWorker(
            Problem(64, 64, dim), convertsOperands: true);
        int large = TiledAttentionKernel<Vector256Ops, System.Runtime.Intrinsics.Vector256<float>>.ScratchFloatsPerWorker(
            Problem(100_000, 200_000, dim), convertsOperands: true);
        Assert.Equal(small, large);

        // A few blocks' worth — an item's Q and O tiles (a 192 KB budget) plus one key block of K and V, each D wide —
        // not an Lq×Lk matrix.
        Assert.True(small <= (64 * 1024) + (100 * dim), $"{small} floats per worker at D = {dim}");
    }

    [Theory]
    [InlineData(1, 2)]
    [InlineData(2, 16)]
    public void Decode_scratch_is_independent_of_key_length(int threads, int kvHeads)
    {
        long small = DecodeAttentionKernel<Vector256Ops, System.Runtime.Intrinsics.Vector256<float>>.ScratchFloats(
            Problem(1, 4096, 128, 32, kvHeads), threads, scaled: true);
        long large = DecodeAttentionKernel<Vector256Ops, System.Runtime.Intrinsics.Vector256<float>>.ScratchFloats(
            Problem(1, 4_000_000, 128, 32, kvHeads), threads, scaled: true);
        Assert.Equal(small, large);
    }
}
