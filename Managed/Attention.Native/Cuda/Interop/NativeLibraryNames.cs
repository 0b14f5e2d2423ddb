using System.Runtime.InteropServices;

namespace Attention.Native.Cuda.Interop;

/// <summary>
/// The file names tried, in order, for each native library this assembly binds: a pure function of the library and
/// the operating system, so that the lists are tested on any machine.
/// </summary>
internal static class NativeLibraryNames
{
    /// <summary>The name the driver-API <c>[LibraryImport]</c>s use (<c>libcuda</c> / <c>nvcuda.dll</c>).</summary>
    public const string Driver = "cuda";

    /// <summary>The name the cuBLAS <c>[LibraryImport]</c>s use.</summary>
    public const string Blas = "cublas";

    /// <summary>
    /// The environment variable naming the cuBLAS file to load (<c>/path/libcublas.so.13</c>), read when cuBLAS is
    /// first loaded. cuBLAS often lives off the loader's path: PyTorch's wheels carry it in
    /// <c>site-packages/nvidia/cublas/lib</c> or <c>nvidia/cu13/lib</c>.
    /// </summary>
    public const string BlasOverrideVariable = "ATTENTION_NATIVE_CUBLAS";

    /// <summary>The operating system this process runs on, as <see cref="Candidates"/> takes it.</summary>
    public static OSPlatform CurrentPlatform =>
        OperatingSystem.IsWindows() ? OSPlatform.Windows
        : OperatingSystem.IsLinux() ? OSPlatform.Linux
        : OperatingSystem.IsMacOS() ? OSPlatform.OSX
        : OSPlatform.FreeBSD;

    /// <summary>
    /// The file names to try for <paramref name="library"/> on <paramref name="platform"/>, most preferred first;
    /// empty for a library this assembly does not resolve itself or an OS without CUDA.
    /// </summary>
    /// <remarks>
    /// <c>libcuda.so.1</c> comes first because the unversioned <c>libcuda.so</c> ships only with the toolkit's
    /// development files (or as the toolkit's stub, which fails <c>cuInit</c>); a driver-only machine has just the
    /// <c>.so.1</c>. cuBLAS is tried newest major version first; its ABI for the calls bound here is stable across them.
    /// A non-empty <paramref name="blasOverride"/> (<see cref="BlasOverrideVariable"/>'s value) is cuBLAS's only
    /// candidate, so that a file named explicitly is never silently replaced by another cuBLAS on the loader's path.
    /// </remarks>
    public static string[] Candidates(string library, OSPlatform platform, string? blasOverride = null)
    {
        if (library == Blas && !string.IsNullOrWhiteSpace(blasOverride) && (platform == OSPlatform.Linux || platform == OSPlatform.Windows))
        {
            return [blasOverride];
        }

        bool linux = platform == OSPlatform.Linux;
        bool windows = platform == OSPlatform.Windows;
        return library switch
        {
            Driver when linux => ["libcuda.so.1", "libcuda.so"],
            Driver when windows => ["nvcuda.dll"],
            Blas when linux => ["libcublas.so.13", "libcublas.so.12", "libcublas.so.11"],
            Blas when windows => ["cublas64_13.dll", "cublas64_12.dll", "cublas64_11.dll"],
            _ => [],
        };
    }
}
