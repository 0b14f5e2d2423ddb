using System.Diagnostics;
using Attention.Native.Cuda;
using Attention.Native.Cuda.Interop;

namespace Attention.Native.Perf.Device;

/// <summary>
/// Loads every kernel module of the CUDA backend through the backend's own loaders and reports, per module, whether the
/// driver JIT-compiled it (its time, its info log: registers and spills as the installed driver compiled them) and,
/// per entry point, whether it was found and its registers, local (spill) bytes, static shared memory and thread limit.
/// Also where the driver and cuBLAS libraries were loaded from. One failure is one row: the rest still load. The
/// console gets the libraries, each module's outcome and info log, and the failures; the CSV every row.
/// </summary>
internal static class KernelModules
{
    public const string CsvHeader = "module,entry,status,load_ms,registers,local_bytes,static_shared_bytes,max_threads,message";

    /// <summary>The modules in the order the device script measures their kernels: tensor cores and split-KV first.</summary>
    private static readonly (string Module, Func<CudaBackend, (IReadOnlyList<KernelEntry> Entries, string InfoLog)> Load)[] Modules =
    [
        ("attention_mma.ptx", b => Describe(b.AttentionMmaKernels(typeof(Half)))),
        ("attention_mma_tf32.ptx", b => Describe(b.AttentionMmaKernels(typeof(float)))),
        ("attention_splitkv.ptx", b =>
        {
            var k = b.SplitKvKernels();
            return (k.Entries, k.InfoLog);
        }),
        ("attention_simt.ptx", b =>
        {
            var k = b.AttentionKernels();
            return (k.Entries, k.InfoLog);
        }),
        ("attention_backward.ptx", b =>
        {
            var k = b.BackwardKernels();
            return (k.Entries, k.InfoLog);
        }),
        ("attention_backward_mma.ptx", b =>
        {
            var k = b.BackwardMmaKernels();
            return (k.Entries, k.InfoLog);
        }),
    ];

    /// <summary>Hands each CSV row to <paramref name="row"/> and the JIT info logs to <paramref name="say"/>; returns
    /// the number of failed rows.</summary>
    public static int Inspect(CudaBackend backend, Action<string> row, Action<string> say)
    {
        int failures = 0;
        foreach (var (library, load) in new[] { ("libcuda", NativeLibraryNames.Driver), ("cublas", NativeLibraryNames.Blas) })
        {
            var loaded = NativeLibraryResolver.Load(load);
            string? mapped = loaded.IsLoaded ? MappedPath(loaded.FileName!) : null;
            string where = !loaded.IsLoaded ? $"not loaded: tried {string.Join(", ", loaded.Tried)}"
                : mapped == loaded.FileName ? mapped!
                : $"{loaded.FileName} -> {mapped ?? "(path not found in /proc/self/maps)"}";
            string overridden = load == NativeLibraryNames.Blas && Environment.GetEnvironmentVariable(NativeLibraryNames.BlasOverrideVariable) is { Length: > 0 } path
                ? $" ({NativeLibraryNames.BlasOverrideVariable}={path})"
                : string.Empty;
            say($"gpu-modules: {library}: {where}{overridden}");
            row(Csv.Line("library", library, loaded.IsLoaded ? "ok" : "error", null, null, null, null, null, where + overridden));
            failures += loaded.IsLoaded ? 0 : 1;
        }

        foreach (var (module, load) in Modules)
        {
            long start = Stopwatch.GetTimestamp();
            (IReadOnlyList<KernelEntry> Entries, string InfoLog) loaded;
            try
            {
                loaded = load(backend);
            }
            catch (Exception e)
            {
                double failedMs = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
                say($"gpu-modules: {module}: FAILED after {failedMs:F0} ms: {e.GetType().Name}: {e.Message}");
                row(Csv.Line(module, string.Empty, "error", Math.Round(failedMs, 1), null, null, null, null, $"{e.GetType().Name}: {e.Message}"));
                failures++;
                continue;
            }

            double ms = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            say($"gpu-modules: {module}: loaded in {ms:F0} ms, {loaded.Entries.Count} entries; JIT info log:");
            say(loaded.InfoLog.Length == 0 ? "  (empty)" : string.Join('\n', loaded.InfoLog.Split('\n').Select(l => "  " + l.TrimEnd())));
            row(Csv.Line(module, string.Empty, "ok", Math.Round(ms, 1), null, null, null, null, null));
            foreach (var entry in loaded.Entries)
            {
                if (entry.Failure is { } failure)
                {
                    say($"gpu-modules: {module}: {entry.Name}: FAILED: {failure.Message}");
                    row(Csv.Line(module, entry.Name, "error", null, null, null, null, null, $"{failure.GetType().Name}: {failure.Message}"));
                    failures++;
                    continue;
                }

                var a = Attributes(entry.Kernel);
                row(Csv.Line(module, entry.Name, "ok", null, a.Registers, a.LocalBytes, a.SharedBytes, a.MaxThreads, null));
            }
        }

        return failures;
    }

    private static (IReadOnlyList<KernelEntry> Entries, string InfoLog) Describe(Cuda.Mma.AttentionMmaKernels kernels) =>
        (kernels.Entries, kernels.InfoLog);

    private static unsafe (int Registers, int LocalBytes, int SharedBytes, int MaxThreads) Attributes(CudaKernel kernel)
    {
        int Get(CudaFunctionAttribute attribute)
        {
            int value = 0;
            CudaErrors.Check(CudaDriver.cuFuncGetAttribute(&value, attribute, kernel.Function), "cuFuncGetAttribute");
            return value;
        }

        return (Get(CudaFunctionAttribute.NumRegisters), Get(CudaFunctionAttribute.LocalSizeBytes),
            Get(CudaFunctionAttribute.SharedSizeBytes), Get(CudaFunctionAttribute.MaxThreadsPerBlock));
    }

    /// <summary>The file a loaded library maps from (Linux): the path behind a bare name like <c>libcublas.so.13</c>.</summary>
    private static string? MappedPath(string fileName)
    {
        const string Maps = "/proc/self/maps";
        if (!File.Exists(Maps))
        {
            return null;
        }

        string name = Path.GetFileName(fileName);
        return File.ReadLines(Maps)
            .Select(line => line.IndexOf('/', StringComparison.Ordinal) is int slash and >= 0 ? line[slash..] : null)
            .FirstOrDefault(path => path is not null && Path.GetFileName(path).StartsWith(name, StringComparison.Ordinal));
    }
}
