using Attention.Native.Cuda;

namespace Attention.Native.Tests.Cuda;

/// <summary>What <see cref="CudaUnavailableException"/> says, and how the backend reports a missing device here.</summary>
[Trait("Device", "Cuda")]
public sealed class CudaAvailabilityTests
{
    [Fact]
    public void Missing_driver_library_lists_the_names_tried()
    {
        Assert.Equal(
            "CUDA unavailable: libcuda.so.1 and libcuda.so not found (is the NVIDIA driver installed?).",
            CudaUnavailableReasons.LibraryNotFound(["libcuda.so.1", "libcuda.so"], "Linux"));
        Assert.Equal(
            "CUDA unavailable: nvcuda.dll not found (is the NVIDIA driver installed?).",
            CudaUnavailableReasons.LibraryNotFound(["nvcuda.dll"], "Windows"));
        Assert.Equal(
            "CUDA unavailable: a, b and c not found (is the NVIDIA driver installed?).",
            CudaUnavailableReasons.LibraryNotFound(["a", "b", "c"], "Linux"));
        Assert.Contains("Darwin 23", CudaUnavailableReasons.LibraryNotFound([], "Darwin 23"), StringComparison.Ordinal);
    }

    [Fact]
    public void Failed_cuInit_names_the_library_and_the_CUresult()
    {
        string message = CudaUnavailableReasons.InitFailed(
            "libcuda.so", null, 34, "CUDA_ERROR_STUB_LIBRARY", "the loaded CUDA driver is a stub library, not a real driver");
        Assert.Equal(
            "CUDA unavailable: cuInit in libcuda.so failed with CUDA_ERROR_STUB_LIBRARY (34): " +
            "the loaded CUDA driver is a stub library, not a real driver.",
            message);
        Assert.Equal(
            "CUDA unavailable: cuInit in libcuda.so.1 (driver CUDA 12.2) failed with CUDA_ERROR_NO_DEVICE (100): " +
            "no CUDA-capable device is detected.",
            CudaUnavailableReasons.InitFailed("libcuda.so.1", 12020, 100, "CUDA_ERROR_NO_DEVICE", "no CUDA-capable device is detected"));
    }

    [Fact]
    public void Old_driver_gives_found_and_required_versions()
    {
        string message = CudaUnavailableReasons.DriverTooOld(11040, 12000);
        Assert.StartsWith("CUDA unavailable: the driver supports CUDA 11.4 (cuDriverGetVersion = 11040); ", message, StringComparison.Ordinal);
        Assert.Contains("needs CUDA 12.0 (12000) or newer", message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(12000, "12.0")]
    [InlineData(12080, "12.8")]
    [InlineData(11040, "11.4")]
    [InlineData(13010, "13.1")]
    public void Driver_version_as_text(int version, string text) => Assert.Equal(text, CudaUnavailableReasons.Version(version));

    [Fact]
    public void Device_count_is_reported()
    {
        Assert.Equal(
            "CUDA unavailable: the driver found no CUDA device (cuDeviceGetCount = 0).",
            CudaUnavailableReasons.DeviceNotFound(0, 0));
        Assert.Equal(
            "CUDA unavailable: device ordinal 3 was requested but the driver found 1 device (cuDeviceGetCount = 1).",
            CudaUnavailableReasons.DeviceNotFound(1, 3));
        Assert.Contains("found 2 devices", CudaUnavailableReasons.DeviceNotFound(2, 2), StringComparison.Ordinal);
    }

    [Fact]
    public void Old_device_gives_its_compute_capability_and_the_required_one()
    {
        string message = CudaUnavailableReasons.ComputeCapabilityTooLow(1, "Tesla T4", 7, 5, 8);
        Assert.Equal(
            "CUDA unavailable: device 1 (Tesla T4) has compute capability 7.5; the kernels are compute_80 PTX, " +
            "which needs 8.0 or newer.",
            message);
    }

    [Fact]
    public void IsAvailable_gives_a_reason_either_way()
    {
        bool available = CudaBackend.IsAvailable(out string reason);
        Assert.False(string.IsNullOrWhiteSpace(reason));
        Assert.Equal(available, reason.StartsWith("CUDA device ", StringComparison.Ordinal));
        Assert.Equal(!available, reason.StartsWith("CUDA unavailable: ", StringComparison.Ordinal));
    }

    [Fact]
    public void Each_device_is_probed_once_per_process()
    {
        // Ordinal 57 is probed by no other test, so its count starts at zero whatever ran before. Creating backends
        // on it again and again asks the driver once (cuInit and all), and gives the first verdict every time.
        const int ordinal = 57;
        var verdicts = new List<string>();
        for (int i = 0; i < 4; i++)
        {
            try
            {
                using var backend = new CudaBackend(new CudaBackendOptions { DeviceOrdinal = ordinal });
                verdicts.Add(backend.DeviceName);
            }
            catch (CudaUnavailableException e)
            {
                verdicts.Add(e.Message);
            }
        }

        Assert.Equal(1, CudaAvailability.ProbeCount(ordinal));
        Assert.Single(verdicts.Distinct());

        // Auto and IsAvailable probe device 0: once, whichever test asked first.
        using (AttentionBackend.Create())
        {
        }

        int probes = CudaAvailability.ProbeCount(0);
        for (int i = 0; i < 4; i++)
        {
            using var backend = AttentionBackend.Create();
            CudaBackend.IsAvailable(out _);
        }

        Assert.Equal(1, probes);
        Assert.Equal(probes, CudaAvailability.ProbeCount(0));
    }

    [Fact]
    public void Negative_device_ordinal_is_rejected_before_probing()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new CudaBackend(new CudaBackendOptions { DeviceOrdinal = -1 }));
        Assert.Equal("options", error.ParamName);
        Assert.Contains("DeviceOrdinal", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Absent_device_ordinal_is_unavailable_on_any_machine()
    {
        var error = Assert.Throws<CudaUnavailableException>(() => new CudaBackend(new CudaBackendOptions { DeviceOrdinal = 99 }));
        Assert.StartsWith("CUDA unavailable: ", error.Message, StringComparison.Ordinal);
        if (CudaTestEnvironment.IsAvailable)
        {
            Assert.Contains("device ordinal 99 was requested", error.Message, StringComparison.Ordinal);
        }
        else
        {
            Assert.Equal(CudaTestEnvironment.Reason, error.Message);
        }
    }
}
