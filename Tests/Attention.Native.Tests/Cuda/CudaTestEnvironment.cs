using System.Runtime.CompilerServices;
using Attention.Native.Cuda;

namespace Attention.Native.Tests.Cuda;

/// <summary>Whether this machine has a usable CUDA device, probed once per test run, and the skips that follow from it.</summary>
public static class CudaTestEnvironment
{
    private static readonly Lazy<(bool Available, string Reason)> Probe = new(() =>
    {
        bool available = CudaBackend.IsAvailable(out string reason);
        return (available, reason);
    });

    public static bool IsAvailable => Probe.Value.Available;

    /// <summary>The device found, or why CUDA is unavailable.</summary>
    public static string Reason => Probe.Value.Reason;

    public static string SkipReason => $"needs a CUDA device; {Reason}";

    /// <summary>
    /// A backend held for the whole run, so that the device's primary context stays active between tests that each
    /// create and dispose their own backend (otherwise every test would re-create the context).
    /// </summary>
    private static readonly Lazy<CudaBackend> ContextHolder = new(() => new CudaBackend());

    /// <summary>Skips the running test, with the reason, when there is no usable device.</summary>
    public static void SkipUnlessAvailable()
    {
        Assert.SkipUnless(IsAvailable, SkipReason);
        _ = ContextHolder.Value;
    }

    /// <summary>
    /// Whether the device is the emulated one of Native/emulation/device/cuda_driver.cpp (its name says so): the
    /// kernels' own source on CPU fibers, which ./build.sh test puts first on LD_LIBRARY_PATH for a second run of the
    /// GPU classes on machines without a GPU.
    /// </summary>
    public static bool IsEmulated => IsAvailable && Reason.Contains("emulated", StringComparison.Ordinal);

    /// <summary>
    /// Multiply-adds of attention (B·Hq·Lq·Lk·(D + Dv)) one test may run on the emulated device. Its fibers switch at
    /// every shuffle and barrier, about 5 million multiply-adds a second on one core: larger problems are a GPU's.
    /// </summary>
    public const long EmulatedWorkLimit = 3_000_000;

    /// <summary>Skips the running test on the emulated device when the problem is larger than it runs in a second or so.</summary>
    public static void SkipWhenEmulatedAndLarge(AttentionShape shape)
    {
        long work = (long)shape.Batch * shape.QueryHeads * shape.QueryLength * shape.KeyLength * (shape.HeadDim + shape.ValueHeadDim);
        Assert.SkipWhen(
            IsEmulated && work > EmulatedWorkLimit,
            $"{work:N0} multiply-adds are for a GPU; the emulated device runs at most {EmulatedWorkLimit:N0} a test");
    }

    /// <summary>Skips the running test when a device IS present (for tests of the no-CUDA behaviour).</summary>
    public static void SkipIfAvailable() =>
        Assert.SkipWhen(IsAvailable, $"CUDA is present here ({Reason}); this test checks the behaviour without it");
}

/// <summary>A fact that is skipped, with the probe's reason, where no usable CUDA device is found.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class CudaFactAttribute : FactAttribute
{
    public CudaFactAttribute([CallerFilePath] string? sourceFilePath = null, [CallerLineNumber] int sourceLineNumber = -1)
        : base(sourceFilePath, sourceLineNumber)
    {
        if (!CudaTestEnvironment.IsAvailable)
        {
            Skip = CudaTestEnvironment.SkipReason;
        }
    }
}

/// <summary>A theory that is skipped, with the probe's reason, where no usable CUDA device is found.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class CudaTheoryAttribute : TheoryAttribute
{
    public CudaTheoryAttribute([CallerFilePath] string? sourceFilePath = null, [CallerLineNumber] int sourceLineNumber = -1)
        : base(sourceFilePath, sourceLineNumber)
    {
        if (!CudaTestEnvironment.IsAvailable)
        {
            Skip = CudaTestEnvironment.SkipReason;
        }
    }
}
