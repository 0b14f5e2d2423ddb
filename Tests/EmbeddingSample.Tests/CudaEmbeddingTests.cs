using Attention.Native.Cuda;
using EmbeddingSample.Encoder;

namespace EmbeddingSample.Tests;

/// <summary>
/// The encoder on the CUDA backend (cuBLAS projections, the attention kernels, host norms): float within the float bar,
/// Half within the Half bar, on a small padded batch. Skipped without a device; `./build.sh test` runs it on the
/// emulated device, which checks the host path and the kernels' logic, not a GPU's arithmetic or speed.
/// </summary>
[Trait("Device", "Cuda")]
public sealed class CudaEmbeddingTests
{
    [Fact]
    public void Float_embeddings_equal_onnx_runtime() => Check<float>(EmbeddingComparison.FloatTolerance);

    [Fact]
    public void Half_embeddings_are_close_to_onnx_runtime() => Check<Half>(EmbeddingComparison.HalfTolerance);

    private static void Check<T>(EmbeddingComparison tolerance)
        where T : unmanaged
    {
        Assert.SkipUnless(CudaBackend.IsAvailable(out string reason), $"needs a CUDA device; {reason}");
        var batch = MiniLm.Tokenizer.Encode(["Rain.", "A man is playing a guitar.", "Café au lait!"]);
        using var backend = new CudaBackend();
        using var encoder = new SentenceEncoder<T>(backend, MiniLm.Weights);
        OrtEqualityTests.AssertEqual(encoder.Encode(batch), MiniLm.Reference(batch), tolerance, $"CUDA {typeof(T).Name}");
    }
}
