using System.Runtime.Intrinsics;
using Attention.Native.Cpu;
using Attention.Native.Cpu.Simd;
using Attention.Native.Cpu.Tiled;
using Attention.Native.Validation;

namespace Attention.Native.Tests.Cpu;

/// <summary>
/// The tiled kernel's K and V rows staged once per KV group and shared by the group's items (<see cref="HeadRows{TOps,
/// TVec}"/>), for strided float K/V: BSHD with grouped heads, two phases of groups and key lengths 1, 7, 65 and 1000;
/// K strided with V contiguous, with the probabilities pass (which reads the staged keys again); many query blocks of
/// a head. Against the float64 reference, outputs poisoned, on one and two threads and each ISA variant.
/// </summary>
[Trait("Isa", "Rerun")]
public sealed class CpuStagedHeadRowsTests
{
    public static TheoryData<string> CaseNames() => [.. Cases().Select(c => c.Name)];

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Staged_groups_match_reference(string name)
    {
        var c = Cases().Single(c => c.Name == name);
        foreach (int threads in new[] { 1, 2 })
        {
            using var backend = new CpuBackend(new CpuBackendOptions { ThreadCount = threads });
            AttentionChecker.Check(backend, c);
        }
    }

    [Theory]
    [InlineData(CpuKernelVariant.Vector128)]
    [InlineData(CpuKernelVariant.Scalar)]
    public void Each_variant_matches_reference(CpuKernelVariant variant)
    {
        using var backend = new CpuBackend(new CpuBackendOptions { Variant = variant, ThreadCount = 2 });
        AttentionChecker.Check(backend, Cases().First());
    }

    /// <summary>Every case takes the staged path (and the first in two phases), so the cases above test it.</summary>
    [Fact]
    public void Cases_stage_their_groups()
    {
        foreach (var c in Cases())
        {
            var options = c.Options(TestRandom.Create(1));
            var sizes = c.ElementCounts;
            var problem = AttentionValidator.Validate(c.Shape, options, new(sizes.Query, sizes.Key, sizes.Value, sizes.Output, -1, -1));
            int blocks = TiledAttentionKernel<Vector256Ops, Vector256<float>>.QueryBlocks(problem);
            int groups = TiledAttentionKernel<Vector256Ops, Vector256<float>>.StagedGroups(problem, blocks, workers: 2);
            Assert.True(groups > 0, $"{c.Name} is not staged");
            if (c == Cases().First())
            {
                Assert.True(groups < c.Shape.Batch * c.Shape.KeyValueHeads, $"{c.Name}: one phase of {groups} groups");
            }
        }
    }

    private static IEnumerable<AttentionCase> Cases()
    {
        yield return new("staged-bshd-gqa8-lengths", new(3, 16, 2, 65, 1000, 64, 40))
        {
            Options = _ => new() { Layout = AttentionLayout.Bshd, Causal = CausalMask.BottomRight, KeyLengths = new[] { 1000, 7, 65 } },
        };
        yield return new("staged-key-only-probabilities", new(2, 8, 1, 7, 1000, 33, 17))
        {
            WithProbabilities = true,
            // K's rows padded to 40 (strided), V contiguous BHSD.
            Options = _ => new() { KeyStrides = new(1000 * 40, 1000 * 40, 40) },
            Sizes = s => new(s.QueryElementCount, 2L * 1000 * 40, s.ValueElementCount, s.OutputElementCount),
        };
        yield return new("staged-bshd-query-blocks", new(1, 4, 2, 1000, 1000, 32, 32))
        {
            Options = _ => new() { Layout = AttentionLayout.Bshd },
        };
    }
}
