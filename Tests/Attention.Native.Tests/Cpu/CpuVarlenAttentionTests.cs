using Attention.Native.Cpu;

namespace Attention.Native.Tests.Cpu;

/// <summary>The varlen tests on the CPU backend (three threads, so sequences split into several work items).</summary>
[Trait("Isa", "Rerun")]
public sealed class CpuVarlenAttentionTests : VarlenAttentionTests
{
    protected override AttentionBackend CreateBackend() => new CpuBackend(new CpuBackendOptions { ThreadCount = 3 });
}
