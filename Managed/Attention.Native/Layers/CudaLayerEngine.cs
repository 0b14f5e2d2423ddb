using Attention.Native.Cpu;
using Attention.Native.Cuda;
using Attention.Native.Cuda.Interop;
using Attention.Native.Validation;

namespace Attention.Native.Layers;

/// <summary>
/// The layers' operations on a GPU, all queued on the backend's stream: cuBLAS projections (row-major through the
/// operand swap, <c>Yᵀ = W·Xᵀ</c> in cuBLAS's column-major terms), the bias as a rank-1 GEMM <c>Yᵀ = b·1ᵀ</c> that the
/// main GEMM then accumulates onto (<c>beta = 1</c>: no extra kernel), and the attention kernel on device views.
/// </summary>
internal sealed unsafe class CudaLayerEngine(CudaBackend backend, bool allowTensorFloat32) : LayerEngine
{
    private CublasHandle? cublas;
    private CudaTensor<float>? ones;
    private AdditiveAttentionLaunch? additive;

    public override void Linear(
        LayerOperand x, int ldx, int rows, int inFeatures, LayerOperand weight, LayerOperand? bias, int outFeatures,
        LayerOperand y, int ldy) =>
        LinearBatched(x, ldx, 0, rows, 1, inFeatures, weight, bias, outFeatures, y, ldy, 0);

    public override void LinearBatched(
        LayerOperand x, int ldx, long batchStrideX, int rows, int batches, int inFeatures, LayerOperand weight,
        LayerOperand? bias, int outFeatures, LayerOperand y, int ldy, long batchStrideY)
    {
        lock (backend.LaunchGate)
        {
            backend.EnterContext();
            var handle = Handle();
            float one = 1f, zero = 0f;
            float beta = 0f;
            if (bias is { } b)
            {
                // Every block's Yᵀ = b·1ᵀ: the same two operands (stride 0), each block its own C.
                var unit = Ones(rows);
                Gemm(handle, CublasOperation.None, CublasOperation.None, outFeatures, rows, 1, &one, Address(b),
                    outFeatures, 0, CudaTensor<float>.PointerOf(unit).Address, 1, 0, &zero, Address(y), ldy, batchStrideY,
                    batches);
                beta = 1f;
            }

            Gemm(handle, CublasOperation.Transpose, CublasOperation.None, outFeatures, rows, inFeatures, &one,
                Address(weight), inFeatures, 0, Address(x), ldx, batchStrideX, &beta, Address(y), ldy, batchStrideY, batches);
        }
    }

    public override void Attention(
        AttentionShape shape, AttentionOptions options, LayerOperand query, LayerOperand key, LayerOperand value,
        LayerOperand output, LayerOperand? probabilities)
    {
        var problem = AttentionValidator.Validate(shape, options, new(
            query.Length, key.Length, value.Length, output.Length, -1, probabilities?.Length ?? -1));
        var prepared = CudaAttention.Prepare<float>(backend, problem);
        CudaAttention.Launch(
            backend, prepared, problem, Pointer(query), Pointer(key), Pointer(value), Pointer(output),
            DevicePointer<float>.Null, probabilities is { } p ? Pointer(p) : DevicePointer<float>.Null);
    }

    public override void Additive(
        in AdditiveAttentionKernel.Problem problem, LayerOperand queries, LayerOperand keys, LayerOperand scoreVector,
        LayerOperand values, LayerOperand output, LayerOperand? probabilities)
    {
        additive ??= new AdditiveAttentionLaunch(backend);
        additive.Launch(
            problem, Pointer(queries), Pointer(keys), Pointer(scoreVector), Pointer(values), Pointer(output),
            probabilities is { } p ? Pointer(p) : DevicePointer<float>.Null);
    }

    public override void Copy(LayerOperand source, LayerOperand destination, long count)
    {
        lock (backend.LaunchGate)
        {
            backend.EnterContext();
            backend.Stream.CopyOnDevice(Address(destination), Address(source), (nuint)count * sizeof(float));
        }
    }

    public override void Synchronize() => backend.Synchronize();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            cublas?.Dispose();
            ones?.Dispose();
            additive?.Dispose();
        }
    }

    private static DevicePointer<float> Pointer(LayerOperand operand) =>
        CudaTensor<float>.PointerOf(operand.Tensor).Offset(operand.Offset);

    private static ulong Address(LayerOperand operand) => Pointer(operand).Address;

    private CublasHandle Handle()
    {
        if (cublas is null)
        {
            cublas = CublasHandle.Create(backend.Context, backend.Stream.Handle);
            // TF32 only when asked for: the fp32 default is held to 1e-5 against the float64 reference.
            CudaErrors.Check(
                Cublas.cublasSetMathMode(cublas.Value, allowTensorFloat32 ? CublasMath.Tf32TensorOp : CublasMath.Default),
                "cublasSetMathMode");
        }

        return cublas;
    }

    /// <summary>A device vector of at least <paramref name="count"/> ones (the rank-1 bias GEMM's right operand).</summary>
    private CudaTensor<float> Ones(int count)
    {
        if (ones is null || ones.Length < count)
        {
            ones?.Dispose();
            additive?.Dispose();
            var host = new float[Math.Max(count, 256)];
            Array.Fill(host, 1f);
            ones = (CudaTensor<float>)backend.Upload<float>(host);
        }

        return ones;
    }

    private CublasComputeType ComputeType =>
        allowTensorFloat32 ? CublasComputeType.Compute32FFastTf32 : CublasComputeType.Compute32F;

    /// <summary>One GEMM (<c>GemmEx</c>) or <paramref name="batches"/> equally spaced ones (<c>GemmStridedBatchedEx</c>).</summary>
    private void Gemm(
        CublasHandle handle, CublasOperation transposeA, CublasOperation transposeB, int m, int n, int k, float* alpha,
        ulong a, int lda, long strideA, ulong b, int ldb, long strideB, float* beta, ulong c, int ldc, long strideC, int batches)
    {
        if (batches == 1)
        {
            CudaErrors.Check(
                Cublas.cublasGemmEx(
                    handle.Value, transposeA, transposeB, m, n, k, alpha, a, CudaDataType.R32F, lda, b, CudaDataType.R32F,
                    ldb, beta, c, CudaDataType.R32F, ldc, ComputeType, CublasGemmAlgorithm.Default),
                "cublasGemmEx");
            return;
        }

        CudaErrors.Check(
            Cublas.cublasGemmStridedBatchedEx(
                handle.Value, transposeA, transposeB, m, n, k, alpha, a, CudaDataType.R32F, lda, strideA, b,
                CudaDataType.R32F, ldb, strideB, beta, c, CudaDataType.R32F, ldc, strideC, batches, ComputeType,
                CublasGemmAlgorithm.Default),
            "cublasGemmStridedBatchedEx");
    }
}
