using Attention.Native.Perf.Report;
using Attention.Native.Perf.Workloads;

namespace Attention.Native.Perf.Compare;

/// <summary>Runs every case on every backend setup: fresh operands per case, and per operand type one reference, then
/// the timings.</summary>
internal static class CompareSession
{
    public static IReadOnlyList<CompareRow> Run(
        IReadOnlyList<PerfCase> cases, IReadOnlyList<OperandType> types, IReadOnlyList<BackendSetup> setups, RepetitionPlan plan, int seed)
    {
        var rows = new List<CompareRow>();
        int steps = cases.Count * types.Count * (1 + setups.Count);
        return ProgressDisplay.Run("compare", steps, step =>
        {
            foreach (var perfCase in cases)
            {
                // Seeded per case, so a --shapes filter reproduces the same operands for the cases it keeps; every
                // operand type converts the same random floats.
                var random = new Random(seed + PerfCatalog.IndexOf(perfCase));
                var operands = RandomOperands.Create(perfCase.Shape, random);
                foreach (var type in types)
                {
                    var caseRows = type switch
                    {
                        OperandType.Half => RunType<Half>(perfCase, operands, type, setups, plan, step),
                        OperandType.BFloat16 => RunType<BFloat16>(perfCase, operands, type, setups, plan, step),
                        _ => RunType<float>(perfCase, operands, type, setups, plan, step),
                    };
                    rows.AddRange(WithSpeedups(caseRows));
                }
            }

            return rows;
        });
    }

    private static List<CompareRow> RunType<T>(
        PerfCase perfCase, RandomOperands random, OperandType type, IReadOnlyList<BackendSetup> setups, RepetitionPlan plan, Action<string> step)
        where T : unmanaged
    {
        var operands = (OperandTypes.Convert<T>(random.Query), OperandTypes.Convert<T>(random.Key), OperandTypes.Convert<T>(random.Value));
        string what = type == OperandType.Float ? perfCase.Label : $"{perfCase.Label} {type.Name()}";
        step($"{what}: float64 reference");
        var check = ReferenceCheck.Compute(perfCase, operands);
        var caseRows = new List<CompareRow>();
        foreach (var setup in setups)
        {
            string threads = setup.Threads > 0 ? $", {setup.Threads} thread(s)" : string.Empty;
            string variant = setup.Variant != Cpu.CpuKernelVariant.Auto ? $", {setup.Variant}" : string.Empty;
            step($"{what}: {setup.Kind}{variant}{threads}");
            caseRows.Add(CaseRunner.Run(perfCase, operands, type, check, setup, plan));
        }

        return caseRows;
    }

    /// <summary>Fills <see cref="CompareRow.SpeedupOverCpu"/> of a case's non-CPU rows from its fastest CPU row.</summary>
    private static IEnumerable<CompareRow> WithSpeedups(List<CompareRow> caseRows)
    {
        var cpu = caseRows.Where(r => r.Backend == AttentionBackendKind.Cpu).ToList();
        double best = cpu.Count == 0 ? double.NaN : cpu.Min(r => r.Median.TotalSeconds);
        return caseRows.Select(r => r.Backend == AttentionBackendKind.Cpu ? r : r with { SpeedupOverCpu = best / r.Median.TotalSeconds });
    }
}
