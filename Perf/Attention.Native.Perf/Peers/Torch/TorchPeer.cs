using System.Runtime.InteropServices;
using Attention.Native.Perf.Workloads;
using TorchSharp;

namespace Attention.Native.Perf.Peers.Torch;

/// <summary>
/// PyTorch's <c>torch.nn.functional.scaled_dot_product_attention</c> on the CPU, through TorchSharp (libtorch CPU),
/// with <c>torch.set_num_threads(n)</c>. TorchSharp's binding has no <c>scale</c> and no <c>enable_gqa</c> argument:
/// the scale is SDPA's default <c>1/√D</c>, as in every case here, and grouped-query cases are put to it as
/// <see cref="TorchForward"/> describes.
/// </summary>
internal sealed class TorchPeer : IAttentionPeer
{
    private TorchPeer(string version, string waitPolicy)
    {
        Version = version;
        Settings = $"torch.set_num_threads(n), OMP_WAIT_POLICY {waitPolicy}";
    }

    public string Name => "torch";

    public string Version { get; }

    public string Settings { get; }

    /// <summary>Loads libtorch and runs one small SDPA; null with the reason when either fails.</summary>
    public static TorchPeer? TryLoad(out string reason)
    {
        // Loaded here first, by the same search the runtime's own import would make: when its regular load fails,
        // TorchSharp's loader copies every libtorch file from the NuGet cache into the output folder (~500 MB) and
        // tries again, which a run must never do behind the user's back.
        string waitPolicy = OpenMpWaitPolicy.RequestPassive();
        try
        {
            NativeLibrary.Load("LibTorchSharp", typeof(torch).Assembly, null);
        }
        catch (DllNotFoundException e)
        {
            reason = $"libLibTorchSharp could not be loaded: {LoaderMessage(e.Message)}";
            return null;
        }

        try
        {
            // The build marks one libstdc++ version need of libLibTorchSharp.so weak (Peers/WeakVersionNeed.targets):
            // a first forward proves the library runs, not only that it loads.
            using var probe = torch.ones(1, 2, 3, 4);
            using var output = torch.nn.functional.scaled_dot_product_attention(probe, probe, probe, null, 0, true);
            using var total = output.sum();
            if (output.shape is not [1, 2, 3, 4] || Math.Abs(total.item<float>() - 24f) > 1e-4f)
            {
                reason = "libtorch's scaled_dot_product_attention gave a wrong result on all-ones operands";
                return null;
            }
        }
        catch (Exception e) when (e is TypeInitializationException or NotSupportedException or ExternalException or DllNotFoundException)
        {
            reason = $"libtorch failed its first forward: {LoaderMessage(e.GetBaseException().Message)}";
            return null;
        }

        reason = string.Empty;
        // TorchSharp reports libtorch's version with four parts (2.10.0.0); PyTorch names it with three.
        string version = System.Version.TryParse(torch.__version__, out var parsed) ? parsed.ToString(3) : torch.__version__;
        return new TorchPeer($"libtorch {version}", waitPolicy);
    }

    public string? Unsupported(PerfCase perfCase) => TopLeftCausal.Unsupported(perfCase);

    public IPeerForward Prepare(PerfCase perfCase, RandomOperands operands, int threads)
    {
        try
        {
            var forward = new TorchForward(perfCase, operands, threads);
            forward.Run();
            return forward;
        }
        catch (ExternalException e)
        {
            throw new NotSupportedException($"torch: {e.Message}", e);
        }
    }

    /// <summary>
    /// The loader's line that says what went wrong: the runtime lists one line per file name it tried, nearly all
    /// "No such file"; the one that differs (a missing version, a missing dependency) is the cause, else the line of
    /// the file itself.
    /// </summary>
    private static string LoaderMessage(string message)
    {
        string[] lines = message.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        return lines.FirstOrDefault(l => l.Contains(".so", StringComparison.Ordinal) && !l.EndsWith("No such file or directory", StringComparison.Ordinal))
            ?? lines.FirstOrDefault(l => l.Contains("/libLibTorchSharp.so:", StringComparison.Ordinal))
            ?? lines.FirstOrDefault() ?? message;
    }
}
