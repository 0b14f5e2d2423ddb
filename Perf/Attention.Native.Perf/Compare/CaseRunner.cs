using Attention.Native.Cpu.Decode;
using Attention.Native.Perf.Peers;
using Attention.Native.Perf.Workloads;

namespace Attention.Native.Perf.Compare;

/// <summary>Times one case on one backend configuration, and the peers beside it, and checks every output against the
/// reference.</summary>
internal static class CaseRunner
{
    /// <param name="layouts">The case in each layout measured (its BHSD form first, then its <c>-bshd</c> twin when that
    /// is measured too), each with Q, K and V already in the operand type <typeparamref name="T"/> and that layout.</param>
    /// <param name="type">The operand type, for the row.</param>
    /// <param name="check">The float64 reference on the same operands (in BHSD order, shared by the layouts).</param>
    /// <param name="setup">The backend configuration.</param>
    /// <param name="plan">The repetitions.</param>
    /// <param name="peers">Peers' forwards of the same case on the same (fp32) operands at <paramref name="setup"/>'s
    /// thread count; empty for none.</param>
    /// <param name="paged">The case's K and V in pages (one twin per page layout), timed interleaved with the contiguous
    /// call on the CPU; empty for none.</param>
    /// <returns>One row per layout, the paged twins', then one per peer. Every layout's timed runs, the paged twins' and
    /// the peers' are interleaved, one of each per round, so the <c>bshd/bhsd</c>, <c>paged/contig</c> and
    /// <c>ours/peer</c> ratios see the same machine: timed one after the other, a BSHD twin's ratio moved 0.74–1.63×
    /// between runs on a shared VM.</returns>
    public static List<CompareRow> Run<T>(
        IReadOnlyList<(PerfCase Case, (T[] Query, T[] Key, T[] Value) Operands)> layouts,
        OperandType type,
        ReferenceCheck check,
        BackendSetup setup,
        RepetitionPlan plan,
        IReadOnlyList<(IAttentionPeer Peer, IPeerForward Forward)> peers,
        IReadOnlyList<PagedOperands<T>> paged)
        where T : unmanaged
    {
        using var backend = setup.Create();
        var calls = new List<LayoutCall<T>>();
        var pagedCalls = new List<PagedCall<T>>();
        try
        {
            foreach (var (perfCase, operands) in layouts)
            {
                calls.Add(new LayoutCall<T>(backend, perfCase, operands));
            }

            if (setup.Kind == AttentionBackendKind.Cpu)
            {
                foreach (var pages in paged)
                {
                    pagedCalls.Add(new PagedCall<T>(backend, calls[0].Case, calls[0].Query, pages));
                }
            }

            Action[] ours = [.. calls.Select(c => (Action)c.Forward), .. pagedCalls.Select(c => (Action)c.Run)];
            var medians = plan.Medians([.. ours, .. peers.Select(p => (Action)p.Forward.Run)]);
            double Paired(PerfCase perfCase, Action forward) => PairedFraction(perfCase, type, setup, plan, forward);
            var rows = new List<CompareRow>();
            for (int l = 0; l < calls.Count; l++)
            {
                var call = calls[l];
                rows.Add(new CompareRow(call.Case, setup.Kind, BackendSetup.VariantOf(backend), setup.Threads, medians[l], check.RelativeError<T>(call.Case.OutputAsBhsd(call.Output.ToArray())), check.Scope)
                {
                    Dtype = type,
                    Kernel = setup.KernelOf(call.Case),
                    PairedReadFraction = Paired(call.Case, call.Forward),
                });
            }

            var first = calls[0].Case;
            for (int c = 0; c < pagedCalls.Count; c++)
            {
                var (pagedCall, pages, median) = (pagedCalls[c], paged[c], medians[calls.Count + c]);
                rows.Add(new CompareRow(first, setup.Kind, BackendSetup.VariantOf(backend), setup.Threads, median, check.RelativeError<T>(first.OutputAsBhsd(pagedCall.Output.ToArray())), check.Scope)
                {
                    Dtype = type,
                    Kernel = $"{setup.KernelOf(first)} {pages.Label}",
                    PageSize = pages.PageSize,
                    PairedReadFraction = PairedFraction(first, type, setup, plan, pagedCall.Run, (double)pages.Layout.BlockTable.Length * sizeof(int)),
                    PagedOverContiguous = medians[0] / median,
                });
            }

            for (int p = 0; p < peers.Count; p++)
            {
                var (peer, forward) = peers[p];
                var median = medians[ours.Length + p];
                rows.Add(new CompareRow(first, AttentionBackendKind.Cpu, peer.Version, setup.Threads, median, check.RelativeError<float>(forward.Output()), check.Scope)
                {
                    Dtype = type,
                    Kernel = forward.Kernel,
                    Peer = peer.Name,
                    PairedReadFraction = Paired(first, forward.Run),
                    OursOverPeer = median / medians[0],
                });
            }

            return rows;
        }
        finally
        {
            calls.ForEach(c => c.Dispose());
            pagedCalls.ForEach(c => c.Dispose());
        }
    }

