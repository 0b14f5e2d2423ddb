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
    /// Perf/device/rehearsal.sh: run.sh from the pack on the emulated device, as on the GPU machine, once with a
    /// stand-in torch, cuBLAS found in a fake site-packages and two planted PTX faults (a missing bucket entry, a module
    /// the JIT rejects), once with no python and cuBLAS named by ATTENTION_NATIVE_CUBLAS. It fails unless every report
    /// file is written, the planted faults are failed rows and nothing else failed in the modules, benchmark and sweep,
    /// within 8 minutes. Skipped where the emulated device cannot be built (no C++20 compiler or toolkit headers).
    /// </summary>
    [Fact]
    public async Task Device_script_rehearses_on_the_emulated_device_with_planted_faults()
    {
        await ProgramCheck.Run("device-pack-for-rehearsal", TimeSpan.FromMinutes(5), "bash", "Perf/device/pack.sh");
        await ProgramCheck.Run("device-rehearsal", TimeSpan.FromMinutes(8), "bash", "Perf/device/rehearsal.sh");
    }
}
