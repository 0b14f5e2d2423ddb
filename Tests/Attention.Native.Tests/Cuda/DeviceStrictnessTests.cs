using System.Text;
using System.Text.RegularExpressions;
using Attention.Native.Cuda;
using Attention.Native.Cuda.Interop;
using Attention.Native.Cuda.Simt;

namespace Attention.Native.Tests.Cuda;

/// <summary>
/// What a GPU's driver refuses or reports, held on the device the tests run on: PTX statements its JIT rejects, each
/// kernel's registers as its JIT compiled them, and (on the emulated device, where the outcome is certain rather than
/// a race) work that the host reads or times before synchronising with it. Kernel faults — misaligned and
/// out-of-range accesses, which leave the context unusable — and block interleaving are planted in the emulated
/// device's own self-test (Native/emulation/device_selftest.cpp, run by Native/check.sh).
/// </summary>
[Trait("Device", "Cuda")]
public sealed unsafe partial class DeviceStrictnessTests
{
    private const string Head = ".version 7.0\n.target sm_80\n.address_size 64\n.visible .entry planted()\n{\n\t.reg .b32 \t%r<3>;\n";

    /// <summary>The planted statement is line 7; ptxas names a missing ';' at the token after it.</summary>
    [CudaTheory]
    [InlineData("an instruction without operands", "\tbogus.instruction;\n", "line 7;", "'bogus'")]
    [InlineData("an undeclared register", "\tmov.u32 \t%r9, 0;\n", "line 7;", "%r9")]
    [InlineData("a statement without its ';'", "\tmov.u32 \t%r1, 0\n", "line ", "syntax error")]
    public void A_ptx_statement_the_JIT_rejects_fails_the_load_naming_it(string planted, string line, string where, string what)
    {
        using var backend = new CudaBackend();
        byte[] ptx = Encoding.ASCII.GetBytes(Head + line + "\tret;\n}\n\0");
        var error = Assert.Throws<CudaException>(() => CudaModuleHandle.Load(backend.Context, ptx, "planted.ptx"));
        Assert.True(error.ResultName == "CUDA_ERROR_INVALID_PTX", $"{planted}: {error.Message}");
        Assert.Contains(where, error.Message, StringComparison.Ordinal);
        Assert.Contains(what, error.Message, StringComparison.Ordinal);
    }

    [CudaFact]
    public void The_same_body_with_the_statement_fixed_loads()
    {
        using var backend = new CudaBackend();
        byte[] ptx = Encoding.ASCII.GetBytes(Head + "\tmov.u32 \t%r1, %tid.x;\n\tret;\n}\n\0");
        using var module = CudaModuleHandle.Load(backend.Context, ptx, "fixed.ptx");
        Assert.NotEqual(0, module.Value);
    }

    /// <summary>
    /// NUM_REGS of every attention_simt kernel is the figure the JIT's verbose info log gives for it, and the launch
    /// limit it reports is what those registers allow (65 536 a multiprocessor, allocated per warp in units of 256).
    /// </summary>
    [CudaFact]
    public void Registers_are_the_JITs_and_limit_the_threads_a_block()
    {
        using var backend = new CudaBackend();
        using var module = CudaModuleHandle.Load(
            backend.Context, PtxResource.Read(AttentionSimtKernels.ResourceName), AttentionSimtKernels.ResourceName);
        if (CudaTestEnvironment.IsEmulated)
        {
            Assert.SkipWhen(
                module.InfoLog.Contains("not measured", StringComparison.Ordinal),
                $"the emulated device has no ptxas here: {module.InfoLog}");
            Assert.Contains("ptxas -v -arch=sm_90", module.InfoLog, StringComparison.Ordinal);
        }
        else
        {
            // A GPU driver whose JIT cache (CUDA_CACHE_PATH) holds the module loads it without compiling: no figures.
            Assert.SkipWhen(
                !module.InfoLog.Contains("Compiling entry function", StringComparison.Ordinal),
                $"the driver's JIT did not compile the module (its cache served it; CUDA_CACHE_DISABLE=1 makes it): {module.InfoLog}");
        }

        foreach (string name in new[] { KernelNames.AttentionSimtF32Name, KernelNames.AttentionSimtF16Name, KernelNames.AttentionSimtBf16Name })
        {
            nint function = module.GetFunction(name);
            int registers = Attribute(function, CudaFunctionAttribute.NumRegisters);
            int maxThreads = Attribute(function, CudaFunctionAttribute.MaxThreadsPerBlock);
            Assert.InRange(registers, 1, 255);
            Assert.Equal(RegistersInLog(module.InfoLog, name), registers);
            int warps = 65536 / ((registers * 32 + 255) / 256 * 256);
            Assert.True(maxThreads <= Math.Min(1024, warps * 32), $"{name}: {maxThreads} threads with {registers} registers");
        }
    }

