using Attention.Native.Perf.Report;
using Attention.Native.Perf.Workloads;

namespace Attention.Native.Perf.Compare;

/// <summary>Runs every case on every backend setup: fresh operands and one reference per case, then the timings.</summary>
internal static class CompareSession
{
    public static IReadOnlyList<CompareRow> Run(
        IReadOnlyList<PerfCase> cases, IReadOnlyList<BackendSetup> setups, RepetitionPlan plan, int seed)
    {
        var rows = new List<CompareRow>();
        int steps = cases.Count * (1 + setups.Count);
        return ProgressDisplay.Run("compare", steps, step =>
        {
            foreach (var perfCase in cases)
            {
                // Seeded per case, so a --shapes filter reproduces the same operands for the cases it keeps.
                var random = new Random(seed + PerfCatalog.IndexOf(perfCase));
                var operands = RandomOperands.Create(perfCase.Shape, random);
                step($"{perfCase.Label}: float64 reference");
                var check = ReferenceCheck.Compute(perfCase, operands);
                var caseRows = new List<CompareRow>();
                foreach (var setup in setups)
                {
                    step($"{perfCase.Label}: {setup.Kind}{(setup.Threads > 0 ? $", {setup.Threads} thread(s)" : string.Empty)}");
                    caseRows.Add(CaseRunner.Run(perfCase, operands, check, setup, plan));
                }

                rows.AddRange(WithSpeedups(caseRows));
            }

            return rows;
        });
    }

    /// <summary>Fills <see cref="CompareRow.SpeedupOverCpu"/> of a case's non-CPU rows from its fastest CPU row.</summary>
    private static IEnumerable<CompareRow> WithSpeedups(List<CompareRow> caseRows)
    {
        var cpu = caseRows.Where(r => r.Backend == AttentionBackendKind.Cpu).ToList();
        double best = cpu.Count == 0 ? double.NaN : cpu.Min(r => r.Median.TotalSeconds);
        return caseRows.Select(r => r.Backend == AttentionBackendKind.Cpu ? r : r with { SpeedupOverCpu = best / r.Median.TotalSeconds });
    }
}
