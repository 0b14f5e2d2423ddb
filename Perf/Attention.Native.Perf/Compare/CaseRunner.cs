using Attention.Native.Perf.Workloads;

namespace Attention.Native.Perf.Compare;

/// <summary>Times one case on one backend configuration and checks its output against the reference.</summary>
internal static class CaseRunner
{
    /// <param name="perfCase">The case.</param>
    /// <param name="operands">Q, K and V already in the operand type <typeparamref name="T"/>.</param>
    /// <param name="type">The operand type, for the row.</param>
    /// <param name="check">The float64 reference on the same operands.</param>
    /// <param name="setup">The backend configuration.</param>
    /// <param name="plan">The repetitions.</param>
    public static CompareRow Run<T>(
        PerfCase perfCase, (T[] Query, T[] Key, T[] Value) operands, OperandType type, ReferenceCheck check, BackendSetup setup, RepetitionPlan plan)
        where T : unmanaged
    {
        var shape = perfCase.Shape;
        var options = perfCase.Options;
        using var backend = setup.Create();
        using var query = backend.Upload<T>(operands.Query);
        using var key = backend.Upload<T>(operands.Key);
        using var value = backend.Upload<T>(operands.Value);
        using var output = backend.Allocate<T>(shape.OutputElementCount);
        void Forward()
        {
            backend.ScaledDotProductAttention(shape, query, key, value, output, options);
            backend.Synchronize();
        }

        var median = plan.Median(Forward);
        double paired = setup.Kind == AttentionBackendKind.Cpu && perfCase.IsDecode
            ? PairedRead.Fraction(Forward, perfCase.KeyValueBytes / sizeof(float) * type.Size(), setup.Threads, plan)
            : double.NaN;
        double error = check.RelativeError<T>(output.ToArray());
        return new CompareRow(perfCase, setup.Kind, BackendSetup.VariantOf(backend), setup.Threads, median, error, check.Scope)
        {
            Dtype = type,
            Kernel = setup.KernelOf(perfCase),
            PairedReadFraction = paired,
        };
    }
}