    /// <summary>A device-to-host copy queued on the stream has not happened before the stream is synchronised.</summary>
    [CudaFact]
    public void A_result_read_before_synchronising_is_not_there_yet()
    {
        Assert.SkipUnless(CudaTestEnvironment.IsEmulated, "on a GPU the copy races the read: only the emulated device makes the outcome certain");
        using var backend = new CudaBackend();
        float[] values = [.. Enumerable.Range(1, 1000).Select(i => (float)i)];
        using var tensor = (CudaTensor<float>)backend.Upload<float>(values);
        float[] back = new float[values.Length];
        tensor.CopyToAsync(back, backend.Stream);
        Assert.All(back, value => Assert.Equal(0f, value));
        backend.Stream.Synchronize();
        Assert.Equal(values, back);
    }

    /// <summary>
    /// A synchronous copy runs on the legacy default stream, which waits for blocking streams only: work queued on a
    /// non-blocking stream may not have run, and the copy reads the memory as it was (fresh memory: NaN).
    /// </summary>
    [CudaFact]
    public void A_synchronous_copy_does_not_wait_for_a_non_blocking_stream()
    {
        Assert.SkipUnless(CudaTestEnvironment.IsEmulated, "on a GPU the copies race: only the emulated device makes the outcome certain");
        using var backend = new CudaBackend();
        using var stream = StreamHandle.Create(backend.Context, CudaStreamFlags.NonBlocking);
        ulong device = 0;
        CudaErrors.Check(CudaDriver.cuMemAlloc_v2(&device, 16), "cuMemAlloc_v2");
        try
        {
            float[] values = [1, 2, 3, 4];
            float[] back = new float[4];
            fixed (float* source = values)
            fixed (float* destination = back)
            {
                CudaErrors.Check(CudaDriver.cuMemcpyHtoDAsync_v2(device, source, 16, stream.DangerousGetHandle()), "cuMemcpyHtoDAsync_v2");
                CudaErrors.Check(CudaDriver.cuMemcpyDtoH_v2(destination, device, 16), "cuMemcpyDtoH_v2");
                Assert.All(back, value => Assert.True(float.IsNaN(value)));
                CudaErrors.Check(CudaDriver.cuStreamSynchronize(stream.DangerousGetHandle()), "cuStreamSynchronize");
                CudaErrors.Check(CudaDriver.cuMemcpyDtoH_v2(destination, device, 16), "cuMemcpyDtoH_v2");
            }

            Assert.Equal(values, back);
        }
        finally
        {
            CudaErrors.Check(CudaDriver.cuMemFree_v2(device), "cuMemFree_v2");
        }
    }

    /// <summary>Timing an event the device has not reached is CUDA_ERROR_NOT_READY, until the host waits for it.</summary>
    [CudaFact]
    public void Timing_an_event_before_the_device_reached_it_is_not_ready()
    {
        Assert.SkipUnless(CudaTestEnvironment.IsEmulated, "on a GPU the event races the query: only the emulated device makes the outcome certain");
        using var backend = new CudaBackend();
        using var tensor = backend.Allocate<float>(1024);
        using var start = EventHandle.Create(backend.Context, CudaEventFlags.Default);
        using var end = EventHandle.Create(backend.Context, CudaEventFlags.Default);
        nint stream = backend.Stream.Handle;
        CudaErrors.Check(CudaDriver.cuEventRecord(start.DangerousGetHandle(), stream), "cuEventRecord");
        backend.Stream.Fill(((CudaTensor<float>)tensor).Pointer.Address, 1, 4096);
        CudaErrors.Check(CudaDriver.cuEventRecord(end.DangerousGetHandle(), stream), "cuEventRecord");
        var error = Assert.Throws<CudaException>(() => Elapsed(start, end));
        Assert.Equal("CUDA_ERROR_NOT_READY", error.ResultName);
        CudaErrors.Check(CudaDriver.cuEventSynchronize(end.DangerousGetHandle()), "cuEventSynchronize");
        Assert.True(Elapsed(start, end) >= 0);
    }

    private static float Elapsed(EventHandle start, EventHandle end)
    {
        float milliseconds = 0;
        CudaErrors.Check(
            CudaDriver.cuEventElapsedTime(&milliseconds, start.DangerousGetHandle(), end.DangerousGetHandle()), "cuEventElapsedTime");
        return milliseconds;
    }

    private static int Attribute(nint function, CudaFunctionAttribute attribute)
    {
        int value = 0;
        CudaErrors.Check(CudaDriver.cuFuncGetAttribute(&value, attribute, function), "cuFuncGetAttribute");
        return value;
    }

    /// <summary>"Used N registers" after the JIT's "Compiling entry function 'name'" line.</summary>
    private static int RegistersInLog(string log, string kernel)
    {
        foreach (Match match in EntryRegisters().Matches(log))
        {
            if (match.Groups[1].Value == kernel)
            {
                return int.Parse(match.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture);
            }
        }

        Assert.Fail($"no register count for {kernel} in the JIT's info log: {log}");
        return 0;
    }

    [GeneratedRegex(@"Compiling entry function '(\w+)' for '\w+'[^']*?Used (\d+) registers", RegexOptions.Singleline)]
    private static partial Regex EntryRegisters();
}
