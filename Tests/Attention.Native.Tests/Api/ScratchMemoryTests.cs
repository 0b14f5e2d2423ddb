using Attention.Native.Cpu;

namespace Attention.Native.Tests.Api;

/// <summary>
/// The aligned native blocks tensors and kernel scratch live in, and that the kernels never read scratch they did
/// not write: scratch is allocated uninitialised, so freed blocks are poisoned with NaN before each run.
/// </summary>
public sealed unsafe class ScratchMemoryTests
{
    public static TheoryData<string> Kernels => new("odd-63x65-d33", "half-operands", "decode-split-lk2100", "decode-lq4-d7");

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(64)]
    [InlineData(65)]
    [InlineData(4103)]
    [InlineData(1 << 20)]
    public void Blocks_are_64_byte_aligned_and_zeroed_on_request(int bytes)
    {
        PoisonFreedBlocks(bytes);
        using var block = new AlignedMemoryHandle((nuint)bytes, zero: true);
        Assert.Equal((nuint)bytes, block.Bytes);
        Assert.Equal(0, (long)block.Pointer % 64);
        Assert.False(block.IsInvalid);
        Assert.All(new ReadOnlySpan<byte>(block.Pointer, bytes).ToArray(), b => Assert.Equal(0, b));
    }

    [Fact]
    public void Dispose_closes_the_block_once()
    {
        var block = new AlignedMemoryHandle(256, zero: false);
        block.Dispose();
        Assert.True(block.IsClosed);
        block.Dispose();
        Assert.True(block.IsClosed);
    }

    [Theory]
    [MemberData(nameof(Kernels))]
    public void Kernels_do_not_read_stale_scratch(string name)
    {
        using var backend = new CpuBackend(new CpuBackendOptions { ThreadCount = 3, Variant = CpuKernelVariant.Vector128 });
        for (int run = 0; run < 2; run++)
        {
            PoisonFreedBlocks(1 << 12, 1 << 14, 1 << 16, 1 << 18, 1 << 20);
            AttentionChecker.Check(backend, CaseCatalog.Get(name));
        }
    }

    [Fact]
    public void A_call_is_bitwise_repeatable_after_other_calls()
    {
        // The same operands after a differently shaped call (whose scratch the allocator may hand back) give the
        // same bits: nothing carries over from one call to the next.
        using var backend = new CpuBackend(new CpuBackendOptions { ThreadCount = 2 });
        var random = TestRandom.Create(11);
        var shape = new AttentionShape(1, 2, 2, 70, 90, 40, 24);
        var q = TestData.Random<float>(random, shape.QueryElementCount, 1f);
        var k = TestData.Random<float>(random, shape.KeyElementCount, 1f);
        var v = TestData.Random<float>(random, shape.ValueElementCount, 1f);
        var options = new AttentionOptions { Causal = CausalMask.BottomRight };
        float[] Run()
        {
            var output = TestData.Poison<float>(shape.OutputElementCount);
            backend.ScaledDotProductAttention<float>(shape, q, k, v, output, options);
            return output;
        }

        var first = Run();
        AttentionChecker.Check(backend, CaseCatalog.Get("odd-127x127-d128"));
        PoisonFreedBlocks(1 << 12, 1 << 16, 1 << 20);
        Assert.Equal(first, Run());
    }

    /// <summary>Allocates blocks of these sizes, fills them with NaN and frees them, for later allocations to reuse.</summary>
    private static void PoisonFreedBlocks(params int[] sizes)
    {
        foreach (int bytes in sizes)
        {
            using var block = new AlignedMemoryHandle((nuint)bytes, zero: false);
            new Span<float>(block.Pointer, bytes / sizeof(float)).Fill(float.NaN);
            new Span<byte>(block.Pointer, bytes)[(bytes & ~3)..].Fill(0xFF);
        }
    }
}
