namespace Attention.Native.Cuda.Interop;

/// <summary>
/// A cuBLAS handle from <c>cublasCreate_v2</c>, destroyed with <c>cublasDestroy_v2</c>. cuBLAS binds to the context
/// current at creation, which is the primary context here, so it shares device memory with the rest of the library.
/// </summary>
internal sealed unsafe class CublasHandle : ContextBoundHandle
{
    private CublasHandle(PrimaryContextHandle context)
        : base(context)
    {
    }

    /// <summary>Creates a cuBLAS handle whose work goes to <paramref name="stream"/>.</summary>
    /// <param name="context">The primary context.</param>
    /// <param name="stream">The <c>CUstream</c> for its kernels.</param>
    /// <returns>The handle; dispose it to destroy it.</returns>
    /// <exception cref="InvalidOperationException">No cuBLAS library was found (the message lists the names tried).</exception>
    /// <exception cref="CublasException">cuBLAS refused.</exception>
    public static CublasHandle Create(PrimaryContextHandle context, nint stream)
    {
        var library = NativeLibraryResolver.Load(NativeLibraryNames.Blas);
        if (!library.IsLoaded)
        {
            throw new InvalidOperationException(
                $"cuBLAS not found: tried {string.Join(", ", library.Tried)}. Install the CUDA toolkit's cuBLAS, or set " +
                $"{NativeLibraryNames.BlasOverrideVariable} to its file.");
        }

        context.MakeCurrent();
        var created = new CublasHandle(context);
        nint raw = 0;
        var status = Cublas.cublasCreate_v2(&raw);
        if (status != CublasStatus.Success)
        {
            created.Abandon();
            CudaErrors.Check(status, "cublasCreate_v2");
        }

        created.SetHandle(raw);
        try
        {
            CudaErrors.Check(Cublas.cublasSetStream_v2(raw, stream), "cublasSetStream_v2");
        }
        catch
        {
            created.Dispose();
            throw;
        }

        return created;
    }

    /// <summary>The raw <c>cublasHandle_t</c>; only while the handle is open.</summary>
    public nint Value => handle;

    /// <inheritdoc />
    protected override bool Free() => Cublas.cublasDestroy_v2(handle) == CublasStatus.Success;
}
