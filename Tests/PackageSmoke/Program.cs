// The packed-package smoke test's console app (Tests/PackageSmoke/run.sh copies it into a fresh `dotnet new console`
// that got Attention.Native from `dotnet add package`): which backend Create() picks and why, that the CUDA kernels
// travelled inside the package, and attention on random data against the float64 reference on the CPU (and on the
// GPU where Create() found one).
using Attention.Native;

using var backend = AttentionBackend.Create();
Console.WriteLine($"AttentionBackend.Create(): {backend.Description}");
Console.WriteLine($"SelectionReason: {backend.SelectionReason}");

string[] ptx = [.. typeof(AttentionBackend).Assembly.GetManifestResourceNames().Where(n => n.StartsWith("ptx/", StringComparison.Ordinal))];
Console.WriteLine($"embedded PTX: {(ptx.Length == 0 ? "none" : string.Join(", ", ptx))}");
bool ok = ptx.Length > 0;

using (var cpu = AttentionBackend.Create(AttentionBackendKind.Cpu))
{
    ok &= AttentionCheck.Run(cpu);
}

if (backend.Kind != AttentionBackendKind.Cpu)
{
    ok &= AttentionCheck.Run(backend);
}

Console.WriteLine(ok ? "package smoke test passed" : "package smoke test FAILED");
return ok ? 0 : 1;
