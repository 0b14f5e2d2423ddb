namespace Attention.Native.Layers;

/// <summary>
/// The resolved sizes of a multi-head attention layer and where each weight lives in the packed in-projection
/// (rows <c>[Wq; Wk; Wv]</c>, PyTorch's <c>in_proj_weight</c> order).
/// </summary>
internal sealed record LayerDims(
    int ModelDim, int Heads, int KeyValueHeads, int KeyDim, int ValueDim, int KeyInputDim, int ValueInputDim, bool UseBias, float Scale)
{
    public int QueryRows => Heads * KeyDim;

    public int KeyRows => KeyValueHeads * KeyDim;

    public int ValueRows => KeyValueHeads * ValueDim;

    /// <summary>Columns of the packed self-attention projection <c>[Q | K | V]</c>.</summary>
    public int PackedRows => QueryRows + KeyRows + ValueRows;

    public int ContextWidth => Heads * ValueDim;

    public long QueryWeightOffset => 0;

    public long KeyWeightOffset => (long)QueryRows * ModelDim;

    public long ValueWeightOffset => KeyWeightOffset + ((long)KeyRows * KeyInputDim);

    public long InProjectionLength => ValueWeightOffset + ((long)ValueRows * ValueInputDim);

    public long OutProjectionLength => (long)ModelDim * ContextWidth;

    /// <summary>Whether self-attention can project Q, K and V in one GEMM (all three read the model dimension).</summary>
    public bool CanPack => KeyInputDim == ModelDim && ValueInputDim == ModelDim;

    public static LayerDims From(MultiHeadAttentionOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        Positive(options.ModelDim, "options.ModelDim");
        Positive(options.NumHeads, "options.NumHeads");
        int kvHeads = options.NumKeyValueHeads ?? options.NumHeads;
        Positive(kvHeads, "options.NumKeyValueHeads");
        if (options.NumHeads % kvHeads != 0)
        {
            throw new ArgumentException(
                $"options.NumHeads ({options.NumHeads}) must be a multiple of options.NumKeyValueHeads ({kvHeads}).", nameof(options));
        }

        if (options.KeyDim is null && options.ModelDim % options.NumHeads != 0)
        {
            throw new ArgumentException(
                $"options.ModelDim ({options.ModelDim}) must be divisible by options.NumHeads ({options.NumHeads}) unless options.KeyDim is given.",
                nameof(options));
        }

        int keyDim = options.KeyDim ?? (options.ModelDim / options.NumHeads);
        Positive(keyDim, "options.KeyDim");
        int valueDim = options.ValueDim ?? keyDim;
        Positive(valueDim, "options.ValueDim");
        int keyInput = options.KeyInputDim ?? options.ModelDim;
        Positive(keyInput, "options.KeyInputDim");
        int valueInput = options.ValueInputDim ?? options.ModelDim;
        Positive(valueInput, "options.ValueInputDim");
        float scale = options.Scale ?? (1f / MathF.Sqrt(keyDim));
        if (!float.IsFinite(scale))
        {
            throw new ArgumentException("options.Scale must be finite.", nameof(options));
        }

        return new(options.ModelDim, options.NumHeads, kvHeads, keyDim, valueDim, keyInput, valueInput, options.UseBias, scale);
    }

    private static void Positive(int value, string name)
    {
        if (value < 1)
        {
            throw new ArgumentOutOfRangeException("options", value, $"{name} must be at least 1.");
        }
    }
}
