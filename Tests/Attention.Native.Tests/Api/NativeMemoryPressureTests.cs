using System.Runtime.CompilerServices;
using Attention.Native.Cpu;

namespace Attention.Native.Tests.Api;

/// <summary>
/// A CPU tensor's native memory is reported to the GC (<see cref="GC.AddMemoryPressure"/>) while it lives and
/// withdrawn exactly once when it is freed, by <see cref="AttentionTensor{T}.Dispose()"/> or by its finalizer.
/// </summary>
[Collection(ProcessCountersCollection.Name)]
public sealed class NativeMemoryPressureTests
{
    [Fact]
    public void A_cpu_tensor_reports_its_bytes_until_disposed_once()
    {
        using var backend = BadCall.NewBackend();
        long before = Settled();
        var tensor = backend.Allocate<Half>(1001);
        Assert.Equal(before + 2002, AlignedMemoryHandle.ReportedBytes);
        using (var other = backend.Allocate<float>(3))
        {
            Assert.Equal(before + 2002 + 12, AlignedMemoryHandle.ReportedBytes);
        }

        tensor.Dispose();
        Assert.Equal(before, AlignedMemoryHandle.ReportedBytes);
        tensor.Dispose();
        Assert.Equal(before, AlignedMemoryHandle.ReportedBytes);
    }

    [Fact]
    public void A_cpu_tensor_left_to_the_finalizer_withdraws_its_bytes()
    {
        using var backend = BadCall.NewBackend();
        long before = Settled();
        AllocateAndDrop(backend);
        Assert.Equal(before, Settled());
    }

    /// <summary>The reported bytes once every unreachable tensor has been finalized.</summary>
    private static long Settled()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        return AlignedMemoryHandle.ReportedBytes;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void AllocateAndDrop(AttentionBackend backend)
    {
        var tensor = backend.Allocate<float>(1 << 16);
        Assert.True(AlignedMemoryHandle.ReportedBytes >= 4L << 16);
        GC.KeepAlive(tensor);
    }
}
