using Attention.Native.Cpu.Simd;

namespace Attention.Native.Cpu.Gemm;

/// <summary>
/// What follows a layer projection's SGEMM (<c>C = X·Wᵀ</c> in float): the bias added to each row of C, and for Half
/// and BFloat16 layers each row rounded into Y once (as a GPU GEMM with fp32 accumulation does), row by row while it
/// is in cache, in one variant.
/// </summary>
internal static unsafe class ProjectionEpilogue
{
    /// <summary>
    /// <c>C[r, :] += bias</c> for <c>r &lt; rows</c>, then, unless <typeparamref name="T"/> is float (C is Y then),
    /// <c>Y[r, :] = (T)C[r, :]</c>.
    /// </summary>
    /// <param name="variant">The kernel variant (<see cref="CpuKernelVariant.Auto"/>: as <see cref="CpuIsa.Resolve"/> picks it).</param>
    /// <param name="c">The product, row stride <paramref name="ldc"/>.</param>
    /// <param name="ldc">Row stride of C.</param>
    /// <param name="rows">Rows of C and Y.</param>
    /// <param name="columns">Columns of C, Y and the bias.</param>
    /// <param name="bias">The bias, or null.</param>
    /// <param name="wideBias">Room for <paramref name="columns"/> floats: the Half/BFloat16 bias widened.</param>
    /// <param name="y">Y, row stride <paramref name="ldy"/>; unused for float.</param>
    /// <param name="ldy">Row stride of Y.</param>
    public static void Run<T>(CpuKernelVariant variant, float* c, int ldc, int rows, int columns, T* bias, float* wideBias, T* y, int ldy)
        where T : unmanaged
    {
        var kernel = new Kernel<T>(c, ldc, rows, columns, bias, wideBias, y, ldy);
        CpuIsa.Dispatch(variant, ref kernel);
    }

    private readonly struct Kernel<T>(float* c, int ldc, int rows, int columns, T* bias, float* wideBias, T* y, int ldy) : ISimdKernel
        where T : unmanaged
    {
        public void Run<TOps, TVec>()
            where TOps : ISimd<TVec>
            where TVec : unmanaged
        {
            bool inPlace = typeof(T) == typeof(float);
            float* wide = inPlace ? (float*)bias : wideBias;
            if (bias is not null && !inPlace)
            {
                HalfPrecisionConversions<TOps, TVec>.Widen(bias, wide, columns);
            }

            for (int r = 0; r < rows; r++)
            {
                float* row = c + ((long)r * ldc);
                if (bias is not null)
                {
                    Axpy<TOps, TVec>.Run(1f, wide, row, columns);
                }

                if (!inPlace)
                {
                    HalfPrecisionConversions<TOps, TVec>.Narrow(row, y + ((long)r * ldy), columns);
                }
            }
        }
    }
}
