using Attention.Native.Cuda.Interop;
using Attention.Native.Validation;

namespace Attention.Native.Cuda.Additive;

/// <summary>
/// The <c>additive_attention_f32</c> kernel (Native/additive_attention.cu): its module, loaded on first use, and the
/// launch (one warp per query row, 4 rows a block) with the host-memory mask, bias and key lengths staged.
/// </summary>
internal sealed class AdditiveAttentionLaunch(CudaBackend backend) : IDisposable
{
    public const string ResourceName = "ptx/additive_attention.ptx";
    private const int RowsPerBlock = 4;

    private CudaModuleHandle? module;
    private CudaKernel? kernel;

    public void Launch(
        in AdditiveAttentionProblem problem, DevicePointer<float> queries, DevicePointer<float> keys,
        DevicePointer<float> scoreVector, DevicePointer<float> values, DevicePointer<float> output, DevicePointer<float> probabilities)
    {
        var p = problem;
        var masks = p.Masks;
        lock (backend.LaunchGate)
        {
            backend.EnterContext();
            var function = Kernel();
            long shared = (long)RowsPerBlock * (p.Units + p.ValueDim) * sizeof(float);
            if (shared > function.Limits.MaxDynamicSharedBytes)
            {
                throw new NotSupportedException(
                    $"AdditiveAttention with Units + ValueDim = {p.Units + p.ValueDim} needs {shared} bytes of shared memory; this device allows {function.Limits.MaxDynamicSharedBytes}.");
            }

            if (p.Batch > function.Limits.MaxGridY)
            {
                throw new NotSupportedException($"AdditiveAttention on the GPU takes at most {function.Limits.MaxGridY} sequences a call.");
            }

            var staged = backend.Scratch.Stage(masks);
            var launch = new LaunchConfiguration(
                (uint)((p.QueryLength + RowsPerBlock - 1) / RowsPerBlock), (uint)p.Batch, 1, 32, RowsPerBlock, 1, (uint)shared, backend.Stream.Handle);
            var parameters = new AdditiveAttentionParams
            {
                Queries = queries,
                Keys = keys,
                ScoreVector = scoreVector,
                Values = values,
                Output = output,
                Probs = probabilities,
                Mask = staged.Mask,
                Bias = staged.Bias,
                KeyLengths = staged.KeyLengths,
                Batch = p.Batch,
                QLen = p.QueryLength,
                KLen = p.KeyLength,
                Units = p.Units,
                ValueDim = p.ValueDim,
                MaskStrideB = masks.Mask is { } m ? masks.MaskBatchStride(m.Heads, m.Batch) : 0,
                BiasStrideB = masks.Bias is { } b ? masks.MaskBatchStride(b.Heads, b.Batch) : 0,
                Causal = AttentionParams.Causal(masks.Causal),
            };
            NativeKernels.Launch(function, in launch, in parameters);
        }
    }

    public void Dispose() => module?.Dispose();

    private CudaKernel Kernel()
    {
        if (kernel is null)
        {
            module = CudaModuleHandle.Load(backend.Context, PtxResource.Read(ResourceName), ResourceName);
            kernel = CudaKernel.Get(module, KernelNames.AdditiveAttentionF32Name, backend.Device);
        }

        return kernel;
    }
}
