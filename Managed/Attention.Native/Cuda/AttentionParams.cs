using Attention.Native.Cuda.Interop;
using Attention.Native.Validation;

namespace Attention.Native.Cuda;

/// <summary>
/// Fills the attention kernels' one parameter, <see cref="AttentionParams{T}"/> (generated from
/// <c>Native/attention_params.cuh</c>), from a validated call: the one place that turns an
/// <see cref="AttentionProblem"/> into what <c>attention_simt</c>, <c>attention_mma</c> and the split-KV kernels read.
/// </summary>
internal static class AttentionParams
{
    /// <summary>
    /// The parameters of <paramref name="problem"/> on device operands, with one split and no split-KV workspace
    /// (<see cref="SplitKv.SplitKvAttention"/> sets those).
    /// </summary>
    /// <param name="problem">The validated call: shape, strides, scale, soft cap, masks and key range.</param>
    /// <param name="query">Q, <c>[B, Hq, Lq, D]</c> at the problem's strides.</param>
    /// <param name="key">K.</param>
    /// <param name="value">V.</param>
    /// <param name="output">O.</param>
    /// <param name="logSumExp">The log-sum-exp output, or null.</param>
    /// <param name="probabilities">The probabilities output (<c>attention_simt</c> only), or null.</param>
    /// <param name="mask">The boolean mask on the device, or null.</param>
    /// <param name="bias">The additive bias on the device, or null.</param>
    /// <param name="keyLengths">The per-batch key lengths on the device, or null.</param>
    /// <param name="uploads">The sinks, a varlen call's offsets and a paged call's block table on the device (null
    /// where absent).</param>
    public static AttentionParams<T> From<T>(
        AttentionProblem problem,
        DevicePointer<T> query,
        DevicePointer<T> key,
        DevicePointer<T> value,
        DevicePointer<T> output,
        DevicePointer<float> logSumExp,
        DevicePointer<float> probabilities,
        DevicePointer<bool> mask,
        DevicePointer<float> bias,
        DevicePointer<int> keyLengths,
        in StagedUploads uploads)
        where T : unmanaged
    {
        var p = problem;
        return new AttentionParams<T>
        {
            Q = query,
            K = key,
            V = value,
            O = output,
            Lse = logSumExp,
            Probs = probabilities,
            Mask = mask,
            Bias = bias,
            KeyLengths = keyLengths,
            Batch = p.Batch,
            QHeads = p.QueryHeads,
            KvHeads = p.KeyValueHeads,
            QLen = p.QueryLength,
            KLen = p.KeyLength,
            HeadDim = p.HeadDim,
            ValueDim = p.ValueHeadDim,
            NumSplits = 1,
            QStrideB = p.Query.Batch,
            QStrideH = p.Query.Head,
            QStrideS = p.Query.Sequence,
            KStrideB = p.Key.Batch,
            KStrideH = p.Key.Head,
            KStrideS = p.Key.Sequence,
            VStrideB = p.Value.Batch,
            VStrideH = p.Value.Head,
            VStrideS = p.Value.Sequence,
            OStrideB = p.Output.Batch,
            OStrideH = p.Output.Head,
            OStrideS = p.Output.Sequence,
            MaskStrideB = p.Mask is { } m ? p.MaskBatchStride(m.Heads, m.Batch) : 0,
            MaskStrideH = p.Mask is { } mh ? p.MaskHeadStride(mh.Heads) : 0,
            BiasStrideB = p.Bias is { } b ? p.MaskBatchStride(b.Heads, b.Batch) : 0,
            BiasStrideH = p.Bias is { } bh ? p.MaskHeadStride(bh.Heads) : 0,
            Scale = p.Scale,
            Softcap = p.Softcap,
            Causal = Causal(p.Causal),
            WindowLeft = p.WindowLeft,
            WindowRight = p.WindowRight,
            Sinks = uploads.Sinks,
            CuSeqlensQ = uploads.QueryOffsets,
            CuSeqlensK = uploads.KeyOffsets,
            TotalQ = p.Varlen?.TotalQuery ?? 0,
            BlockTable = uploads.BlockTable,
            PageSize = p.Paging?.PageSize ?? 0,
            PagesPerSeq = p.Paging?.PagesPerSequence ?? 0,
            PageRows = p.Paging is null ? 0 : PageRows(p),
        };
    }

    /// <summary>
    /// A paged call's <c>page_rows</c>: the sequence strides between pages, the same for K and V
    /// (<see cref="PagedAttentionValidator.PageStrides"/>: the page size, times Hkv for head-major pages).
    /// </summary>
    private static int PageRows(AttentionProblem p) => (int)(p.Key.Batch / p.Key.Sequence);

    /// <summary>The kernels' causal code (<c>causal</c> in every parameter struct): 0 none, 1 top-left, 2 bottom-right.</summary>
    public static int Causal(CausalMask causal) => causal switch
    {
        CausalMask.TopLeft => 1,
        CausalMask.BottomRight => 2,
        _ => 0,
    };
}
