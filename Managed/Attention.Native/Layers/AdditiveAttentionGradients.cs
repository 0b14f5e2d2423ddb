namespace Attention.Native.Layers;

/// <summary>The gradients of an <see cref="AdditiveAttention"/> call's loss with respect to its inputs and weights.</summary>
/// <param name="QueryGrad"><c>[B, Tq, QueryDim]</c>.</param>
/// <param name="KeyGrad"><c>[B, Tk, KeyDim]</c>.</param>
/// <param name="ValueGrad"><c>[B, Tk, ValueDim]</c>.</param>
/// <param name="QueryWeightGrad">Of W₁, <c>[Units, QueryDim]</c> (the layout of <see cref="AdditiveAttention.LoadWeights"/>).</param>
/// <param name="KeyWeightGrad">Of W₂, <c>[Units, KeyDim]</c>.</param>
/// <param name="ScoreVectorGrad">Of v, <c>[Units]</c>.</param>
public sealed record AdditiveAttentionGradients(
    float[] QueryGrad, float[] KeyGrad, float[] ValueGrad, float[] QueryWeightGrad, float[] KeyWeightGrad, float[] ScoreVectorGrad);
