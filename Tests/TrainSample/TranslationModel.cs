using Attention.Native;
using Attention.Native.Layers;

namespace TrainSample;

/// <summary>
/// A one-layer encoder–decoder on the library's layers: the encoder is self-attention over the source embeddings with a
/// residual; the decoder is causal self-attention over the shifted target, then cross-attention to the encoder's
/// output (both with residuals), then a projection to the target vocabulary and softmax cross-entropy. Every
/// gradient comes from the layers' <see cref="MultiHeadAttention{T}.Backward"/> and the few lines here for the
/// embeddings, residuals and the vocabulary projection.
/// </summary>
internal sealed class TranslationModel : IDisposable
{
    public const int ModelDim = 16, Heads = 2;
    private const int L = ToyCorpus.Length;

    private readonly AttentionBlock encoder, decoderSelf, decoderCross;
    private readonly float[] sourceEmbedding, targetEmbedding, vocabularyWeight, vocabularyBias, positions;
    private readonly LayerMasks causal = new() { Causal = CausalMask.TopLeft };

    public TranslationModel(AttentionBackend backend, Random random)
    {
        encoder = new(backend, ModelDim, Heads, random);
        decoderSelf = new(backend, ModelDim, Heads, random);
        decoderCross = new(backend, ModelDim, Heads, random);
        int targets = ToyCorpus.TargetVocabulary.Length;
        sourceEmbedding = Parameters.Gaussian(random, ToyCorpus.SourceVocabulary.Length * ModelDim, 1);
        targetEmbedding = Parameters.Gaussian(random, targets * ModelDim, 1);
        vocabularyWeight = Parameters.Gaussian(random, targets * ModelDim, 1 / MathF.Sqrt(ModelDim));
        vocabularyBias = new float[targets];
        positions = Parameters.Positions(L, ModelDim);
        ParameterList = [sourceEmbedding, targetEmbedding, vocabularyWeight, vocabularyBias, .. encoder.Trainable, .. decoderSelf.Trainable, .. decoderCross.Trainable];
        LoadLayers();
    }

    /// <summary>Every trainable array, in the order of <see cref="Step"/>'s gradients.</summary>
    public IReadOnlyList<float[]> ParameterList { get; }

    /// <summary>Loads the layers from the updated weights.</summary>
    public void LoadLayers()
    {
        encoder.Load();
        decoderSelf.Load();
        decoderCross.Load();
    }

