namespace Attention.Native.Cpu.Simd;

/// <summary><c>y += a·x</c> over <c>n</c> floats in one variant, one rounding per element (FMA).</summary>
internal static unsafe class Axpy<TOps, TVec>
    where TOps : ISimd<TVec>
    where TVec : unmanaged
{
    public static void Run(float a, float* x, float* y, int n)
    {
        var va = TOps.Broadcast(a);
        int w = TOps.Width;
        int j = 0;
        for (; j <= n - w; j += w)
        {
            TOps.Store(y + j, TOps.MultiplyAdd(va, TOps.Load(x + j), TOps.Load(y + j)));
        }

        for (; j < n; j++)
        {
            y[j] = MathF.FusedMultiplyAdd(a, x[j], y[j]);
        }
    }
}
