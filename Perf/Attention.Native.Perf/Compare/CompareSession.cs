using Attention.Native.Cpu.Decode;
using Attention.Native.Cpu.Simd;
using Attention.Native.Cuda.SplitKv;
using Attention.Native.Perf.Peers;
using Attention.Native.Perf.Report;
using Attention.Native.Perf.Workloads;

namespace Attention.Native.Perf.Compare;

/// <summary>Runs every case on every backend setup: fresh operands per case, and per operand type one reference, then
/// the timings. Peers run beside the first CPU setup of each thread count, on float operands.</summary>
internal static class CompareSession
{
    /// <param name="cases">The shapes.</param>
    /// <param name="types">The operand types.</param>
    /// <param name="setups">The backend setups.</param>
    /// <param name="peers">The peers to measure beside the CPU backend; empty for none.</param>
    /// <param name="plan">The repetitions.</param>
    /// <param name="seed">The operands' seed.</param>
    /// <param name="skipped">Filled with one line per (peer, case) the peer could not run, and why.</param>
    /// <param name="notMeasured">Filled with one line per (case, operand type, backend) that cannot run, and why.</param>
    /// <param name="pageSize">Positions per page of the paged twin of every CPU decode row (<c>--paged</c>); 0 for none.</param>
    public static IReadOnlyList<CompareRow> Run(
        IReadOnlyList<PerfCase> cases,
        IReadOnlyList<OperandType> types,
        IReadOnlyList<BackendSetup> setups,
        IReadOnlyList<IAttentionPeer> peers,
        RepetitionPlan plan,
        int seed,
        List<string> skipped,
        List<string> notMeasured,
        int pageSize = 0)
    {
        var rows = new List<CompareRow>();
        var groups = LayoutGroups(cases);
        int steps = groups.Count * types.Count * (1 + setups.Count);
        // The setup a thread count's peers run beside: its first CPU variant (the best one by default).
        var partners = setups.Where(s => s.Kind == AttentionBackendKind.Cpu).GroupBy(s => s.Threads).Select(g => g.First()).ToHashSet();
        return ProgressDisplay.Run("compare", steps, step =>
        {
            foreach (var layouts in groups)
            {
                // Seeded per case (both layouts of a shape share the seed), so a --shapes filter reproduces the same
                // operands for the cases it keeps; every operand type converts the same random floats.
                var perfCase = layouts[0];
                var random = new Random(seed + PerfCatalog.IndexOf(perfCase));
                var operands = RandomOperands.Create(perfCase.Shape, random);
                foreach (var type in types)
                {
                    var session = new CaseSession(layouts, operands, type, type == OperandType.Float ? peers : [], partners, plan, step, skipped, pageSize);
                    var caseRows = type switch
                    {
                        OperandType.Half => session.Run<Half>(setups),
                        OperandType.BFloat16 => session.Run<BFloat16>(setups),
                        OperandType.Int8Cache => session.RunByteCache(KeyValue8BitFormat.Int8, setups, notMeasured),
                        OperandType.Float8Cache => session.RunByteCache(KeyValue8BitFormat.Float8E4M3, setups, notMeasured),
                        _ => session.Run<float>(setups),
                    };
                    rows.AddRange(WithSpeedups(caseRows));
                }
            }

            return LayoutRatios.Fill(rows);
        });
    }

    /// <summary>
    /// The cases to run together: a BHSD case with its <c>-bshd</c> twin where both are selected (timed interleaved, see
    /// <see cref="CaseRunner.Run"/>), every other case alone; in the cases' order.
    /// </summary>
    private static List<List<PerfCase>> LayoutGroups(IReadOnlyList<PerfCase> cases)
    {
        static bool Twins(PerfCase bhsd, PerfCase other) =>
            bhsd.Layout == AttentionLayout.Bhsd && other.Layout == AttentionLayout.Bshd
            && other.ShapeName == bhsd.ShapeName && other.Causal == bhsd.Causal;

        return [.. cases
            .Where(c => !cases.Any(b => Twins(b, c)))
            .Select(c => new List<PerfCase> { c }.Concat(cases.Where(t => Twins(c, t))).ToList())];
    }

    /// <summary>Fills <see cref="CompareRow.SpeedupOverCpu"/> of a case's non-CPU rows from its fastest CPU row of the
    /// library (peers' rows are neither compared nor a baseline).</summary>
    private static IEnumerable<CompareRow> WithSpeedups(List<CompareRow> caseRows)
    {
        var cpu = caseRows.Where(r => r.Backend == AttentionBackendKind.Cpu && r.Peer is null).ToList();
        double best = cpu.Count == 0 ? double.NaN : cpu.Min(r => r.Median.TotalSeconds);
        return caseRows.Select(r => r.Backend == AttentionBackendKind.Cpu ? r : r with { SpeedupOverCpu = best / r.Median.TotalSeconds });
    }

