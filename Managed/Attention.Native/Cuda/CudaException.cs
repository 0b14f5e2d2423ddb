using Attention.Native.Cuda.Interop;

namespace Attention.Native.Cuda;

/// <summary>
/// A CUDA driver call failed. Carries the <c>CUresult</c> code, its name (e.g. <c>CUDA_ERROR_OUT_OF_MEMORY</c>), its
/// description and the driver function that returned it; the message holds all four.
/// </summary>
public sealed class CudaException : Exception
{
    private const int UnknownResult = 999;

    /// <summary>Creates an exception for an unspecified driver failure (<c>CUDA_ERROR_UNKNOWN</c>).</summary>
    public CudaException()
        : this("A CUDA driver call failed.")
    {
    }

    /// <summary>Creates an exception with a message and no specific code (<c>CUDA_ERROR_UNKNOWN</c>).</summary>
    /// <param name="message">What failed.</param>
    public CudaException(string message)
        : this(message, null)
    {
    }

    /// <summary>Creates an exception with a message and a cause, and no specific code (<c>CUDA_ERROR_UNKNOWN</c>).</summary>
    /// <param name="message">What failed.</param>
    /// <param name="innerException">The cause.</param>
    public CudaException(string message, Exception? innerException)
        : base(message, innerException)
    {
        Result = UnknownResult;
        (ResultName, ResultDescription) = CudaErrors.DescribeFromTable(UnknownResult);
        Call = string.Empty;
    }

    /// <summary>Creates the exception for <paramref name="call"/> having returned <paramref name="result"/>.</summary>
    /// <param name="result">The <c>CUresult</c>.</param>
    /// <param name="call">The driver function.</param>
    /// <param name="detail">More text for the message (a JIT log, the operand); null for none.</param>
    internal CudaException(int result, string call, string? detail = null)
        : this(result, call, CudaErrors.Describe(result), detail)
    {
    }

    private CudaException(int result, string call, (string Name, string Description) text, string? detail)
        : base(Format(result, call, text, detail))
    {
        Result = result;
        ResultName = text.Name;
        ResultDescription = text.Description;
        Call = call;
    }

    /// <summary>The <c>CUresult</c> value the driver returned.</summary>
    public int Result { get; }

    /// <summary>The name of <see cref="Result"/>, e.g. <c>CUDA_ERROR_ILLEGAL_ADDRESS</c>.</summary>
    public string ResultName { get; }

    /// <summary>The driver's description of <see cref="Result"/> (or this library's, when the driver cannot say).</summary>
    public string ResultDescription { get; }

    /// <summary>The driver function that failed, e.g. <c>cuLaunchKernel</c>; empty when not known.</summary>
    public string Call { get; }

    private static string Format(int result, string call, (string Name, string Description) text, string? detail) =>
        $"{call} failed with {text.Name} ({result}): {text.Description}." + (detail is null ? string.Empty : " " + detail);
}
