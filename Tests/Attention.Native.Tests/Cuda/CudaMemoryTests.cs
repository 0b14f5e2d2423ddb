using System.Runtime.CompilerServices;
using Attention.Native.Cuda;

namespace Attention.Native.Tests.Cuda;

/// <summary>
/// Device memory comes back: by Dispose, by the SafeHandle finalizers, and after the backend is gone. These read
/// cuMemGetInfo, so they run alone (no other CUDA test allocating meanwhile).
/// </summary>
[Collection(GpuMemoryCollection.Name)]
[Trait("Device", "Cuda")]
public sealed class CudaMemoryTests
{
    private const long Tolerance = 4L << 20;
    private const long TensorElements = 16L << 20; // 64 MiB of floats

    [CudaFact]
    public void Allocation_cycles_leave_free_memory_where_it_started()
    {
        using var backend = new CudaBackend();
        long before = FreeAfterWarmUp(backend);
        for (int cycle = 0; cycle < 25; cycle++)
        {
            var tensors = Enumerable.Range(0, 8).Select(_ => backend.Allocate<float>(TensorElements)).ToList();
            Assert.True(backend.MemoryInfo().Free <= before - (8 * TensorElements * sizeof(float)) + Tolerance);
            tensors.ForEach(t => t.Dispose());
        }

        AssertFreeIsBackTo(backend, before);
    }

    [CudaFact]
    public void Finalizers_free_tensors_that_were_never_disposed()
    {
        using var backend = new CudaBackend();
        long before = FreeAfterWarmUp(backend);
        AllocateAndDrop(backend, 8);
        Assert.True(backend.MemoryInfo().Free < before - Tolerance);
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        AssertFreeIsBackTo(backend, before);
    }

    [CudaFact]
    public void Tensors_outlive_their_backend_and_are_freed_after_it()
    {
        using var observer = new CudaBackend();
        long before = FreeAfterWarmUp(observer);
        AttentionTensor<float> orphan;
        using (var backend = new CudaBackend())
        {
            orphan = backend.Upload<float>(new float[TensorElements]);
        }

        Assert.False(orphan.IsDisposed);
        Assert.Throws<ObjectDisposedException>(() => orphan.CopyTo(new float[4]));
        orphan.Dispose();
        orphan.Dispose();
        Assert.True(orphan.IsDisposed);
        AssertFreeIsBackTo(observer, before);
    }

    [CudaFact]
    public void Span_calls_free_their_staging_buffers()
    {
        using var backend = new CudaBackend();
        // Staging is sized by the operands, not the work: the emulated device takes a shorter sequence of the same kind.
        int length = CudaTestEnvironment.IsEmulated ? 30 : 300;
        var shape = new AttentionShape(2, 4, length, length, 64);
        float[] q = new float[shape.QueryElementCount];
        float[] o = new float[shape.OutputElementCount];
        backend.ScaledDotProductAttention<float>(shape, q, q, q, o); // loads the module, sizes nothing persistent
        long before = backend.MemoryInfo().Free;
        for (int i = 0; i < 10; i++)
        {
            backend.ScaledDotProductAttention<float>(shape, q, q, q, o);
        }

        AssertFreeIsBackTo(backend, before);
    }

    /// <summary>Free memory once the context's first use has reserved what it keeps for itself.</summary>
    private static long FreeAfterWarmUp(CudaBackend backend)
    {
        backend.Allocate<float>(1).Dispose();
        return backend.MemoryInfo().Free;
    }

    private static void AssertFreeIsBackTo(CudaBackend backend, long before) =>
        Assert.InRange(before - backend.MemoryInfo().Free, -Tolerance, Tolerance);

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void AllocateAndDrop(CudaBackend backend, int count)
    {
        for (int i = 0; i < count; i++)
        {
            _ = backend.Allocate<float>(TensorElements);
        }
    }
}

/// <summary>Tests that measure free device memory run alone: xunit starts this collection after the parallel ones.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class GpuMemoryCollection
{
    public const string Name = "GPU memory";
}
