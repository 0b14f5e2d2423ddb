using Attention.Native.Cpu.Simd;
using Attention.Native.Validation;

namespace Attention.Native.Cpu.Additive;

/// <summary>The entry of <see cref="AdditiveAttentionBackwardKernel{TOps, TVec}"/>: runs it in a variant through <see cref="CpuIsa.Dispatch{TKernel}"/>.</summary>
internal static unsafe class AdditiveAttentionBackward
{
    /// <summary>The backward in <paramref name="variant"/>; the pointers as <see cref="AdditiveAttentionBackwardKernel{TOps, TVec}.Run"/> takes them.</summary>
    public static void Run(
        CpuKernelVariant variant, in AdditiveAttentionProblem problem, float* queries, float* keys, float* scoreVector, float* values,
        float* probabilities, float* output, float* outputGrad, float* queryGrad, float* keyGrad, float* scoreVectorGrad,
        float* valueGrad, int threads)
    {
        var kernel = new Kernel(
            problem, queries, keys, scoreVector, values, probabilities, output, outputGrad, queryGrad, keyGrad, scoreVectorGrad, valueGrad,
            threads);
        CpuIsa.Dispatch(variant, ref kernel);
    }

    private readonly struct Kernel(
        AdditiveAttentionProblem problem, float* queries, float* keys, float* scoreVector, float* values, float* probabilities,
        float* output, float* outputGrad, float* queryGrad, float* keyGrad, float* scoreVectorGrad, float* valueGrad, int threads)
        : ISimdKernel
    {
        public void Run<TOps, TVec>()
            where TOps : ISimd<TVec>
            where TVec : unmanaged =>
            AdditiveAttentionBackwardKernel<TOps, TVec>.Run(
                problem, queries, keys, scoreVector, values, probabilities, output, outputGrad, queryGrad, keyGrad, scoreVectorGrad,
                valueGrad, threads);
    }
}
