using System.Runtime.InteropServices;
using System.Text;
using Attention.Native.Cuda.Interop;

namespace Attention.Native.Cuda;

/// <summary>
/// Finds out whether the CUDA backend can run: loads the driver library, <c>cuInit</c>, checks the driver version,
/// the device count and the device's compute capability. Every failure becomes a
/// <see cref="CudaUnavailableException"/> whose message comes from <see cref="CudaUnavailableReasons"/>. The verdict
/// on each device is found once per process and remembered (the driver enumerates its devices once, at
/// <c>cuInit</c>): every <c>AttentionBackend.Create()</c> would otherwise repeat the probe, and each failing
/// <c>cuInit</c> grows the process by a few kilobytes. A <see cref="CudaException"/> (the driver failing mid-probe) is
/// not remembered.
/// </summary>
internal static unsafe class CudaAvailability
{
    private static readonly Dictionary<int, Verdict> Verdicts = [];
    private static readonly Dictionary<int, int> Probes = [];
    private static readonly Lock Gate = new();

    /// <summary>
    /// The oldest driver accepted: CUDA 11.8. The calls bound here exist since 11.0; the embedded PTX is ISA 7.8, made
    /// by the CUDA 11.8 toolkit (see Native/README.md), and a driver refuses PTX newer than itself
    /// (<c>CUDA_ERROR_UNSUPPORTED_PTX_VERSION</c>). Raise this together with the toolkit that builds the PTX.
    /// </summary>
    public const int MinimumDriverVersion = 11080;

    /// <summary>The PTX baseline is compute_80 (Ampere), so devices below 8.0 cannot JIT it.</summary>
    public const int MinimumComputeCapabilityMajor = 8;

    /// <summary>What is known of device <paramref name="ordinal"/>: probed on the first call, remembered after.</summary>
    /// <param name="ordinal">The device ordinal.</param>
    /// <returns>What was found.</returns>
    /// <exception cref="CudaUnavailableException">CUDA cannot run here; the message says why.</exception>
    /// <exception cref="CudaException">The driver failed while probing (tried again on the next call).</exception>
    public static CudaDeviceInfo Probe(int ordinal)
    {
        Verdict verdict;
        lock (Gate)
        {
            if (!Verdicts.TryGetValue(ordinal, out verdict))
            {
                Probes[ordinal] = Probes.GetValueOrDefault(ordinal) + 1;
                try
                {
                    verdict = new Verdict(ProbeDriver(ordinal), null);
                }
                catch (CudaUnavailableException e)
                {
                    verdict = new Verdict(null, e.Message);
                }

                Verdicts[ordinal] = verdict;
            }
        }

        // A fresh exception per call: one thrown from several threads would share (and garble) its stack trace.
        return verdict.Device ?? throw new CudaUnavailableException(verdict.Reason!);
    }

    /// <summary>How many times device <paramref name="ordinal"/> has been probed in this process (for tests).</summary>
    internal static int ProbeCount(int ordinal)
    {
        lock (Gate)
        {
            return Probes.GetValueOrDefault(ordinal);
        }
    }

    /// <summary>Asks the driver about device <paramref name="ordinal"/>.</summary>
    private static CudaDeviceInfo ProbeDriver(int ordinal)
    {
        if (!Environment.Is64BitProcess)
        {
            throw new CudaUnavailableException(CudaUnavailableReasons.Not64BitProcess());
        }

        var library = NativeLibraryResolver.Load(NativeLibraryNames.Driver);
        if (!library.IsLoaded)
        {
            throw new CudaUnavailableException(
                CudaUnavailableReasons.LibraryNotFound(library.Tried, RuntimeInformation.OSDescription));
        }

        // cuDriverGetVersion needs no cuInit: a machine with a driver but no GPU still reports what it has.
        int version = 0;
        var versionResult = CudaDriver.cuDriverGetVersion(&version);
        var init = CudaDriver.cuInit(0);
        if (init != CudaResult.Success)
        {
            var (name, description) = CudaErrors.Describe((int)init);
            throw new CudaUnavailableException(CudaUnavailableReasons.InitFailed(
                library.FileName!, versionResult == CudaResult.Success ? version : null, (int)init, name, description));
        }

        CudaErrors.Check(versionResult, "cuDriverGetVersion");
        if (version < MinimumDriverVersion)
        {
            throw new CudaUnavailableException(CudaUnavailableReasons.DriverTooOld(version, MinimumDriverVersion));
        }

        int count = 0;
        CudaErrors.Check(CudaDriver.cuDeviceGetCount(&count), "cuDeviceGetCount");
        if (ordinal >= count)
        {
            throw new CudaUnavailableException(CudaUnavailableReasons.DeviceNotFound(count, ordinal));
        }

        int device = 0;
        CudaErrors.Check(CudaDriver.cuDeviceGet(&device, ordinal), "cuDeviceGet");
        string deviceName = Name(device);
        int major = Attribute(device, CudaDeviceAttribute.ComputeCapabilityMajor);
        int minor = Attribute(device, CudaDeviceAttribute.ComputeCapabilityMinor);
        if (major < MinimumComputeCapabilityMajor)
        {
            throw new CudaUnavailableException(CudaUnavailableReasons.ComputeCapabilityTooLow(
                ordinal, deviceName, major, minor, MinimumComputeCapabilityMajor));
        }

        nuint memory = 0;
        CudaErrors.Check(CudaDriver.cuDeviceTotalMem_v2(&memory, device), "cuDeviceTotalMem_v2");
        return new CudaDeviceInfo(
            ordinal, device, deviceName, major, minor, (long)memory, version, library.FileName!,
            Attribute(device, CudaDeviceAttribute.MaxGridDimY), Attribute(device, CudaDeviceAttribute.MaxGridDimZ),
            Attribute(device, CudaDeviceAttribute.MaxSharedMemoryPerBlockOptIn),
            Attribute(device, CudaDeviceAttribute.MultiprocessorCount));
    }

    /// <summary>One device attribute.</summary>
    /// <exception cref="CudaException">The driver refused.</exception>
    public static int Attribute(int device, CudaDeviceAttribute attribute)
    {
        int value = 0;
        var result = CudaDriver.cuDeviceGetAttribute(&value, attribute, device);
        if (result != CudaResult.Success)
        {
            throw new CudaException((int)result, "cuDeviceGetAttribute", $"({attribute})");
        }

        return value;
    }

    /// <summary>A device found, or the reason none can be used.</summary>
    private readonly record struct Verdict(CudaDeviceInfo? Device, string? Reason);

    private static string Name(int device)
    {
        const int Capacity = 256;
        byte* buffer = stackalloc byte[Capacity];
        CudaErrors.Check(CudaDriver.cuDeviceGetName(buffer, Capacity, device), "cuDeviceGetName");
        var bytes = new ReadOnlySpan<byte>(buffer, Capacity);
        int end = bytes.IndexOf((byte)0);
        return Encoding.UTF8.GetString(end < 0 ? bytes : bytes[..end]);
    }
}
