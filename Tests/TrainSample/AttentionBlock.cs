using Attention.Native;
using Attention.Native.Layers;

namespace TrainSample;

/// <summary>
/// One <see cref="MultiHeadAttention{T}"/> layer and the master copy of its weights (PyTorch layout) that the
/// optimizer updates; the layer is loaded from the copy before each forward.
/// </summary>
internal sealed class AttentionBlock : IDisposable
{
    public AttentionBlock(AttentionBackend backend, int modelDim, int heads, Random random)
    {
        Layer = new MultiHeadAttention<float>(backend, new MultiHeadAttentionOptions(modelDim, heads));
        float scale = 1 / MathF.Sqrt(modelDim);
        Weights = new PyTorchAttentionWeights(
            Parameters.Gaussian(random, modelDim * modelDim, scale), Parameters.Gaussian(random, modelDim * modelDim, scale),
            Parameters.Gaussian(random, modelDim * modelDim, scale), new float[3 * modelDim],
            Parameters.Gaussian(random, modelDim * modelDim, scale), new float[modelDim]);
    }

    public MultiHeadAttention<float> Layer { get; }

    public PyTorchAttentionWeights Weights { get; }

    /// <summary>The weights in the order of <see cref="Gradients"/>.</summary>
    public IEnumerable<float[]> Trainable => [Weights.QProjWeight, Weights.KProjWeight, Weights.VProjWeight, Weights.InProjBias, Weights.OutProjWeight, Weights.OutProjBias];

    /// <summary>A backward's weight gradients in the order of <see cref="Trainable"/>.</summary>
    public static IEnumerable<float[]> Gradients(MultiHeadAttentionGradients g) =>
        [g.PyTorch.QProjWeight, g.PyTorch.KProjWeight, g.PyTorch.VProjWeight, g.PyTorch.InProjBias, g.PyTorch.OutProjWeight, g.PyTorch.OutProjBias];

    /// <summary>Loads the master copy into the layer (after an update).</summary>
    public void Load() =>
        Layer.LoadPyTorchWeights(Weights.QProjWeight, Weights.KProjWeight, Weights.VProjWeight, Weights.InProjBias, Weights.OutProjWeight, Weights.OutProjBias);

    public void Dispose() => Layer.Dispose();
}
