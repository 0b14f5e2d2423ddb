namespace Attention.Native.Layers;

/// <summary>
/// PyTorch's default <c>average_attn_weights</c>: the mean of <c>[B, H, Lq, Lk]</c> probabilities over heads. Done on
/// the host (weights are for inspecting small problems, and this keeps one code path for every backend).
/// </summary>
internal static class HeadAverage
{
    public static void Write(AttentionTensor<float> perHead, AttentionTensor<float> averaged, AttentionShape shape)
    {
        long plane = (long)shape.QueryLength * shape.KeyLength;
        var source = new float[shape.ProbabilitiesElementCount];
        perHead.CopyTo(source);
        var result = new float[shape.Batch * plane];
        float inverse = 1f / shape.QueryHeads;
        for (int b = 0; b < shape.Batch; b++)
        {
            for (int h = 0; h < shape.QueryHeads; h++)
            {
                long from = ((long)b * shape.QueryHeads + h) * plane;
                for (long e = 0; e < plane; e++)
                {
                    result[(b * plane) + e] += source[from + e] * inverse;
                }
            }
        }

        averaged.CopyFrom(result);
    }
}
