namespace Attention.Native.IntegrationTests;

/// <summary>The GPU machine's tooling, exercised here without a GPU.</summary>
[Trait("Category", "Integration")]
public sealed class DeviceTests
{
    /// <summary>
    /// Perf/device/pack.sh fills .device-pack/ (runtime, tests, perf tool, manifest) under its size limit, then
    /// Perf/device/dry-run.sh runs Perf/device/run.sh from it as the GPU machine would, with no GPU and no system
    /// dotnet, and it must write its report.
    /// </summary>
    [Fact]
    public async Task Device_pack_runs_its_script_without_a_gpu()
    {
        await ProgramCheck.Run("device-pack", TimeSpan.FromMinutes(5), "bash", "Perf/device/pack.sh");
        await ProgramCheck.Run("device-dry-run", TimeSpan.FromMinutes(10), "bash", "Perf/device/dry-run.sh");
    }

    /// <summary>
    /// gpu-bench's CUDA path (events, input rotation, forced kernels, the CSV) on tiny shapes against the emulated device
    /// (Native/check.sh emulated-device, first on LD_LIBRARY_PATH): it fails on any error row. Skipped where the
    /// emulated device cannot be built (no C++20 compiler or CUDA toolkit headers).
    /// </summary>
    [Fact]
    public Task Gpu_bench_runs_on_the_emulated_device() =>
        ProgramCheck.Run("emulated-gpu-bench", TimeSpan.FromMinutes(5), "bash", "-c",
            """
            set -e
            dir=artifacts/cuda-emulation
            bash Native/check.sh emulated-device "$dir"
            LD_LIBRARY_PATH="$PWD/$dir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" dotnet "$1" gpu-bench \
              --shapes Perf/device/shapes-emulated.json --out artifacts/integration/emulated-gpu-bench.csv --budget-seconds 120
            """,
            "emulated-gpu-bench", ProgramCheck.BuiltDll("Perf/Attention.Native.Perf", "Attention.Native.Perf"));
}
