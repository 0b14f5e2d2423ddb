using System.Runtime.Intrinsics;

namespace Attention.Native.Validation;

/// <summary>
/// A validated <see cref="PagedKeyValueLayout"/>: the kernels' view of a paged cache, sequence <c>b</c>'s key <c>j</c>
/// being slot <c>j % PageSize</c> of page <see cref="Page"/>. A page's slots are a run of rows one sequence stride
/// apart, so a kernel looks a page up once (<see cref="RunEnd"/>) and walks its rows at that stride.
/// </summary>
internal sealed class KeyValuePaging
{
    public required int PageSize { get; init; }

    public required int PagesPerSequence { get; init; }

    /// <summary>The block table, copied at validation: every entry a sequence reads is a page of the pool.</summary>
    public required int[] BlockTable { get; init; }

    /// <summary>The page holding key <paramref name="key"/> of sequence <paramref name="batch"/>.</summary>
    public int Page(int batch, int key) => BlockTable[((long)batch * PagesPerSequence) + (key / PageSize)];

    /// <summary>One past the last key of the page holding <paramref name="key"/>, or <paramref name="end"/> if sooner.</summary>
    public int RunEnd(int key, int end) => (int)Math.Min(end, ((long)(key / PageSize) + 1) * PageSize);

    /// <summary>
    /// <c>offsets[j]</c> = the element offset of key <c>start + j</c> of sequence <paramref name="batch"/>, KV head 0,
    /// in an array with <paramref name="strides"/> (K, V, an int8 cache's scales), for <paramref name="count"/> keys.
    /// One division for the first key, then one table read per page: a division per page cost the decode kernel's
    /// row tables about 5 % at pages of 16 (GQA 32/8, Lk 4096, D 128, one Zen 3 thread, float, head-major).
    /// </summary>
    public unsafe void RowOffsets(long* offsets, int count, int batch, int start, TensorStrides strides)
    {
        long tableIndex = ((long)batch * PagesPerSequence) + (start / PageSize);
        int slot = start % PageSize;
        int j = 0;
        while (j < count)
        {
            int run = j + Math.Min(count - j, PageSize - slot);
            long row = (BlockTable[tableIndex++] * strides.Batch) + (slot * strides.Sequence);
            if (Vector256.IsHardwareAccelerated && run - j >= Vector256<long>.Count)
            {
                // Four offsets a store: the scalar fill was 2–3 % of an int8 decode step's profile (MHA, pages of 16).
                long step = strides.Sequence;
                var rows = Vector256.Create(row, row + step, row + (2 * step), row + (3 * step));
                var stride = Vector256.Create(4 * step);
                for (; j + Vector256<long>.Count <= run; j += Vector256<long>.Count)
                {
                    rows.Store(offsets + j);
                    rows += stride;
                }

                row = rows.ToScalar();
            }

            for (; j < run; j++, row += strides.Sequence)
            {
                offsets[j] = row;
            }

            slot = 0;
        }
    }
}
