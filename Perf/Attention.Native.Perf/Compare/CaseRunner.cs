using Attention.Native.Cpu.Decode;
using Attention.Native.Perf.Peers;
using Attention.Native.Perf.Workloads;

namespace Attention.Native.Perf.Compare;

/// <summary>Times one case on one backend configuration, and the peers beside it, and checks every output against the
/// reference.</summary>
internal static class CaseRunner
{
    /// <param name="perfCase">The case.</param>
    /// <param name="operands">Q, K and V already in the operand type <typeparamref name="T"/> and the case's layout.</param>
    /// <param name="type">The operand type, for the row.</param>
    /// <param name="check">The float64 reference on the same operands.</param>
    /// <param name="setup">The backend configuration.</param>
    /// <param name="plan">The repetitions.</param>
    /// <param name="peers">Peers' forwards of the same case on the same (fp32) operands at <paramref name="setup"/>'s
    /// thread count, timed interleaved with the backend's; empty for none.</param>
    /// <returns>The backend's row, then one per peer.</returns>
    public static List<CompareRow> Run<T>(
        PerfCase perfCase,
        (T[] Query, T[] Key, T[] Value) operands,
        OperandType type,
        ReferenceCheck check,
        BackendSetup setup,
        RepetitionPlan plan,
        IReadOnlyList<(IAttentionPeer Peer, IPeerForward Forward)> peers)
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

        var medians = plan.Medians([Forward, .. peers.Select(p => (Action)p.Forward.Run)]);
        double Paired(Action forward) => PairedFraction(perfCase, type, setup, plan, forward);
        var rows = new List<CompareRow>
        {
            new(perfCase, setup.Kind, BackendSetup.VariantOf(backend), setup.Threads, medians[0], check.RelativeError<T>(perfCase.OutputAsBhsd(output.ToArray())), check.Scope)
            {
                Dtype = type,
                Kernel = setup.KernelOf(perfCase),
                PairedReadFraction = Paired(Forward),
            },
        };
        for (int p = 0; p < peers.Count; p++)
        {
            var (peer, forward) = peers[p];
            rows.Add(new CompareRow(perfCase, AttentionBackendKind.Cpu, peer.Version, setup.Threads, medians[p + 1], check.RelativeError<float>(forward.Output()), check.Scope)
            {
                Dtype = type,
                Kernel = forward.Kernel,
                Peer = peer.Name,
                PairedReadFraction = Paired(forward.Run),
                OursOverPeer = medians[p + 1] / medians[0],
            });
        }

        return rows;
    }

    /// <summary>
    /// Times a decode case on an int8 key/value cache on the CPU (<see cref="Int8CacheAttention"/>): fp32 Q and O,
    /// K and V quantised as the layers' <c>KeyValueCacheStorage.Int8</c> stores them.
    /// </summary>
    /// <param name="perfCase">A decode case.</param>
    /// <param name="query">Q, fp32.</param>
    /// <param name="cache">K and V quantised, with their scales.</param>
    /// <param name="check">The float64 reference on the dequantised K and V.</param>
    /// <param name="setup">A CPU setup.</param>
    /// <param name="plan">The repetitions.</param>
    public static CompareRow RunInt8Cache(
        PerfCase perfCase, float[] query, Int8CacheOperands cache, ReferenceCheck check, BackendSetup setup, RepetitionPlan plan)
    {
        var shape = perfCase.Shape;
        var options = perfCase.Options;
        using var backend = (Cpu.CpuBackend)setup.Create();
        var output = new float[shape.OutputElementCount];
        void Forward() => Int8CacheAttention.Run<float>(backend, shape, query, cache.Spans, output, options);

        var median = plan.Median(Forward);
        return new CompareRow(perfCase, setup.Kind, BackendSetup.VariantOf(backend), setup.Threads, median, check.RelativeError<float>(output), check.Scope)
        {
            Dtype = OperandType.Int8Cache,
            Kernel = setup.KernelOf(perfCase),
            PairedReadFraction = PairedFraction(perfCase, OperandType.Int8Cache, setup, plan, Forward),
        };
    }

    /// <summary>A CPU decode row's rate over the paired read, on the bytes its K and V take in <paramref name="type"/>.</summary>
    private static double PairedFraction(PerfCase perfCase, OperandType type, BackendSetup setup, RepetitionPlan plan, Action forward) =>
        setup.Kind == AttentionBackendKind.Cpu && perfCase.IsDecode
            ? PairedRead.Fraction(forward, type.KeyValueBytes(perfCase), setup.Threads, plan)
            : double.NaN;
}
