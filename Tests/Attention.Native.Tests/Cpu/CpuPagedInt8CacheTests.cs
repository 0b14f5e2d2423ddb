using Attention.Native.Cpu;
using Attention.Native.Cpu.Decode;
using Attention.Native.Reference;

namespace Attention.Native.Tests.Cpu;

/// <summary>
/// The CPU decode kernel over an int8 cache in pages (<see cref="ByteCacheAttention.RunPaged{T}"/>): K and V pages
/// quantised row by row with their scales in pages <c>[numPages, PageSize, Hkv]</c> (or head-major), against the
/// float64 reference of the dequantised rows laid out contiguously; pages of 1, 7, 16 and 64 (the kernel's blocks
/// span pages, and its scales are read a page run at a time), shuffled and shared.
/// </summary>
[Trait("Isa", "Rerun")]
public sealed class CpuPagedInt8CacheTests
{
    [Theory]
    [InlineData(16, false, 1)]
    [InlineData(64, true, 2)]
    [InlineData(16, true, 2)]
    [InlineData(7, false, 2)]
    [InlineData(1, true, 1)]
    public unsafe void Paged_int8_cache_matches_reference(int pageSize, bool headMajor, int threads)
    {
        using var backend = new CpuBackend(new CpuBackendOptions { ThreadCount = threads });
        var shape = new AttentionShape(3, 8, 2, 1, 1100, 48, 32);
        int[] lengths = [1100, 65, 7];
        var random = TestRandom.Create($"paged-int8-p{pageSize}-{headMajor}");
        var data = PagedTestData<float>.Create(random, shape, pageSize, lengths, sharedPages: 1, headMajor);
        var key = Quantize(data.KeyPages, shape.HeadDim);
        var value = Quantize(data.ValuePages, shape.ValueHeadDim);
        var query = TestData.Random<float>(random, shape.QueryElementCount, 1f);
        var output = TestData.Poison<float>(shape.OutputElementCount);
        ByteCacheAttention.RunPaged<float>(backend, shape, query, new ByteKeyValueSpans
        {
            Key = key.Stored,
            Value = value.Stored,
            KeyScales = key.Scales,
            ValueScales = value.Scales,
        }, data.Layout, output, new() { Causal = CausalMask.BottomRight });

        // The dequantised pages read back through the table into [B, Lk, Hkv, D] for the reference.
        var contiguousKey = Gather(shape, data.Layout, key.Dequantized, shape.HeadDim);
        var contiguousValue = Gather(shape, data.Layout, value.Dequantized, shape.ValueHeadDim);
        var expected = ReferenceAttention.Compute<float>(shape, query, contiguousKey, contiguousValue, new()
        {
            Causal = CausalMask.BottomRight,
            KeyLengths = lengths,
            KeyStrides = PagedTestData<float>.KeyStrides(shape),
            ValueStrides = PagedTestData<float>.ValueStrides(shape),
        });
        double error = expected.RelativeError<float>(output);
        Assert.True(error <= 1e-5, $"relative error {error:E3} (page {pageSize}, head-major {headMajor})");
    }

    /// <summary>
    /// Every D-element row of the pages (a (page, slot, head) in either order: rows of both layouts are D apart) to
    /// int8 with its scale; the scale array is in the pages' own row order, [numPages, PageSize, Hkv] or head-major.
    /// </summary>
    private static unsafe (sbyte[] Stored, float[] Scales, float[] Dequantized) Quantize(float[] pages, int dim)
    {
        int rows = pages.Length / dim;
        var stored = new sbyte[pages.Length];
        var scales = new float[rows];
        var dequantized = new float[pages.Length];
        var clean = Array.ConvertAll(pages, x => float.IsNaN(x) ? 0f : x);
        fixed (float* source = clean)
        fixed (sbyte* target = stored)
        {
            for (int r = 0; r < rows; r++)
            {
                scales[r] = Int8Quantizer.QuantizeRow(source + ((long)r * dim), target + ((long)r * dim), dim);
                for (int x = 0; x < dim; x++)
                {
                    dequantized[(r * dim) + x] = Int8Quantizer.Dequantize(stored[(r * dim) + x], scales[r]);
                }
            }
        }

        return (stored, scales, dequantized);
    }

    private static float[] Gather(AttentionShape shape, PagedKeyValueLayout layout, float[] pages, int dim)
    {
        int heads = shape.KeyValueHeads, pageSize = layout.PageSize;
        var result = new float[(long)shape.Batch * shape.KeyLength * heads * dim];
        for (int b = 0; b < shape.Batch; b++)
        {
            for (int j = 0; j < layout.SequenceLengths.Span[b]; j++)
            {
                long page = layout.BlockTable.Span[(b * layout.PagesPerSequence) + (j / pageSize)];
                for (int h = 0; h < heads; h++)
                {
                    long place = layout.HeadMajor ? ((long)h * pageSize) + (j % pageSize) : ((long)(j % pageSize) * heads) + h;
                    Array.Copy(pages, ((page * pageSize * heads) + place) * dim, result,
                        ((((long)b * shape.KeyLength) + j) * heads + h) * dim, dim);
                }
            }
        }

        return result;
    }
}
