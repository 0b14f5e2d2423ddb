using System.Runtime.CompilerServices;
using Attention.Native.Cuda;

namespace Attention.Native.Tests;

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
