using Attention.Native.Perf.Workloads;
using TorchSharp;
using static TorchSharp.torch;

namespace Attention.Native.Perf.Peers.Torch;

/// <summary>
/// One <c>scaled_dot_product_attention</c> call per run on tensors made once from the BHSD operands. Each call
/// allocates its output, as the functional API does (it has no <c>out=</c>); the previous one is freed first.
/// Grouped-query cases (Hq = G·Hkv): without a causal mask, a group's G query heads are stacked along the sequence of
/// their key/value head (<c>[B, Hkv, G·Lq, D]</c>, the same memory as <c>[B, Hq, Lq, D]</c>), which is exactly the
/// grouped product with no copy; with one, the positions of the stacked rows would be wrong, so K and V are repeated
/// to Hq heads once, before the timing (more bytes to read than the backend reads).
/// </summary>
internal sealed class TorchForward : IPeerForward
{
    private readonly Tensor query;
    private readonly Tensor key;
    private readonly Tensor value;
    private readonly bool causal;
    private Tensor? output;

    public TorchForward(PerfCase perfCase, RandomOperands operands, int threads)
    {
        var s = perfCase.Shape;
        int group = s.GroupSize;
        causal = perfCase.IsCausal;
        torch.set_num_threads(threads);
        if (group > 1 && !causal)
        {
            query = torch.tensor(operands.Query, [s.Batch, s.KeyValueHeads, (long)group * s.QueryLength, s.HeadDim]);
            key = torch.tensor(operands.Key, [s.Batch, s.KeyValueHeads, s.KeyLength, s.HeadDim]);
            value = torch.tensor(operands.Value, [s.Batch, s.KeyValueHeads, s.KeyLength, s.ValueHeadDim]);
            Kernel = "sdpa, query groups stacked";
        }
        else
        {
            query = torch.tensor(operands.Query, [s.Batch, s.QueryHeads, s.QueryLength, s.HeadDim]);
            float[] k = group > 1 ? HeadLayout.RepeatHeads(operands.Key, s.Batch, s.KeyValueHeads, group, s.KeyLength, s.HeadDim) : operands.Key;
            float[] v = group > 1 ? HeadLayout.RepeatHeads(operands.Value, s.Batch, s.KeyValueHeads, group, s.KeyLength, s.ValueHeadDim) : operands.Value;
            key = torch.tensor(k, [s.Batch, s.QueryHeads, s.KeyLength, s.HeadDim]);
            value = torch.tensor(v, [s.Batch, s.QueryHeads, s.KeyLength, s.ValueHeadDim]);
            Kernel = group > 1 ? "sdpa, K/V heads repeated" : "sdpa";
        }
    }

    public string Kernel { get; }

    public void Run()
    {
        output?.Dispose();
        output = torch.nn.functional.scaled_dot_product_attention(query, key, value, null, 0, causal);
    }

    public float[] Output()
    {
        if (output is null)
        {
            throw new InvalidOperationException("Output() before the first Run().");
        }

        using var contiguous = output.contiguous();
        return contiguous.data<float>().ToArray();
    }

    public void Dispose()
    {
        output?.Dispose();
        output = null;
        query.Dispose();
        key.Dispose();
        value.Dispose();
    }
}
