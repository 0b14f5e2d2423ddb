using System.Runtime.Intrinsics;
using Attention.Native.Cpu;
using Attention.Native.Cpu.Simd;
using Attention.Native.Cpu.Tiled;
using Attention.Native.Validation;

namespace Attention.Native.Tests.Cpu;

/// <summary>
/// Work taken a chunk of consecutive items at a time (<see cref="CpuParallel"/>): every item runs exactly once for any
/// count, chunk and worker count; the tiled kernel takes a sequence's heads together for strided (BSHD) operands with
/// items enough, and such calls match the float64 reference (odd batch, heads and lengths; outputs poisoned).
/// </summary>
public sealed class CpuChunkedScheduleTests
{
    [Theory]
    [InlineData(0, 3, 2)]
    [InlineData(1, 8, 2)]
    [InlineData(7, 3, 2)]
    [InlineData(65, 8, 2)]
    [InlineData(1000, 7, 3)]
    [InlineData(63, 1, 4)]
    public void Every_item_runs_once(int items, int chunk, int workers)
    {
        var runs = new int[items];
        CpuParallel.For(items, workers, chunk, (item, _) => Interlocked.Increment(ref runs[item]));
        Assert.All(runs, count => Assert.Equal(1, count));
    }

    [Theory]
    [InlineData(33, 3, 7, 16, false)]
    [InlineData(9, 8, 65, 32, true)]
    public void Bshd_sequences_taken_together_match_reference(int batch, int heads, int length, int dim, bool causal) =>
        CheckChunked(batch, heads, length, dim, causal, expected: blocks => heads);

    [Theory]
    [InlineData(1, 8, 128, false, 4)]
    [InlineData(1, 7, 65, true, 4)]
    [InlineData(3, 5, 1, false, 8)]
    public void Bshd_heads_of_one_query_block_split_evenly_match_reference(int batch, int heads, int length, bool causal, int chunk) =>
        CheckChunked(batch, heads, length, 64, causal, expected: blocks => blocks == 1 ? chunk : -1);

    /// <summary>
    /// The chunk <see cref="TiledAttentionKernel{TOps, TVec}.ChunkOf"/> gives a BSHD case on two workers, against
    /// <paramref name="expected"/> (of its query blocks), then the case against the float64 reference.
    /// </summary>
    private static void CheckChunked(
        int batch, int heads, int length, int dim, bool causal, Func<int, int> expected)
    {
        var shape = new AttentionShape(batch, heads, heads, length, length, dim, dim);
        var options = new AttentionOptions { Layout = AttentionLayout.Bshd, Causal = causal ? CausalMask.TopLeft : CausalMask.None };
        var problem = AttentionValidator.Validate(shape, options, new(
            shape.QueryElementCount, shape.KeyElementCount, shape.ValueElementCount, shape.OutputElementCount, -1, -1));
        int blocks = TiledAttentionKernel<Vector256Ops, Vector256<float>>.QueryBlocks(problem);
        Assert.Equal(
            expected(blocks),
            TiledAttentionKernel<Vector256Ops, Vector256<float>>.ChunkOf(problem, blocks, blocks * batch * heads, workers: 2));
        using var backend = new CpuBackend(new CpuBackendOptions { ThreadCount = 2 });
        AttentionChecker.Check(backend, new AttentionCase($"chunked-bshd-b{batch}-h{heads}-l{length}-d{dim}", shape) { Options = _ => options });
    }
}
