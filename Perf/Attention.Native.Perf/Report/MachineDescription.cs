using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Attention.Native.Perf.Report;

/// <summary>A one-line description of the machine and runtime, for the top of every report.</summary>
internal static class MachineDescription
{
    public static string Text { get; } = Build();

    /// <summary>CPU model, core count and the widest accelerated vector: a chart subtitle.</summary>
    public static string Short { get; } =
        $"{(CpuModel() is { } model ? $"{model}, " : string.Empty)}{Environment.ProcessorCount} logical cores, " +
        $"{(Vector512.IsHardwareAccelerated ? "AVX-512" : Vector256.IsHardwareAccelerated ? "256-bit SIMD" : "128-bit SIMD")}";

    private static string Build()
    {
        string cpu = CpuModel() is { } model ? $"{model}, " : string.Empty;
        return $"{cpu}{Environment.ProcessorCount} logical cores, {RuntimeInformation.ProcessArchitecture}; " +
            $"Vector512 {Yes(Vector512.IsHardwareAccelerated)}, Vector256 {Yes(Vector256.IsHardwareAccelerated)}, " +
            $"FMA {Yes(Fma.IsSupported)}; {RuntimeInformation.FrameworkDescription} on {RuntimeInformation.OSDescription}";
    }

    private static string Yes(bool value) => value ? "yes" : "no";

    /// <summary>The CPU's model name from <c>/proc/cpuinfo</c> on Linux; null elsewhere.</summary>
    private static string? CpuModel()
    {
        const string CpuInfo = "/proc/cpuinfo";
        if (!File.Exists(CpuInfo))
        {
            return null;
        }

        string? line = File.ReadLines(CpuInfo).FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal));
        return line?[(line.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim();
    }
}
