namespace Attention.Native.Cpu.Gemm;

/// <summary>
/// <c>C = β·C</c>: the whole product when there is nothing to multiply (k = 0 or α = 0). β = 0 writes zeros
/// without reading C, so a NaN it held does not survive.
/// </summary>
internal static unsafe class SgemmScaling
{
    public static void ScaleC<T>(SgemmCall<T> call)
        where T : unmanaged
    {
        if (call.Beta == 1f)
        {
            return;
        }

        for (int i = 0; i < call.M; i++)
        {
            var row = new Span<float>(call.C + (i * call.Ldc), call.N);
            if (call.Beta == 0f)
            {
                row.Clear();
            }
            else
            {
                for (int j = 0; j < row.Length; j++)
                {
                    row[j] *= call.Beta;
                }
            }
        }
    }
}
