using Attention.Native.Cuda.Interop;

namespace Attention.Native.Cuda.Hopper;

/// <summary>
/// What <c>cuTensorMapEncodeTiled</c> is given for one operand of <c>attention_hopper</c>: a 4-D view
/// <c>[B, H, L, D]</c> as dims (D, L, H, B) innermost first, byte strides of L, H and B, and a box of 64 columns
/// (128 bytes: the 128-byte swizzle's width) by <paramref name="BoxRows"/> rows by 1 by 1.
/// </summary>
/// <param name="Dims">(D, L, H, B).</param>
/// <param name="Strides">Bytes between consecutive positions, heads and batch entries.</param>
/// <param name="BoxRows">The tile's rows: 128 for Q, the bucket's BlockN for K and V.</param>
internal readonly record struct HopperTensorMapShape(
    (ulong Columns, ulong Rows, ulong Heads, ulong Batch) Dims, (ulong Sequence, ulong Head, ulong Batch) Strides, uint BoxRows)
{
    /// <summary>The shape of a 16-bit operand of <paramref name="batch"/> × <paramref name="heads"/> ×
    /// <paramref name="rows"/> × <paramref name="columns"/> at element <paramref name="strides"/>.</summary>
    /// <remarks>TMA takes no zero or unaligned stride, and a dimension of extent 1 is never stepped along: its stride is
    /// replaced by the packed one (the extent of the dimensions inside it), which is as good as any.</remarks>
    public static HopperTensorMapShape Of(int batch, int heads, int rows, int columns, TensorStrides strides, int boxRows)
    {
        const ulong elementBytes = 2;
        ulong sequence = rows == 1 ? elementBytes * (ulong)columns : elementBytes * (ulong)strides.Sequence;
        ulong head = heads == 1 ? sequence * (ulong)rows : elementBytes * (ulong)strides.Head;
        ulong batchStride = batch == 1 ? head * (ulong)heads : elementBytes * (ulong)strides.Batch;
        return new(((ulong)columns, (ulong)rows, (ulong)heads, (ulong)batch), (RoundUp16(sequence), RoundUp16(head), RoundUp16(batchStride)), (uint)boxRows);
    }

    /// <summary>Encodes the map of this shape over the tensor at <paramref name="address"/>.</summary>
    /// <exception cref="CudaException">The driver refused the map (the message names the operand).</exception>
    public unsafe TensorMap Encode(ulong address, TensorMapDataType dataType, string operand)
    {
        // cuTensorMapEncodeTiled takes a 64-byte aligned map (CUtensorMap's alignas(64)); a stack struct is 8-byte aligned.
        byte* space = stackalloc byte[sizeof(TensorMap) + TensorMapAlignment - 1];
        var map = (TensorMap*)(((nuint)space + TensorMapAlignment - 1) & ~(nuint)(TensorMapAlignment - 1));
        ulong* dims = stackalloc ulong[] { Dims.Columns, Dims.Rows, Dims.Heads, Dims.Batch };
        ulong* strides = stackalloc ulong[] { Strides.Sequence, Strides.Head, Strides.Batch };
        uint* box = stackalloc uint[] { AttentionHopperTile.BoxColumns, BoxRows, 1, 1 };
        uint* elementStrides = stackalloc uint[] { 1, 1, 1, 1 };
        var result = CudaDriver.cuTensorMapEncodeTiled(
            map, dataType, 4, address, dims, strides, box, elementStrides, TensorMapInterleave.None,
            TensorMapSwizzle.Swizzle128B, TensorMapL2Promotion.L2Promotion256B, TensorMapFloatOobFill.None);
        if (result != CudaResult.Success)
        {
            throw new CudaException((int)result, "cuTensorMapEncodeTiled", $"({operand} of attention_hopper: {this})");
        }

        return *map;
    }

    private const int TensorMapAlignment = 64;

    // A packed stride of a 1-extent dimension is a multiple of 16 bytes already where the sequence stride is (the
    // geometry's check); only a one-row operand's packed row (D elements) may not be.
    private static ulong RoundUp16(ulong bytes) => (bytes + 15) / 16 * 16;
}
