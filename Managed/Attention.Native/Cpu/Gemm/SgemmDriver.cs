using Attention.Native.Cpu.Simd;

namespace Attention.Native.Cpu.Gemm;

/// <summary>
/// The blocked loops around the micro-kernel (GotoBLAS order). One thread: for each NC-wide panel of B and each
/// KC-deep slice, pack the B panel once, then for each MC-tall block of A pack it and sweep the register tiles, B
/// sliver outer (it stays in L1) and A sliver inner (the A block streams from L2). Several threads: each panel of B
/// (all depths, at most <see cref="SharedPanelFloats"/>) is packed once, its slivers split among the threads, then
/// the threads take blocks of C in turn (<see cref="SgemmPanelDriver{TOps, TVec}"/>): no thread packs what another
/// has packed, which matters where C has few rows per thread and packing B costs as much as multiplying by it.
/// </summary>
internal static unsafe class SgemmDriver<TOps, TVec>
    where TOps : ISimd<TVec>
    where TVec : unmanaged
{
    /// <summary>
    /// Most floats of B the threads pack ahead together (16 MB): all of a layer's weight (1536 × 384 is 2.4 MB) in one
    /// panel, and a bound on the scratch of a product of huge matrices, which is packed and multiplied a panel at a time.
    /// </summary>
    public const long SharedPanelFloats = 1L << 22;

    private const int MR = SgemmBlocking.MR;
    private const int KC = SgemmBlocking.KC;
    private const int MC = SgemmBlocking.MC;
    private const int NC = SgemmBlocking.NC;

    public static void Run<T>(SgemmCall<T> call, int threads)
        where T : unmanaged
    {
        if (call.M == 0 || call.N == 0)
        {
            return;
        }

        if (call.K == 0 || call.Alpha == 0f)
        {
            SgemmScaling.ScaleC(call);
            return;
        }

        if (threads <= 1)
        {
            RunPart(call, 0, call.M, 0, call.N);
            return;
        }

        int nr = 2 * TOps.Width;
        int panelColumns = (int)Math.Clamp(SharedPanelFloats / call.K / nr * nr, nr, RoundUp(call.N, nr));
        using var packed = new AlignedMemoryHandle((nuint)PackedPanel.Floats(call.K, panelColumns, nr) * sizeof(float), zero: false);
        for (int j0 = 0; j0 < call.N; j0 += panelColumns)
        {
            var panel = new PackedPanel((float*)packed.Pointer, call.K, Math.Min(panelColumns, call.N - j0), nr);
            SgemmPanelDriver<TOps, TVec>.Pack(call.B, call.Ldb, call.TransposeB, j0, panel, threads);
            var columns = new SgemmCall<T>(
                call.TransposeA, call.TransposeB, call.M, panel.Columns, call.K, call.Alpha, call.A, call.Lda, null, 0,
                call.Beta, call.C + j0, call.Ldc);
            SgemmPanelDriver<TOps, TVec>.Multiply(columns, panel, threads);
        }
    }

    private static void RunPart<T>(SgemmCall<T> call, int m0, int m1, int n0, int n1)
        where T : unmanaged
    {
        int nr = 2 * TOps.Width;
        int kcMax = Math.Min(KC, call.K);
        int mcMax = RoundUp(Math.Min(MC, m1 - m0), MR);
        int ncMax = RoundUp(Math.Min(NC, n1 - n0), nr);
        // The packing's vector stores run up to 2 floats past a sliver (SgemmPacking.PackA).
        using var packedA = new AlignedMemoryHandle(((nuint)mcMax * (nuint)kcMax * sizeof(float)) + 64, zero: false);
        using var packedB = new AlignedMemoryHandle((nuint)ncMax * (nuint)kcMax * sizeof(float), zero: false);
        // Half/BFloat16 slivers are widened here first, then packed by the float code.
        using var staging = typeof(T) == typeof(float) ? null
            : new AlignedMemoryHandle((nuint)Math.Max(MR, nr) * (nuint)kcMax * sizeof(float), zero: false);
        float* pa = (float*)packedA.Pointer;
        float* pb = (float*)packedB.Pointer;
        float* stage = staging is null ? null : (float*)staging.Pointer;
        for (int jc = n0; jc < n1; jc += NC)
        {
            int nc = Math.Min(NC, n1 - jc);
            for (int pc = 0; pc < call.K; pc += KC)
            {
                int kc = Math.Min(KC, call.K - pc);
                // Later slices add to what the first left in C.
                float beta = pc == 0 ? call.Beta : 1f;
                SgemmPacking<TOps, TVec>.PackB(call.B, call.Ldb, call.TransposeB, pc, kc, jc, nc, pb, stage);
                for (int ic = m0; ic < m1; ic += MC)
                {
                    int mc = Math.Min(MC, m1 - ic);
                    SgemmPacking<TOps, TVec>.PackA(call.A, call.Lda, call.TransposeA, ic, mc, pc, kc, pa, stage);
                    MacroKernel(call, ic, mc, jc, nc, kc, pa, pb, beta);
                }
            }
        }
    }

    /// <summary>The register tiles of one packed A block (rows <c>[ic, ic + mc)</c>) against packed B slivers (columns <c>[jc, jc + nc)</c>).</summary>
    public static void MacroKernel<T>(SgemmCall<T> call, int ic, int mc, int jc, int nc, int kc, float* pa, float* pb, float beta)
        where T : unmanaged =>
        MacroKernel<T, SgemmASliver.Packed>(call, ic, mc, jc, nc, kc, pa, kc, pb, beta);

    /// <summary>
    /// The same with A read as <typeparamref name="TA"/> says: <paramref name="pa"/> is the block's first row, the
    /// rows <paramref name="lda"/> apart when read directly (for a packed block, kc).
    /// </summary>
    public static void MacroKernel<T, TA>(SgemmCall<T> call, int ic, int mc, int jc, int nc, int kc, float* pa, nint lda, float* pb, float beta)
        where T : unmanaged
        where TA : struct, ISgemmASliver
    {
        int nr = 2 * TOps.Width;
        nint ldc = call.Ldc;
        for (int jr = 0; jr < nc; jr += nr)
        {
            int columns = Math.Min(nr, nc - jr);
            float* b = pb + (jr * kc);
            for (int ir = 0; ir < mc; ir += MR)
            {
                int rows = Math.Min(MR, mc - ir);
                float* a = pa + (ir * lda);
                float* c = call.C + ((ic + ir) * ldc) + jc + jr;
                if (rows == MR && columns == nr)
                {
                    SgemmMicroKernel<TOps, TVec>.Tile<SgemmTileRows.Six, TA>(kc, a, lda, b, c, ldc, call.Alpha, beta);
                }
                else
                {
                    SgemmMicroKernel<TOps, TVec>.EdgeTile<TA>(kc, a, lda, b, c, ldc, call.Alpha, beta, rows, columns);
                }
            }
        }
    }

    private static int RoundUp(int value, int multiple) => (value + multiple - 1) / multiple * multiple;
}
