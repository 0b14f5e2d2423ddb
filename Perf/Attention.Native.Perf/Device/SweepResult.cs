namespace Attention.Native.Perf.Device;

/// <summary>What one sweep case gave on the CPU and (where it ran) the CUDA backend, against the float64 reference.</summary>
internal sealed class SweepResult(SweepCase sweepCase)
{
    private readonly List<string> failures = [];

    public SweepCase Case { get; } = sweepCase;

    /// <summary>The CUDA kernel variant of the pass that ran the case (<c>auto</c>, or one forced).</summary>
    public string Kernel { get; set; } = KernelVariants.Auto;

    /// <summary>‖cpu − ref‖ / ‖ref‖ (NaN when the output holds NaN or the call threw).</summary>
    public double CpuError { get; set; } = double.NaN;

    /// <summary>‖cuda − ref‖ / ‖ref‖; NaN when CUDA did not run (the stand-in's, in a dry run).</summary>
    public double CudaError { get; set; } = double.NaN;

    /// <summary>‖cuda − cpu‖ / ‖ref‖ over the output view; NaN when CUDA did not run.</summary>
    public double CudaCpuDifference { get; set; } = double.NaN;

    /// <summary>max |cuda − cpu| over the output view; NaN when CUDA did not run.</summary>
    public double CudaCpuMaxAbs { get; set; } = double.NaN;

    /// <summary>NaN elements in the CPU's outputs (output view, lse, probabilities).</summary>
    public int CpuNaNs { get; set; }

    /// <summary>NaN elements in the CUDA outputs; -1 when CUDA did not run.</summary>
    public int CudaNaNs { get; set; } = -1;

    /// <summary>Rows that see no key (reference log-sum-exp −∞).</summary>
    public int MaskedRows { get; set; }

    public bool CudaRan { get; set; }

    /// <summary>The dry run's CPU stand-in ran in CUDA's place (its numbers fill the cuda columns).</summary>
    public bool StandInRan { get; set; }

    public double Milliseconds { get; set; }

    public IReadOnlyList<string> Failures => failures;

    public bool Passed => failures.Count == 0;

    public string Status => !Passed ? "fail" : CudaRan ? "pass" : StandInRan ? "pass-dry-run" : "pass-cpu-only";

    public void Fail(string message)
    {
        lock (failures)
        {
            failures.Add(message);
        }
    }
}
