namespace Attention.Native.Cuda;

/// <summary>
/// The CUDA backend cannot run on this machine: no driver library, a stub driver, no device, a driver or device too
/// old. The message says exactly what was looked for and found (library names tried, device count, driver version
/// against the required one). <see cref="AttentionBackend.Create"/> with <see cref="AttentionBackendKind.Auto"/>
/// catches it and falls back to the CPU, giving the message as the reason. It is a
/// <see cref="PlatformNotSupportedException"/> (a <see cref="NotSupportedException"/>), as asking for a backend this
/// machine cannot run has always been.
/// </summary>
public sealed class CudaUnavailableException : PlatformNotSupportedException
{
    /// <summary>Creates an exception saying CUDA is unavailable, without details.</summary>
    public CudaUnavailableException()
        : this("CUDA unavailable.")
    {
    }

    /// <summary>Creates an exception with the given explanation.</summary>
    /// <param name="message">What was looked for and what was found.</param>
    public CudaUnavailableException(string message)
        : base(message)
    {
    }

    /// <summary>Creates an exception with the given explanation and cause.</summary>
    /// <param name="message">What was looked for and what was found.</param>
    /// <param name="innerException">The failure that made CUDA unavailable.</param>
    public CudaUnavailableException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}
