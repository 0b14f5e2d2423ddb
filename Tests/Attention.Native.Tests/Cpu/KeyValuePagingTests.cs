using Attention.Native.Validation;

namespace Attention.Native.Tests.Cpu;

/// <summary>
/// <see cref="KeyValuePaging.RowOffsets"/> (the decode kernel's row and scale tables, filled four offsets a store where
/// the hardware allows) against the definition: key <c>j</c> is slot <c>j % PageSize</c> of page
/// <see cref="KeyValuePaging.Page"/>, one sequence stride per slot. Page sizes below, at and past a vector of offsets,
/// runs starting mid-page, and both page layouts' strides.
/// </summary>
[Trait("Isa", "Rerun")]
public sealed class KeyValuePagingTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(7)]
    [InlineData(16)]
    [InlineData(65)]
    public unsafe void Row_offsets_match_the_page_of_each_key(int pageSize)
    {
        const int batches = 2, keysPerSequence = 300;
        int perSequence = (keysPerSequence + pageSize - 1) / pageSize;
        var table = Enumerable.Range(0, batches * perSequence).ToArray();
        TestRandom.Create($"row-offsets-p{pageSize}").Shuffle(table);
        var paging = new KeyValuePaging { PageSize = pageSize, PagesPerSequence = perSequence, BlockTable = table };
        const int heads = 3, dim = 5;
        TensorStrides[] layouts =
        [
            new(pageSize * heads * dim, dim, heads * dim), // [pages, PageSize, Hkv, D]
            new(heads * pageSize * dim, pageSize * dim, dim), // [pages, Hkv, PageSize, D]
        ];
        var offsets = new long[keysPerSequence + 1];
        foreach (var strides in layouts)
        {
            for (int batch = 0; batch < batches; batch++)
            {
                foreach (int start in new[] { 0, 1, pageSize - 1, pageSize, 37, keysPerSequence - 1 })
                {
                    foreach (int count in new[] { 1, 3, 4, 5, 63, 65, keysPerSequence - start })
                    {
                        if (start < 0 || count <= 0 || start + count > keysPerSequence)
                        {
                            continue;
                        }

                        offsets[count] = -7;
                        fixed (long* o = offsets)
                        {
                            paging.RowOffsets(o, count, batch, start, strides);
                        }

                        for (int j = 0; j < count; j++)
                        {
                            int key = start + j;
                            long expected = (paging.Page(batch, key) * strides.Batch) + (key % pageSize * strides.Sequence);
                            Assert.True(expected == offsets[j], $"page {pageSize}, strides {strides}, batch {batch}, start {start}, count {count}: key {key} at {offsets[j]}, expected {expected}");
                        }

                        Assert.Equal(-7, offsets[count]);
                    }
                }
            }
        }
    }
}
