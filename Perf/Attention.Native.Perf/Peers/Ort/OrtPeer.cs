using Attention.Native.Perf.Workloads;
using Microsoft.ML.OnnxRuntime;

namespace Attention.Native.Perf.Peers.Ort;

/// <summary>ONNX Runtime's CPU execution provider on a one-node attention model per case (<see cref="OrtForward"/>).</summary>
internal sealed class OrtPeer : IAttentionPeer
{
    private OrtPeer(string version) => Version = version;

    public string Name => "ort";

    public string Version { get; }

    public string Settings => "intra_op_num_threads n, inter_op 1, ORT_ENABLE_ALL, allow_spinning 0";

    /// <summary>Loads ONNX Runtime and runs one small model; null with the reason when either fails.</summary>
    public static OrtPeer? TryLoad(out string reason)
    {
        try
        {
            string version = OrtEnv.Instance().GetVersionString();
            var shape = new AttentionShape(batch: 1, heads: 2, 3, 3, 4);
            var operands = RandomOperands.Create(shape, new Random(0));
            foreach (float[] operand in new[] { operands.Query, operands.Key, operands.Value })
            {
                operand.AsSpan().Fill(1f);
            }

            using var forward = new OrtForward(new PerfCase("ort-probe", shape, CausalMask.TopLeft), operands, threads: 1);
            forward.Run();
            if (forward.Output().Any(v => Math.Abs(v - 1f) > 1e-5f))
            {
                reason = "its Attention operator gave a wrong result on all-ones operands";
                return null;
            }

            reason = string.Empty;
            return new OrtPeer($"ORT {version}");
        }
        catch (Exception e) when (e is DllNotFoundException or TypeInitializationException or EntryPointNotFoundException or OnnxRuntimeException)
        {
            reason = $"ONNX Runtime could not be loaded or run: {e.GetBaseException().Message.Split('\n')[0]}";
            return null;
        }
    }

    public string? Unsupported(PerfCase perfCase) => TopLeftCausal.Unsupported(perfCase);

    public IPeerForward Prepare(PerfCase perfCase, RandomOperands operands, int threads)
    {
        OrtForward? forward = null;
        try
        {
            forward = new OrtForward(perfCase, operands, threads);
            forward.Run();
            return forward;
        }
        catch (OnnxRuntimeException e)
        {
            forward?.Dispose();
            throw new NotSupportedException($"ort: {e.Message}", e);
        }
    }
}