    /// <summary>
    /// One case in one operand type, in each of its layouts: the reference, then every setup (with the peers beside its
    /// partners). An int8 cache is read in its own layout, so its rows are of the first case only.
    /// </summary>
    private sealed class CaseSession(
        List<PerfCase> layouts,
        RandomOperands random,
        OperandType type,
        IReadOnlyList<IAttentionPeer> peers,
        IReadOnlySet<BackendSetup> partners,
        RepetitionPlan plan,
        Action<string> step,
        List<string> skipped,
        int pageSize)
    {
        /// <summary>
        /// The page layouts of every paged twin (<c>--paged</c>): a position's heads side by side (vLLM's, the
        /// default) and head-major (FlashInfer's HND), each a row of its own.
        /// </summary>
        private static readonly bool[] PageLayouts = [false, true];

        private readonly PerfCase perfCase = layouts[0];

        public List<CompareRow> Run<T>(IReadOnlyList<BackendSetup> setups)
            where T : unmanaged
        {
            var operands = (OperandTypes.Convert<T>(random.Query), OperandTypes.Convert<T>(random.Key), OperandTypes.Convert<T>(random.Value));
            string label = layouts.Count > 1 ? $"{perfCase.Label} and -bshd" : perfCase.Label;
            string what = type == OperandType.Float ? label : $"{label} {type.Name()}";
            step($"{what}: float64 reference");
            var check = ReferenceCheck.Compute(perfCase, operands);
            var s = perfCase.Shape;
            var arranged = layouts.Select(c => (c, (
                c.InLayout(operands.Item1, s.QueryHeads, s.QueryLength, s.HeadDim),
                c.InLayout(operands.Item2, s.KeyValueHeads, s.KeyLength, s.HeadDim),
                c.InLayout(operands.Item3, s.KeyValueHeads, s.KeyLength, s.ValueHeadDim)))).ToList();
            PagedOperands<T>[] paged = pageSize > 0 && perfCase.IsDecode
                ? [.. PageLayouts.Select(headMajor => PagedOperands<T>.Create(s, operands.Item2, operands.Item3, pageSize, PerfCatalog.IndexOf(perfCase), headMajor))]
                : [];
            var caseRows = new List<CompareRow>();
            foreach (var setup in setups)
            {
                string threads = setup.Threads > 0 ? $", {setup.Threads} thread(s)" : string.Empty;
                string variant = setup.Variant != Cpu.CpuKernelVariant.Auto ? $", {setup.Variant}" : string.Empty;
                var beside = partners.Contains(setup) ? peers : [];
                string with = beside.Count > 0 ? $" beside {string.Join(", ", beside.Select(p => p.Name))}" : string.Empty;
                step($"{what}: {setup.Kind}{variant}{threads}{with}");
                var forwards = Prepare(beside, setup.Threads);
                try
                {
                    caseRows.AddRange(CaseRunner.Run(arranged, type, check, setup, plan, forwards, paged));
                }
                finally
                {
                    foreach (var (_, forward) in forwards)
                    {
                        forward.Dispose();
                    }
                }
            }

            // Each layout's rows together, BHSD first (the peers' rows stay with it), as the tables list them.
            return [.. caseRows.OrderBy(r => layouts.IndexOf(r.Case))];
        }

        /// <summary>
        /// The case on an 8-bit key/value cache: its reference on the dequantised K and V, then every CPU setup; a line in
        /// <paramref name="notMeasured"/> for a case the decode kernel does not take and for each other backend.
        /// </summary>
        public List<CompareRow> RunByteCache(KeyValue8BitFormat format, IReadOnlyList<BackendSetup> setups, List<string> notMeasured)
        {
            string what = $"{perfCase.Label} {type.Name()}";
            step($"{what}: float64 reference");
            var caseRows = new List<CompareRow>();
            if (perfCase.Shape.QueryLength > DecodeAttentionKernel<ScalarOps, float>.MaxQueryLength)
            {
                notMeasured.Add($"{what}: an 8-bit key/value cache is read by the CPU decode kernel, which takes Lq ≤ {DecodeAttentionKernel<ScalarOps, float>.MaxQueryLength}.");
                setups.ToList().ForEach(_ => step($"{what}: not measured"));
                return caseRows;
            }

            var cache = ByteCacheOperands.Create(perfCase.Shape, format, random.Key, random.Value);
            PagedByteCacheOperands[] paged = pageSize > 0 && perfCase.IsDecode
                ? [.. PageLayouts.Select(headMajor => cache.Paged(perfCase.Shape, pageSize, PerfCatalog.IndexOf(perfCase), headMajor))]
                : [];
            var check = ReferenceCheck.Compute<float>(perfCase, (random.Query, cache.DequantizedKey, cache.DequantizedValue));
            foreach (var setup in setups)
            {
                if (setup.Kind != AttentionBackendKind.Cpu)
                {
                    step($"{what}: {setup.Kind}: not measured");
                    notMeasured.Add($"{what} on {setup.Kind}: compare times 8-bit key/value caches on the CPU backend only (gpu-bench times the GPU's).");
                    continue;
                }

                string variant = setup.Variant != Cpu.CpuKernelVariant.Auto ? $", {setup.Variant}" : string.Empty;
                step($"{what}: {setup.Kind}{variant}, {setup.Threads} thread(s)");
                caseRows.AddRange(CaseRunner.RunByteCache(perfCase, random.Query, cache, check, setup, plan, paged));
            }

            return caseRows;
        }

        /// <summary>Each peer's forward of the case, or a line in <c>skipped</c> saying why it has none.</summary>
        private List<(IAttentionPeer Peer, IPeerForward Forward)> Prepare(IReadOnlyList<IAttentionPeer> beside, int threads)
        {
            var forwards = new List<(IAttentionPeer, IPeerForward)>();
            foreach (var peer in beside)
            {
                string? reason = peer.Unsupported(perfCase);
                if (reason is null)
                {
                    try
                    {
                        forwards.Add((peer, peer.Prepare(perfCase, random, threads)));
                        continue;
                    }
                    catch (NotSupportedException e)
                    {
                        reason = e.Message;
                    }
                }

                string line = $"{peer.Name} on {perfCase.Label}: {reason}";
                if (!skipped.Contains(line))
                {
                    skipped.Add(line);
                }
            }

            return forwards;
        }
    }
}
