// NativeAOT sample: attention on random data against the float64 reference on the CPU, then on the GPU where
// CudaBackend.IsAvailable finds one (it prints why not otherwise). Exits 1 when an error exceeds the tolerance.
using System.Runtime.CompilerServices;
using Attention.Native.Cpu;
using Attention.Native.Cuda;

Console.WriteLine($"NativeAOT: {!RuntimeFeature.IsDynamicCodeSupported}");
bool ok;
using (var cpu = new CpuBackend())
{
    Console.WriteLine($"CPU: {cpu.Description}");
    ok = AttentionCheck.Run(cpu);
}

if (CudaBackend.IsAvailable(out string reason))
{
    Console.WriteLine($"GPU: {reason}");
    using var cuda = new CudaBackend();
    ok &= AttentionCheck.Run(cuda);
}
else
{
    Console.WriteLine($"GPU path skipped: {reason}");
}

Console.WriteLine(ok ? "AOT sample passed" : "AOT sample FAILED");
return ok ? 0 : 1;