    /// <summary>
    /// Times a decode case on an 8-bit key/value cache on the CPU (<see cref="ByteCacheAttention"/>): fp32 Q and O,
    /// K and V quantised as the layers' <c>KeyValueCacheStorage.Int8</c> or <c>Float8E4M3</c> store them; with <paramref name="paged"/>, the
    /// same rows in pages too (<see cref="ByteCacheAttention.RunPaged{T}"/>, one twin per page layout), timed
    /// interleaved with the contiguous call.
    /// </summary>
    /// <param name="perfCase">A decode case.</param>
    /// <param name="query">Q, fp32.</param>
    /// <param name="cache">K and V quantised, with their scales.</param>
    /// <param name="check">The float64 reference on the dequantised K and V.</param>
    /// <param name="setup">A CPU setup.</param>
    /// <param name="plan">The repetitions.</param>
    /// <param name="paged">The same rows in pages, one per page layout; empty for none.</param>
    /// <returns>The contiguous row, then the paged twins'.</returns>
    public static List<CompareRow> RunByteCache(
        PerfCase perfCase, float[] query, ByteCacheOperands cache, ReferenceCheck check, BackendSetup setup, RepetitionPlan plan,
        IReadOnlyList<PagedByteCacheOperands> paged)
    {
        var type = cache.Format == Cuda.SplitKv.KeyValue8BitFormat.Int8 ? OperandType.Int8Cache : OperandType.Float8Cache;
        var shape = perfCase.Shape;
        var options = perfCase.Options;
        using var backend = (Cpu.CpuBackend)setup.Create();
        var output = new float[shape.OutputElementCount];
        var pagedOutputs = paged.Select(_ => new float[shape.OutputElementCount]).ToArray();
        void Forward() => ByteCacheAttention.Run<float>(backend, shape, query, cache.Spans, output, options);
        Action PagedForward(int c) => () => ByteCacheAttention.RunPaged<float>(backend, shape, query, paged[c].Spans, paged[c].Layout, pagedOutputs[c], options);
        var pagedForwards = Enumerable.Range(0, paged.Count).Select(PagedForward).ToArray();

        var medians = plan.Medians([Forward, .. pagedForwards]);
        var rows = new List<CompareRow>
        {
            new(perfCase, setup.Kind, BackendSetup.VariantOf(backend), setup.Threads, medians[0], check.RelativeError<float>(output), check.Scope)
            {
                Dtype = type,
                Kernel = setup.KernelOf(perfCase),
                PairedReadFraction = PairedFraction(perfCase, type, setup, plan, Forward),
            },
        };
        for (int c = 0; c < paged.Count; c++)
        {
            rows.Add(new(perfCase, setup.Kind, BackendSetup.VariantOf(backend), setup.Threads, medians[1 + c], check.RelativeError<float>(pagedOutputs[c]), check.Scope)
            {
                Dtype = type,
                Kernel = $"{setup.KernelOf(perfCase)} {PagedOperands<byte>.Describe(paged[c].Layout)}",
                PageSize = paged[c].Layout.PageSize,
                PairedReadFraction = PairedFraction(perfCase, type, setup, plan, pagedForwards[c], paged[c].TableBytes),
                PagedOverContiguous = medians[0] / medians[1 + c],
            });
        }

        return rows;
    }

    /// <summary>
    /// A CPU decode row's rate over the paired read, on the bytes its K and V take in <paramref name="type"/> and
    /// <paramref name="tableBytes"/> more (a paged row's block table).
    /// </summary>
    private static double PairedFraction(
        PerfCase perfCase, OperandType type, BackendSetup setup, RepetitionPlan plan, Action forward, double tableBytes = 0) =>
        setup.Kind == AttentionBackendKind.Cpu && perfCase.IsDecode
            ? PairedRead.Fraction(forward, type.KeyValueBytes(perfCase) + tableBytes, setup.Threads, plan)
            : double.NaN;

    /// <summary>One layout's operands on the backend, its output and its call.</summary>
    private sealed class LayoutCall<T> : IDisposable
        where T : unmanaged
    {
        private readonly AttentionBackend backend;
        private readonly AttentionTensor<T> query;
        private readonly AttentionTensor<T> key;
        private readonly AttentionTensor<T> value;

        public LayoutCall(AttentionBackend backend, PerfCase perfCase, (T[] Query, T[] Key, T[] Value) operands)
        {
            this.backend = backend;
            Case = perfCase;
            query = backend.Upload<T>(operands.Query);
            key = backend.Upload<T>(operands.Key);
            value = backend.Upload<T>(operands.Value);
            Output = backend.Allocate<T>(perfCase.Shape.OutputElementCount);
        }

        public PerfCase Case { get; }

        public AttentionTensor<T> Query => query;

        public AttentionTensor<T> Output { get; }

        public void Forward()
        {
            backend.ScaledDotProductAttention(Case.Shape, query, key, value, Output, Case.Options);
            backend.Synchronize();
        }

        public void Dispose()
        {
            query.Dispose();
            key.Dispose();
            value.Dispose();
            Output.Dispose();
        }
    }

    /// <summary>The case on paged K and V (<see cref="PagedOperands{T}"/>) on the backend of the contiguous call.</summary>
    private sealed class PagedCall<T> : IDisposable
        where T : unmanaged
    {
        private readonly AttentionBackend backend;
        private readonly PerfCase perfCase;
        private readonly AttentionTensor<T> query;
        private readonly AttentionTensor<T> keyPages;
        private readonly AttentionTensor<T> valuePages;
        private readonly PagedKeyValueLayout layout;

        public PagedCall(AttentionBackend backend, PerfCase perfCase, AttentionTensor<T> query, PagedOperands<T> paged)
        {
            this.backend = backend;
            this.perfCase = perfCase;
            this.query = query;
            layout = paged.Layout;
            keyPages = backend.Upload<T>(paged.KeyPages);
            valuePages = backend.Upload<T>(paged.ValuePages);
            Output = backend.Allocate<T>(perfCase.Shape.OutputElementCount);
        }

        public AttentionTensor<T> Output { get; }

        public void Run() =>
            backend.PagedScaledDotProductAttention(perfCase.Shape, query, keyPages, valuePages, layout, Output, perfCase.Options);

        public void Dispose()
        {
            keyPages.Dispose();
            valuePages.Dispose();
            Output.Dispose();
        }
    }
}
