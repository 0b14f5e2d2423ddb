using EmbeddingSample.Model;
using EmbeddingSample.Simd;
using EmbeddingSample.Tokens;
using Microsoft.ML.OnnxRuntime;

namespace EmbeddingSample.Ort;

/// <summary>
/// The reference: ONNX Runtime's CPU provider on the package's <c>model.onnx</c> itself (every graph optimisation:
/// ORT fuses the attention, the layer norms and GELU), then the same mean pooling and L2 normalisation.
/// </summary>
public sealed class OrtSentenceEncoder : IDisposable
{
    private readonly InferenceSession session;
    private readonly RunOptions runOptions = new();
    private readonly int hidden;

    /// <summary>A session with <paramref name="threads"/> intra-op threads.</summary>
    /// <param name="model">The ONNX model's bytes.</param>
    /// <param name="hidden">The model dimension (the last axis of <c>last_hidden_state</c>).</param>
    /// <param name="threads">intra_op_num_threads.</param>
    public OrtSentenceEncoder(byte[] model, int hidden, int threads)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        this.hidden = hidden;
        using var options = CpuOptions(threads);
        session = new InferenceSession(model, options);
        Version = OrtEnv.Instance().GetVersionString();
    }

    /// <summary>
    /// The CPU provider's session options every comparison with ONNX Runtime here uses (this encoder, the perf tool's
    /// attention peer): <paramref name="threads"/> intra-op threads, one inter-op thread, sequential execution, every
    /// graph optimisation, no spinning in idle pool threads.
    /// </summary>
    /// <param name="threads">intra_op_num_threads.</param>
    /// <returns>Options the caller disposes.</returns>
    public static SessionOptions CpuOptions(int threads)
    {
        var options = new SessionOptions
        {
            IntraOpNumThreads = threads,
            InterOpNumThreads = 1,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR,
        };

        // Idle pool threads sleep instead of spinning (ORT's default): runs interleaved with another engine's lose a
        // core to a spinning thread otherwise (on 2 cores the other engine's times grew 2-8x).
        options.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
        options.AddSessionConfigEntry("session.inter_op.allow_spinning", "0");
        return options;
    }

    /// <summary>ONNX Runtime's version.</summary>
    public string Version { get; }

    /// <summary>The package's model bytes (<see cref="MiniLmPackage.OpenModel"/>).</summary>
    /// <returns>The bytes of <c>model.onnx</c>.</returns>
    public static byte[] PackageModel()
    {
        using var stream = MiniLmPackage.OpenModel();
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }

    /// <summary>The sentences' embeddings, <c>[B, hidden]</c>, each of unit length.</summary>
    /// <param name="batch">The tokenised sentences.</param>
    /// <returns>The embeddings, row-major.</returns>
    public float[] Encode(TokenBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        long[] shape = [batch.Count, batch.Length];
        using var ids = OrtValue.CreateTensorValueFromMemory(batch.InputIds, shape);
        using var mask = OrtValue.CreateTensorValueFromMemory(batch.AttentionMask, shape);
        using var types = OrtValue.CreateTensorValueFromMemory(batch.TokenTypeIds, shape);
        var states = new float[batch.Count * batch.Length * hidden];
        using var output = OrtValue.CreateTensorValueFromMemory(states, [batch.Count, batch.Length, hidden]);
        session.Run(runOptions, ["input_ids", "attention_mask", "token_type_ids"], [ids, mask, types], ["last_hidden_state"], [output]);
        var embeddings = new float[batch.Count * hidden];
        var take = new bool[batch.Length];
        int rowValues = batch.Length * hidden;
        for (int b = 0; b < batch.Count; b++)
        {
            for (int t = 0; t < batch.Length; t++)
            {
                take[t] = batch.AttentionMask[(b * batch.Length) + t] != 0;
            }

            SentencePooling.MeanNormalized(states.AsSpan(b * rowValues, rowValues), take, embeddings.AsSpan(b * hidden, hidden));
        }

        return embeddings;
    }

    /// <summary>Frees the session.</summary>
    public void Dispose()
    {
        runOptions.Dispose();
        session.Dispose();
    }
}
