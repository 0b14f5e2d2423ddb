namespace Attention.Native.Cpu.Simd;

/// <summary>
/// A CPU operation written once against <see cref="ISimd{TVec}"/> (System.Numerics.Tensors' operator structs): a struct
/// holding the operation's arguments, whose <see cref="Run{TOps, TVec}"/> <see cref="CpuIsa.Dispatch{TKernel}"/> calls
/// with the operator struct of the variant asked for. Every type involved is a struct, so the JIT compiles one copy
/// per (kernel, variant) with the calls resolved and inlined: no interface call or boxing between the dispatch and
/// the loops.
/// </summary>
internal interface ISimdKernel
{
    /// <summary>Runs the operation with <typeparamref name="TOps"/>'s vectors.</summary>
    void Run<TOps, TVec>()
        where TOps : ISimd<TVec>
        where TVec : unmanaged;
}
