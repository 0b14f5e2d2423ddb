using System.Runtime.CompilerServices;
using Attention.Native.Cpu.Simd;
using Attention.Native.Validation;

namespace Attention.Native.Cpu.Decode;

/// <summary>
/// Where the decode block loop (<see cref="DecodeBlockSteps{TOps, TVec}"/>) finds row <c>j</c> of a block of K or V:
/// an element offset from the head's pointer for the block (<see cref="IBlockRowLookup{TRows}"/>). The loop takes it
/// as a generic struct argument, so the strided form compiles to the multiply it replaces and the paged form to one
/// load.
/// </summary>
internal interface IBlockRows
{
    /// <summary>Element offset of the block's row <paramref name="key"/>: 0 to twice the block, the next block's rows
    /// included for the prefetches.</summary>
    long Offset(int key);
}

/// <summary>Rows one stride apart from the block's first row (a contiguous or strided cache).</summary>
internal readonly struct StridedRows(long stride) : IBlockRows
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public long Offset(int key) => key * stride;
}

/// <summary>Rows looked up in a table of offsets from the head's first element (a paged cache).</summary>
internal readonly unsafe struct TableRows(long* offsets) : IBlockRows
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public long Offset(int key) => offsets[key];
}

/// <summary>
/// The rows of one operand (K, V) of a (batch, KV head range) for the block loop: per block, the rows' addressing
/// (<see cref="Rows"/>, once for all heads of a work item) and each head's pointer offset (<see cref="HeadOffset"/>).
/// </summary>
internal interface IBlockRowLookup<TRows>
    where TRows : struct, IBlockRows
{
    /// <summary>The addressing of the block from key <paramref name="start"/>.</summary>
    TRows Rows(int start);

    /// <summary>Element offset of <paramref name="kvHead"/>'s pointer for the block from key <paramref name="start"/>.</summary>
    long HeadOffset(int kvHead, int start);
}

/// <summary>An operand addressed by its strides alone: a head's block is its first row, the rows a stride apart.</summary>
internal readonly struct StridedRowLookup(AttentionProblem p, TensorStrides strides, int batch) : IBlockRowLookup<StridedRows>
{
    public StridedRows Rows(int start) => new(strides.Sequence);

    public long HeadOffset(int kvHead, int start) => p.RowOffset(strides, batch, kvHead, start);
}

/// <summary>
/// A paged operand: a block's rows in a table of <see cref="TableSize"/> offsets from the head's first element, filled
/// per block with one page lookup per page run, so that a block spans as many pages as its keys need (pages of 16
/// positions then cost no more online-softmax steps, and no shorter streams, than a contiguous cache's blocks).
/// </summary>
/// <param name="p">The problem, whose <see cref="AttentionProblem.Paging"/> is set.</param>
/// <param name="strides">The operand's strides: between pages, KV heads and a page's slots.</param>
/// <param name="batch">The sequence.</param>
/// <param name="end">One past the chunk's last key: rows from it on repeat the last one (prefetches only read
/// them, and need an address inside the operand).</param>
/// <param name="table"><see cref="TableSize"/> offsets.</param>
internal readonly unsafe struct PagedRowLookup(AttentionProblem p, TensorStrides strides, int batch, int end, long* table)
    : IBlockRowLookup<TableRows>
{
    /// <summary>Offsets per table: the block's rows and the next block's (the prefetches' reach).</summary>
    public const int TableSize = 2 * DecodeBlockSteps<ScalarOps, float>.KeyBlock;

    public TableRows Rows(int start)
    {
        int filled = (int)Math.Min(TableSize, Math.Max(0L, (long)end - start));
        p.Paging!.RowOffsets(table, filled, batch, start, strides);
        int j = filled;
        long repeat = filled > 0 ? table[filled - 1] : 0;
        for (; j < TableSize; j++)
        {
            table[j] = repeat;
        }

        return new(table);
    }

    public long HeadOffset(int kvHead, int start) => kvHead * strides.Head;
}
