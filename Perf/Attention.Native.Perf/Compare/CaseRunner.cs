using Attention.Native.Perf.Workloads;

namespace Attention.Native.Perf.Compare;

/// <summary>Times one case on one backend configuration and checks its output against the reference.</summary>
internal static class CaseRunner
{
    public static CompareRow Run(
        PerfCase perfCase, RandomOperands operands, ReferenceCheck check, BackendSetup setup, RepetitionPlan plan)
    {
        var shape = perfCase.Shape;
        var options = perfCase.Options;
        using var backend = setup.Create();
        using var query = backend.Upload<float>(operands.Query);
        using var key = backend.Upload<float>(operands.Key);
        using var value = backend.Upload<float>(operands.Value);
        using var output = backend.Allocate<float>(shape.OutputElementCount);
        var median = plan.Median(() =>
        {
            backend.ScaledDotProductAttention(shape, query, key, value, output, options);
            backend.Synchronize();
        });
        double error = check.RelativeError(output.ToArray());
        return new CompareRow(perfCase, setup.Kind, BackendSetup.VariantOf(backend), setup.Threads, median, error, check.Scope);
    }
}
