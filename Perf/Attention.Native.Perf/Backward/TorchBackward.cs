using TorchSharp;
using static TorchSharp.torch;

namespace Attention.Native.Perf.Backward;

/// <summary>
/// libtorch's SDPA backward on the same operands: each run builds the forward graph
/// (<c>scaled_dot_product_attention</c> on leaf tensors that require gradients; not timed) and times
/// <c>torch.autograd.grad</c> of its output with the same dO, which runs SDPA's backward kernel.
/// </summary>
internal sealed class TorchBackward : IDisposable
{
    private readonly Tensor query;
    private readonly Tensor key;
    private readonly Tensor value;
    private readonly Tensor outputGrad;
    private readonly bool causal;
    private Tensor? output;
    private IList<Tensor>? gradients;

    public TorchBackward(BackwardCase c, float[] q, float[] k, float[] v, float[] dO, int threads)
    {
        torch.set_num_threads(threads);
        long[] dims = [c.Batch, c.Heads, c.Length, c.HeadDim];
        query = torch.tensor(q, dims, requires_grad: true);
        key = torch.tensor(k, dims, requires_grad: true);
        value = torch.tensor(v, dims, requires_grad: true);
        outputGrad = torch.tensor(dO, dims);
        causal = c.Causal;
    }

    /// <summary>The untimed part of a run: the forward that records the graph.</summary>
    public void Forward()
    {
        Release();
        output = torch.nn.functional.scaled_dot_product_attention(query, key, value, null, 0, causal);
    }

    /// <summary>The timed part: dQ, dK, dV.</summary>
    public void Backward() =>
        gradients = torch.autograd.grad([output!], [query, key, value], [outputGrad]);

    /// <summary>dQ, dK or dV of the last run (0, 1, 2), <c>[B, H, L, D]</c>.</summary>
    public float[] Gradient(int index)
    {
        using var contiguous = gradients![index].contiguous();
        return contiguous.data<float>().ToArray();
    }

    public void Dispose()
    {
        Release();
        query.Dispose();
        key.Dispose();
        value.Dispose();
        outputGrad.Dispose();
    }

    private void Release()
    {
        if (gradients is not null)
        {
            foreach (var g in gradients)
            {
                g.Dispose();
            }
        }

        gradients = null;
        output?.Dispose();
        output = null;
    }
}
