using Attention.Native.Cpu.Additive;
using Attention.Native.Cpu.Backward;
using Attention.Native.Cpu.Decode;
using Attention.Native.Cpu.Simd;
using Attention.Native.Cpu.Tiled;
using Attention.Native.Validation;

namespace Attention.Native.Cpu;

/// <summary>
/// The attention kernels' entry: picks the kernel for a problem (tiled, decode or additive) and runs it in a variant
/// through <see cref="CpuIsa.Dispatch{TKernel}"/>.
/// </summary>
internal static unsafe class CpuKernels
{
    /// <summary>Scaled-dot-product attention in <paramref name="variant"/>: the decode kernel or the tiled one.</summary>
    public static void Run<T>(CpuKernelVariant variant, AttentionProblem problem, in Operands<T> operands, int threads)
        where T : unmanaged
    {
        if (UsesDecodeKernel(problem))
        {
            var kernel = new Decode<T>(problem, operands, threads);
            CpuIsa.Dispatch(variant, ref kernel);
        }
        else
        {
            var kernel = new Tiled<T>(problem, operands, threads);
            CpuIsa.Dispatch(variant, ref kernel);
        }
    }

    /// <summary>The attention backward in <paramref name="variant"/>.</summary>
    public static void RunBackward<T>(CpuKernelVariant variant, AttentionBackwardProblem problem, in BackwardOperands<T> operands, int threads)
        where T : unmanaged
    {
        var kernel = new Backward<T>(problem, operands, threads);
        CpuIsa.Dispatch(variant, ref kernel);
    }

    /// <summary>
    /// The decode kernel over K and V from <paramref name="rows"/> (an int8 key/value cache and its scales) in
    /// <paramref name="variant"/>; the caller checked that it takes the problem (<see cref="UsesDecodeKernel"/>).
    /// </summary>
    public static void RunDecode<T, TKv>(
        CpuKernelVariant variant, AttentionProblem problem, in Operands<T> operands, KeyValueRows<TKv> rows, int threads)
        where T : unmanaged
        where TKv : unmanaged
    {
        var kernel = new DecodeRows<T, TKv>(problem, operands, rows, threads);
        CpuIsa.Dispatch(variant, ref kernel);
    }

    /// <summary>Additive attention after the projections in <paramref name="variant"/> (<see cref="AdditiveAttentionKernel{TOps, TVec}"/>).</summary>
    public static void RunAdditive(
        CpuKernelVariant variant, in AdditiveAttentionProblem problem, float* queries, float* keys, float* scoreVector,
        float* values, float* output, float* probabilities, int threads)
    {
        var kernel = new Additive(problem, queries, keys, scoreVector, values, output, probabilities, threads);
        CpuIsa.Dispatch(variant, ref kernel);
    }

    /// <summary>
    /// Whether a problem takes the decode kernel (few queries, no probabilities requested, a query group whose state
    /// it can hold).
    /// </summary>
    public static bool UsesDecodeKernel(AttentionProblem problem) => DecodeAttentionKernel<ScalarOps, float>.Takes(problem);

    private readonly struct Tiled<T>(AttentionProblem problem, Operands<T> operands, int threads) : ISimdKernel
        where T : unmanaged
    {
        public void Run<TOps, TVec>()
            where TOps : ISimd<TVec>
            where TVec : unmanaged
        {
            CpuIsaObserver.Ran<TOps, TVec>(CpuOperation.TiledAttention);
            TiledAttentionKernel<TOps, TVec>.Run(problem, operands, threads);
        }
    }

    private readonly struct Backward<T>(AttentionBackwardProblem problem, BackwardOperands<T> operands, int threads) : ISimdKernel
        where T : unmanaged
    {
        public void Run<TOps, TVec>()
            where TOps : ISimd<TVec>
            where TVec : unmanaged
        {
            CpuIsaObserver.Ran<TOps, TVec>(CpuOperation.AttentionBackward);
            AttentionBackwardKernel<TOps, TVec>.Run(problem, operands, threads);
        }
    }

    private readonly struct Decode<T>(AttentionProblem problem, Operands<T> operands, int threads) : ISimdKernel
        where T : unmanaged
    {
        public void Run<TOps, TVec>()
            where TOps : ISimd<TVec>
            where TVec : unmanaged
        {
            CpuIsaObserver.Ran<TOps, TVec>(CpuOperation.DecodeAttention);
            DecodeAttentionKernel<TOps, TVec>.Run(problem, operands, threads);
        }
    }

    private readonly struct DecodeRows<T, TKv>(AttentionProblem problem, Operands<T> operands, KeyValueRows<TKv> rows, int threads)
        : ISimdKernel
        where T : unmanaged
        where TKv : unmanaged
    {
        public void Run<TOps, TVec>()
            where TOps : ISimd<TVec>
            where TVec : unmanaged
        {
            CpuIsaObserver.Ran<TOps, TVec>(CpuOperation.DecodeAttention);
            DecodeAttentionKernel<TOps, TVec>.Run(problem, operands, rows, threads);
        }
    }

    private readonly struct Additive(
        AdditiveAttentionProblem problem, float* queries, float* keys, float* scoreVector, float* values, float* output,
        float* probabilities, int threads) : ISimdKernel
    {
        public void Run<TOps, TVec>()
            where TOps : ISimd<TVec>
            where TVec : unmanaged
        {
            CpuIsaObserver.Ran<TOps, TVec>(CpuOperation.AdditiveAttention);
            AdditiveAttentionKernel<TOps, TVec>.Run(problem, queries, keys, scoreVector, values, output, probabilities, threads);
        }
    }
}