    /// <summary>The mean cross-entropy of predicting <paramref name="targets"/> and the gradients of every parameter.</summary>
    /// <param name="sources">Source tokens, <c>[B, L]</c>.</param>
    /// <param name="targets">Target tokens, <c>[B, L]</c>; the decoder reads them shifted right behind the start token.</param>
    public (float Loss, IReadOnlyList<float[]> Gradients) Step(int[] sources, int[] targets)
    {
        int batch = sources.Length / L, rows = batch * L, targetCount = ToyCorpus.TargetVocabulary.Length;
        var decoderInput = Shifted(targets);

        // Forward, keeping the activations.
        var xs = Parameters.Embed(sourceEmbedding, sources, positions, L, ModelDim);
        var encoded = new float[xs.Length];
        var encoderActivations = encoder.Layer.ForwardForTraining(batch, xs, encoded);
        var memory = Parameters.Sum(xs, encoded);
        var xt = Parameters.Embed(targetEmbedding, decoderInput, positions, L, ModelDim);
        var attended = new float[xt.Length];
        var selfActivations = decoderSelf.Layer.ForwardForTraining(batch, xt, attended, causal);
        var y = Parameters.Sum(xt, attended);
        var crossed = new float[y.Length];
        var crossActivations = decoderCross.Layer.ForwardForTraining(batch, y, memory, memory, crossed);
        var h = Parameters.Sum(y, crossed);
        var logits = Logits(h, rows);

        // Cross-entropy and its gradient with respect to the logits: softmax − one-hot, over the rows' mean.
        float loss = 0;
        var logitsGrad = new float[logits.Length];
        for (int r = 0; r < rows; r++)
        {
            var row = logits.AsSpan(r * targetCount, targetCount);
            float max = row.ToArray().Max(), sum = 0;
            foreach (float z in row)
            {
                sum += MathF.Exp(z - max);
            }

            for (int c = 0; c < targetCount; c++)
            {
                float p = MathF.Exp(row[c] - max) / sum;
                logitsGrad[(r * targetCount) + c] = (p - (c == targets[r] ? 1 : 0)) / rows;
            }

            loss -= (row[targets[r]] - max - MathF.Log(sum)) / rows;
        }

        // Backward: the vocabulary projection, then the layers in reverse, the residuals adding their branches.
        var vocabularyWeightGrad = new float[vocabularyWeight.Length];
        var vocabularyBiasGrad = new float[vocabularyBias.Length];
        var hGrad = new float[h.Length];
        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c < targetCount; c++)
            {
                float g = logitsGrad[(r * targetCount) + c];
                vocabularyBiasGrad[c] += g;
                for (int i = 0; i < ModelDim; i++)
                {
                    vocabularyWeightGrad[(c * ModelDim) + i] += g * h[(r * ModelDim) + i];
                    hGrad[(r * ModelDim) + i] += g * vocabularyWeight[(c * ModelDim) + i];
                }
            }
        }

        var crossGrads = decoderCross.Layer.Backward(crossActivations, hGrad);
        var yGrad = Parameters.Sum(hGrad, crossGrads.QueryGrad);
        var memoryGrad = Parameters.Sum(crossGrads.KeyGrad, crossGrads.ValueGrad);
        var selfGrads = decoderSelf.Layer.Backward(selfActivations, yGrad);
        var xtGrad = Parameters.Sum(yGrad, selfGrads.QueryGrad);
        var encoderGrads = encoder.Layer.Backward(encoderActivations, memoryGrad);
        var xsGrad = Parameters.Sum(memoryGrad, encoderGrads.QueryGrad);
        var sourceEmbeddingGrad = new float[sourceEmbedding.Length];
        var targetEmbeddingGrad = new float[targetEmbedding.Length];
        Parameters.EmbedBackward(sourceEmbeddingGrad, sources, xsGrad, ModelDim);
        Parameters.EmbedBackward(targetEmbeddingGrad, decoderInput, xtGrad, ModelDim);
        return (loss, [sourceEmbeddingGrad, targetEmbeddingGrad, vocabularyWeightGrad, vocabularyBiasGrad,
            .. AttentionBlock.Gradients(encoderGrads), .. AttentionBlock.Gradients(selfGrads), .. AttentionBlock.Gradients(crossGrads)]);
    }

    /// <summary>Greedy decoding of one sentence, and the cross-attention weights (averaged over heads) of its last step.</summary>
    public (int[] Tokens, float[] CrossWeights) Translate(int[] source)
    {
        var tokens = new int[L];
        var weights = new float[L * L];
        var xs = Parameters.Embed(sourceEmbedding, source, positions, L, ModelDim);
        var encoded = new float[xs.Length];
        encoder.Layer.Forward(1, xs, encoded);
        var memory = Parameters.Sum(xs, encoded);
        for (int step = 0; step < L; step++)
        {
            // The causal mask keeps each position from seeing later ones, so the not yet decoded tail does not matter.
            var xt = Parameters.Embed(targetEmbedding, Shifted(tokens), positions, L, ModelDim);
            var attended = new float[xt.Length];
            decoderSelf.Layer.Forward(1, xt, attended, causal);
            var y = Parameters.Sum(xt, attended);
            var crossed = new float[y.Length];
            decoderCross.Layer.Forward(1, y, memory, memory, crossed, weights: weights);
            var logits = Logits(Parameters.Sum(y, crossed), L);
            var row = logits.AsSpan(step * ToyCorpus.TargetVocabulary.Length, ToyCorpus.TargetVocabulary.Length).ToArray();
            tokens[step] = Array.IndexOf(row, row.Max());
        }

        return (tokens, weights);
    }

    public void Dispose()
    {
        encoder.Dispose();
        decoderSelf.Dispose();
        decoderCross.Dispose();
    }

    /// <summary>The decoder's input: the start token, then the targets but the last of each sentence.</summary>
    private static int[] Shifted(int[] targets)
    {
        var result = new int[targets.Length];
        for (int t = 0; t < targets.Length; t++)
        {
            result[t] = t % L == 0 ? 0 : targets[t - 1];
        }

        return result;
    }

    private float[] Logits(float[] h, int rows)
    {
        int targetCount = ToyCorpus.TargetVocabulary.Length;
        var logits = new float[rows * targetCount];
        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c < targetCount; c++)
            {
                float z = vocabularyBias[c];
                for (int i = 0; i < ModelDim; i++)
                {
                    z += h[(r * ModelDim) + i] * vocabularyWeight[(c * ModelDim) + i];
                }

                logits[(r * targetCount) + c] = z;
            }
        }

        return logits;
    }
}
