using Attention.Native.Cuda.Interop;

namespace Attention.Native.Cuda;

/// <summary>
/// A cuBLAS call failed. Carries the <c>cublasStatus_t</c> code, its name (e.g. <c>CUBLAS_STATUS_INVALID_VALUE</c>), its
/// description and the cuBLAS function that returned it; the message holds all four.
/// </summary>
public sealed class CublasException : Exception
{
    private const int InternalError = 14;

    /// <summary>Creates an exception for an unspecified cuBLAS failure (<c>CUBLAS_STATUS_INTERNAL_ERROR</c>).</summary>
    public CublasException()
        : this("A cuBLAS call failed.")
    {
    }

    /// <summary>Creates an exception with a message and no specific status (<c>CUBLAS_STATUS_INTERNAL_ERROR</c>).</summary>
    /// <param name="message">What failed.</param>
    public CublasException(string message)
        : this(message, null)
    {
    }

    /// <summary>Creates an exception with a message and a cause, and no specific status.</summary>
    /// <param name="message">What failed.</param>
    /// <param name="innerException">The cause.</param>
    public CublasException(string message, Exception? innerException)
        : base(message, innerException)
    {
        Status = InternalError;
        (StatusName, StatusDescription) = CublasStatusTable.Describe(InternalError);
        Call = string.Empty;
    }

    /// <summary>Creates the exception for <paramref name="call"/> having returned <paramref name="status"/>.</summary>
    /// <param name="status">The <c>cublasStatus_t</c>.</param>
    /// <param name="call">The cuBLAS function.</param>
    internal CublasException(int status, string call)
        : this(status, call, CublasStatusTable.Describe(status))
    {
    }

    private CublasException(int status, string call, (string Name, string Description) text)
        : base($"{call} failed with {text.Name} ({status}): {text.Description}.")
    {
        Status = status;
        StatusName = text.Name;
        StatusDescription = text.Description;
        Call = call;
    }

    /// <summary>The <c>cublasStatus_t</c> value cuBLAS returned.</summary>
    public int Status { get; }

    /// <summary>The name of <see cref="Status"/>, e.g. <c>CUBLAS_STATUS_NOT_SUPPORTED</c>.</summary>
    public string StatusName { get; }

    /// <summary>What <see cref="Status"/> means.</summary>
    public string StatusDescription { get; }

    /// <summary>The cuBLAS function that failed, e.g. <c>cublasGemmEx</c>; empty when not known.</summary>
    public string Call { get; }
}
