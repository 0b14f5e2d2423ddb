using System.Diagnostics;
using Attention.Native;
using Attention.Native.Cpu;
using Attention.Native.Layers;
using EmbeddingSample.Model;
using EmbeddingSample.Simd;
using EmbeddingSample.Tokens;

namespace EmbeddingSample.Encoder;

/// <summary>
/// Sentence embeddings of a BERT encoder (all-MiniLM-L6-v2) on a backend: token embeddings and their norm, then per
/// layer a <see cref="MultiHeadAttention{T}"/> with the key padding taken from the attention mask, the residual and
/// layer norm, the feed-forward block (the layers' SGEMM on the CPU, cuBLAS on a GPU, with GELU between) and its
/// residual and norm; last, mean pooling over the real tokens and L2 normalisation.
/// </summary>
/// <remarks>
/// <para>Only real tokens are computed outside the attention layer: the hidden states are kept as the batch's real
/// tokens one after another (<c>[TokenCount, E]</c>), so padding costs nothing in the feed-forward block, the norms and
/// GELU. The attention layer takes its input as <c>[B, L, E]</c>: the rows are copied into that padded layout for it,
/// and its masks skip the padded keys (<c>KeyLengths</c> for right padding, <c>KeyPadding</c> for any other mask).
/// Position ids are the token's index in its row, as in the ONNX graph, whatever the mask.</para>
/// <para>Embeddings, layer norms, GELU and pooling run on the host with <see cref="System.Numerics.Vector{T}"/> lanes, in
/// place on a CPU float encoder's tensors and on copies otherwise (a GPU's tensors, Half): the GPU path runs the
/// projections and the attention on the device and is a functional one, not a tuned one.</para>
/// <para>One call at a time (the layers serve one call at a time).</para>
/// </remarks>
/// <typeparam name="T">float, or Half (weights and activations rounded to Half; sums in float).</typeparam>
public sealed class SentenceEncoder<T> : IDisposable
    where T : unmanaged
{
    private readonly AttentionBackend backend;
    private readonly BertWeights weights;
    private readonly LayerEngine<T> engine;
    private readonly EncoderLayer<T>[] layers;
    private readonly int hostThreads;
    private readonly HostRows<T> hiddenRows = new(), attentionRows = new(), intermediateRows = new(), outputRows = new();
    private AttentionTensor<T>? tokenRows, intermediate, output, paddedInput, paddedOutput;

    // The hidden states, [TokenCount, E]: tokenRows, or paddedInput when the batch has no padding.
    private AttentionTensor<T>? hidden;
    private bool disposed;

    /// <summary>Loads <paramref name="weights"/> onto <paramref name="backend"/>.</summary>
    /// <param name="backend">The CPU or CUDA backend.</param>
    /// <param name="weights">The encoder's weights (<see cref="OnnxBertReader"/>).</param>
    /// <exception cref="NotSupportedException"><typeparamref name="T"/> is neither float nor Half.</exception>
    public SentenceEncoder(AttentionBackend backend, BertWeights weights)
    {
        ArgumentNullException.ThrowIfNull(backend);
        ArgumentNullException.ThrowIfNull(weights);
        if (typeof(T) != typeof(float) && typeof(T) != typeof(Half))
        {
            throw new NotSupportedException($"The encoder runs in float or Half, not {typeof(T).Name}.");
        }

        this.backend = backend;
        this.weights = weights;
        engine = LayerEngine<T>.For(backend, allowTensorFloat32: false);
        layers = [.. weights.Layers.Select(w => new EncoderLayer<T>(backend, weights.Config, w))];
        hostThreads = backend is CpuBackend cpu ? cpu.ThreadCount : Environment.ProcessorCount;
    }

    /// <summary>The model's sizes.</summary>
    public BertConfig Config => weights.Config;

    /// <summary>When set, each call adds the time of its phases to it (synchronising a GPU after each phase).</summary>
    public EncoderProfile? Profile { get; set; }

    /// <summary>The sentences' embeddings: <c>[B, Hidden]</c>, each of unit length.</summary>
    /// <param name="batch">The tokenised sentences.</param>
    /// <returns>The embeddings, row-major.</returns>
    /// <exception cref="ArgumentException">A token id or token type is outside the model's tables, or the rows are
    /// longer than its positions (the message names the sentence).</exception>
    /// <exception cref="ObjectDisposedException">The encoder was disposed.</exception>
    public float[] Encode(TokenBatch batch)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        ArgumentNullException.ThrowIfNull(batch);
        var c = Config;
        Validate(batch, c);
        int hiddenSize = c.Hidden, tokens = batch.TokenCount, paddedRows = batch.Count * batch.Length;
        Prepare(batch);
        var rows = PaddedRowOfToken(batch);
        LayerMasks? masks = tokens == paddedRows ? null
            : batch.IsRightPadded ? new LayerMasks { KeyLengths = batch.Lengths }
            : new LayerMasks { KeyPadding = Array.ConvertAll(batch.AttentionMask, m => m != 0) };

        long start = Stopwatch.GetTimestamp();
        Embed(batch, rows);
        Phase(EncoderPhase.Embeddings, ref start);
        foreach (var layer in layers)
        {
            // The attention layer takes [B, L, E]: without padding that is the hidden states themselves; otherwise the
            // token rows are copied to their padded rows (the padding stays finite: zero at first, stale rows after).
            if (hidden != paddedInput)
            {
                foreach (var (from, to, count) in Runs(rows))
                {
                    engine.Copy(new LayerOperand<T>(hidden!, (long)from * hiddenSize), new LayerOperand<T>(paddedInput!, (long)to * hiddenSize), (long)count * hiddenSize);
                }

                Phase(EncoderPhase.Scatter, ref start);
            }

            layer.Attention.Forward(batch.Count, paddedInput!, paddedOutput!, masks);
            Phase(EncoderPhase.SelfAttention, ref start);
            AddAndNormalize(paddedOutput!, attentionRows, paddedRows, rows, default, layer.AttentionNorm);
            Phase(EncoderPhase.LayerNorm, ref start);

            // The feed-forward projections leave out their biases: the passes after them add them (GELU's, the norm's),
            // which spares a pass over their outputs.
            engine.Linear(hidden!, hiddenSize, tokens, layer.Intermediate, null, intermediate!, c.Intermediate);
            Phase(EncoderPhase.FeedForward, ref start);
            BiasGelu(tokens, c.Intermediate, layer.IntermediateBias);
            Phase(EncoderPhase.Gelu, ref start);
            engine.Linear(intermediate!, c.Intermediate, tokens, layer.Output, null, output!, hiddenSize);
            Phase(EncoderPhase.FeedForward, ref start);
            AddAndNormalize(output!, outputRows, tokens, null, layer.OutputBias, layer.OutputNorm);
            Phase(EncoderPhase.LayerNorm, ref start);
        }

        var embeddings = Pool(batch);
        Phase(EncoderPhase.Pooling, ref start);
        if (Profile is { } profile)
        {
            profile.Calls++;
        }

        return embeddings;
    }

    /// <summary>Frees the weights and buffers.</summary>
    public void Dispose()
    {
        if (disposed)
        {
            return;
        }

        disposed = true;
        foreach (var layer in layers)
        {
            layer.Dispose();
        }

        foreach (var tensor in new[] { tokenRows, intermediate, output, paddedInput, paddedOutput })
        {
            tensor?.Dispose();
        }

        engine.Dispose();
    }

    private static void Validate(TokenBatch batch, BertConfig c)
    {
        if (batch.Length > c.MaxPositions)
        {
            throw new ArgumentException($"The batch's rows hold {batch.Length} tokens; the model has {c.MaxPositions} positions.", nameof(batch));
        }

        for (int i = 0; i < batch.InputIds.Length; i++)
        {
            if ((ulong)batch.InputIds[i] >= (ulong)c.VocabularySize || (ulong)batch.TokenTypeIds[i] >= (ulong)c.TokenTypes)
            {
                throw new ArgumentException(
                    $"Sentence {i / batch.Length}, token {i % batch.Length}: id {batch.InputIds[i]} and type {batch.TokenTypeIds[i]}; the model has {c.VocabularySize} ids and {c.TokenTypes} types.",
                    nameof(batch));
            }
        }
    }

    /// <summary>Each real token's row in the padded <c>[B, L]</c> layout, in the order the hidden states keep them.</summary>
    private static int[] PaddedRowOfToken(TokenBatch batch)
    {
        var rows = new int[batch.TokenCount];
        int t = 0;
        for (int r = 0; r < batch.AttentionMask.Length; r++)
        {
            if (batch.AttentionMask[r] != 0)
            {
                rows[t++] = r;
            }
        }

        return rows;
    }

    /// <summary>Runs of consecutive tokens whose padded rows are consecutive too: (first token, first padded row, count).</summary>
    private static IEnumerable<(int From, int To, int Count)> Runs(int[] rows)
    {
        int first = 0;
        for (int t = 1; t <= rows.Length; t++)
        {
            if (t == rows.Length || rows[t] != rows[t - 1] + 1)
            {
                yield return (first, rows[first], t - first);
                first = t;
            }
        }
    }

    /// <summary>
    /// Sizes the buffers for <paramref name="batch"/>: the token buffers grow, the attention layer's pair fits exactly;
    /// without padding the hidden states live in the attention layer's input.
    /// </summary>
    private void Prepare(TokenBatch batch)
    {
        var c = Config;
        long tokens = batch.TokenCount, padded = (long)batch.Count * batch.Length * c.Hidden;
        Grow(ref tokenRows, tokens * c.Hidden);
        Grow(ref intermediate, tokens * c.Intermediate);
        Grow(ref output, tokens * c.Hidden);
        if (paddedInput?.Length != padded)
        {
            paddedInput?.Dispose();
            paddedOutput?.Dispose();
            paddedInput = backend.Allocate<T>(padded);
            paddedInput.CopyFrom(new T[padded]);
            paddedOutput = backend.Allocate<T>(padded);
        }

        hidden = tokens * c.Hidden == padded ? paddedInput : tokenRows;
    }

    private void Grow(ref AttentionTensor<T>? tensor, long length)
    {
        if (tensor is null || tensor.Length < length)
        {
            tensor?.Dispose();
            tensor = backend.Allocate<T>(length);
        }
    }

    /// <summary><c>LayerNorm(word[id] + position[p] + type[tt])</c> for every real token, into the hidden states.</summary>
    private void Embed(TokenBatch batch, int[] rows)
    {
        var c = Config;
        int e = c.Hidden;
        var norm = weights.EmbeddingNorm;
        // Sized here, before the workers share it: the first Open of a larger size replaces the host buffer.
        _ = hiddenRows.Open(hidden!, rows.Length * e);
        ForRows(rows.Length, (first, count) =>
        {
            var h = hiddenRows.Open(hidden!, rows.Length * e);
            for (int t = first; t < first + count; t++)
            {
                int r = rows[t];
                var row = h.Slice(t * e, e);
                weights.WordEmbeddings.AsSpan((int)batch.InputIds[r] * e, e).CopyTo(row);
                var position = weights.PositionEmbeddings.AsSpan(r % batch.Length * e, e);
                var type = weights.TokenTypeEmbeddings.AsSpan((int)batch.TokenTypeIds[r] * e, e);
                for (int i = 0; i < e; i++)
                {
                    row[i] += position[i] + type[i];
                }

                LayerNorm.Apply(row, default, default, row, norm.Scale, norm.Shift, c.LayerNormEpsilon);
            }
        });
        hiddenRows.Write(hidden!, rows.Length * e);
    }

    /// <summary>
    /// <c>hidden[t] = LayerNorm(source[row(t)] + bias + hidden[t])</c> for every token: <paramref name="rows"/> maps a token
    /// to its row of <paramref name="source"/> (null: the same row); <paramref name="bias"/> may be empty.
    /// </summary>
    private void AddAndNormalize(
        AttentionTensor<T> source, HostRows<T> sourceRows, int sourceRowCount, int[]? rows, float[]? bias, LayerNormWeights norm)
    {
        var c = Config;
        int e = c.Hidden, tokens = rows?.Length ?? sourceRowCount;
        _ = sourceRows.Read(source, sourceRowCount * e);
        _ = hiddenRows.Read(hidden!, tokens * e);
        ForRows(tokens, (first, count) =>
        {
            var from = sourceRows.Open(source, sourceRowCount * e);
            var h = hiddenRows.Open(hidden!, tokens * e);
            for (int t = first; t < first + count; t++)
            {
                var row = h.Slice(t * e, e);
                LayerNorm.Apply(from.Slice((rows is null ? t : rows[t]) * e, e), bias, row, row, norm.Scale, norm.Shift, c.LayerNormEpsilon);
            }
        });
        hiddenRows.Write(hidden!, tokens * e);
    }

    /// <summary><c>x = GELU(x + bias)</c> on the intermediate activations, <paramref name="tokens"/> rows of <paramref name="width"/>.</summary>
    private void BiasGelu(int tokens, int width, float[] bias)
    {
        int count = tokens * width;
        _ = intermediateRows.Read(intermediate!, count);
        ForRows(tokens, (first, rowCount) =>
        {
            var values = intermediateRows.Open(intermediate!, count);
            for (int t = first; t < first + rowCount; t++)
            {
                Gelu.Apply(values.Slice(t * width, width), bias);
            }
        });
        intermediateRows.Write(intermediate!, count);
    }

    private float[] Pool(TokenBatch batch)
    {
        int e = Config.Hidden;
        var states = hiddenRows.Read(hidden!, batch.TokenCount * e);
        var embeddings = new float[batch.Count * e];
        var all = new bool[batch.Length];
        all.AsSpan().Fill(true);
        int first = 0;
        for (int b = 0; b < batch.Count; b++)
        {
            int n = batch.Lengths[b];
            SentencePooling.MeanNormalized(states.Slice(first * e, n * e), all.AsSpan(0, n), embeddings.AsSpan(b * e, e));
            first += n;
        }

        return embeddings;
    }

    /// <summary>Runs <paramref name="body"/> on blocks of rows on the host's workers.</summary>
    private void ForRows(int rowCount, Action<int, int> body)
    {
        const int RowsPerBlock = 16;
        int blocks = (rowCount + RowsPerBlock - 1) / RowsPerBlock;
        CpuParallel.For(blocks, hostThreads, (block, _) =>
        {
            int first = block * RowsPerBlock;
            body(first, Math.Min(RowsPerBlock, rowCount - first));
        });
    }

    private void Phase(EncoderPhase phase, ref long start)
    {
        if (Profile is not { } profile)
        {
            return;
        }

        backend.Synchronize();
        profile.Add(phase, start);
        start = Stopwatch.GetTimestamp();
    }
}
