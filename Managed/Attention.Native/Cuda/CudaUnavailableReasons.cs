using System.Globalization;

namespace Attention.Native.Cuda;

/// <summary>
/// The messages of <see cref="CudaUnavailableException"/>: pure functions of what the probe found, so that each one
/// is tested on any machine. Each starts with "CUDA unavailable: " and says what was looked for and what was found.
/// </summary>
internal static class CudaUnavailableReasons
{
    private const string Prefix = "CUDA unavailable: ";

    public static string Not64BitProcess() =>
        Prefix + "this is a 32-bit process; the CUDA driver API needs a 64-bit process.";

    public static string LibraryNotFound(IReadOnlyList<string> tried, string operatingSystem) =>
        tried.Count == 0
            ? Prefix + $"no CUDA driver library is known for this operating system ({operatingSystem})."
            : Prefix + $"{JoinWithAnd(tried)} not found (is the NVIDIA driver installed?).";

    public static string InitFailed(string library, int? driverVersion, int result, string name, string description) =>
        Prefix + $"cuInit in {library}{(driverVersion is { } v ? $" (driver CUDA {Version(v)})" : string.Empty)} failed " +
        $"with {name} ({result}): {description}.";

    public static string DriverTooOld(int driverVersion, int requiredVersion) =>
        Prefix + $"the driver supports CUDA {Version(driverVersion)} (cuDriverGetVersion = {driverVersion}); " +
        $"Attention.Native needs CUDA {Version(requiredVersion)} ({requiredVersion}) or newer. Update the NVIDIA driver.";

    public static string DeviceNotFound(int deviceCount, int ordinal) =>
        deviceCount == 0
            ? Prefix + "the driver found no CUDA device (cuDeviceGetCount = 0)."
            : Prefix + $"device ordinal {ordinal} was requested but the driver found {deviceCount} " +
              $"device{(deviceCount == 1 ? string.Empty : "s")} (cuDeviceGetCount = {deviceCount}).";

    public static string ComputeCapabilityTooLow(int ordinal, string name, int major, int minor, int requiredMajor) =>
        Prefix + $"device {ordinal} ({name}) has compute capability {major}.{minor}; the kernels are compute_{requiredMajor}0 " +
        $"PTX, which needs {requiredMajor}.0 or newer.";

    public static string DeviceBusy(int ordinal, string name, string resultName) =>
        Prefix + $"device {ordinal} ({name}) is busy or unavailable ({resultName} from cuDevicePrimaryCtxRetain; " +
        "is it in an exclusive compute mode and used by another process?).";

    /// <summary>CUDA's integer version (1000·major + 10·minor) as text, e.g. 12080 → "12.8".</summary>
    public static string Version(int version) =>
        string.Create(CultureInfo.InvariantCulture, $"{version / 1000}.{version % 1000 / 10}");

    /// <summary>"a", "a and b", "a, b and c".</summary>
    private static string JoinWithAnd(IReadOnlyList<string> items) =>
        items.Count == 1 ? items[0] : string.Join(", ", items.Take(items.Count - 1)) + " and " + items[^1];
}
