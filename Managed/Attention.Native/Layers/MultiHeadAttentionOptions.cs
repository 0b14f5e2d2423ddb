namespace Attention.Native.Layers;

/// <summary>
/// The sizes and switches of a <see cref="MultiHeadAttention{T}"/> layer, named after PyTorch's
/// <c>nn.MultiheadAttention(embed_dim, num_heads, bias, kdim, vdim)</c> and Keras' <c>MultiHeadAttention(num_heads,
/// key_dim, value_dim, use_bias)</c>.
/// </summary>
/// <param name="ModelDim">The model (embedding) dimension E: the query's feature size and the output's.</param>
/// <param name="NumHeads">Number of query heads H.</param>
public sealed record MultiHeadAttentionOptions(int ModelDim, int NumHeads)
{
    /// <summary>Number of key/value heads (GQA when fewer than <see cref="NumHeads"/>, MQA when 1); null = <see cref="NumHeads"/>.</summary>
    public int? NumKeyValueHeads { get; init; }

    /// <summary>Per-head size of queries and keys (Keras <c>key_dim</c>); null = <c>ModelDim / NumHeads</c> (PyTorch).</summary>
    public int? KeyDim { get; init; }

    /// <summary>Per-head size of values (Keras <c>value_dim</c>); null = the key dimension.</summary>
    public int? ValueDim { get; init; }

    /// <summary>Feature size of the key input (PyTorch <c>kdim</c>); null = <see cref="ModelDim"/>.</summary>
    public int? KeyInputDim { get; init; }

    /// <summary>Feature size of the value input (PyTorch <c>vdim</c>); null = <see cref="ModelDim"/>.</summary>
    public int? ValueInputDim { get; init; }

    /// <summary>Whether the four projections have biases (PyTorch <c>bias</c>, Keras <c>use_bias</c>); true by default.</summary>
    public bool UseBias { get; init; } = true;

    /// <summary>Score scale; null = <c>1/√KeyDim</c> (PyTorch and Keras). The seed's Keras example uses 1.</summary>
    public float? Scale { get; init; }

    /// <summary>
    /// Lets the GPU projections of a float layer use TF32 tensor cores (cuBLAS <c>CUBLAS_TF32_TENSOR_OP_MATH</c>): faster,
    /// about 1e-3 relative error instead of fp32's 1e-6. Ignored on the CPU and by Half/BFloat16 layers (their GEMMs run
    /// on the tensor cores with fp32 accumulation anyway). False by default.
    /// </summary>
    public bool AllowTensorFloat32 { get; init; }
}
