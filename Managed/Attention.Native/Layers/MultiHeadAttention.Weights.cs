namespace Attention.Native.Layers;

/// <summary>Loading and reading back the weights in PyTorch's and Keras' layouts.</summary>
public sealed partial class MultiHeadAttention<T>
{
    /// <summary>
    /// Loads PyTorch <c>nn.MultiheadAttention</c> weights with the packed in-projection (when <c>kdim = vdim = E</c>).
    /// </summary>
    /// <param name="inProjWeight"><c>in_proj_weight</c>, <c>[H·Dk + Hkv·Dk + Hkv·Dv, E]</c> (<c>[3E, E]</c> for MHA): rows of
    /// Wq, then Wk, then Wv.</param>
    /// <param name="inProjBias"><c>in_proj_bias</c>, <c>[H·Dk + Hkv·Dk + Hkv·Dv]</c>; empty when the layer has no biases.</param>
    /// <param name="outProjWeight"><c>out_proj.weight</c>, <c>[E, H·Dv]</c>.</param>
    /// <param name="outProjBias"><c>out_proj.bias</c>, <c>[E]</c>; empty when the layer has no biases.</param>
    /// <exception cref="ArgumentException">A span has the wrong length (the message names it and the expected shape),
    /// or <c>kdim</c>/<c>vdim</c> differ from E (use the separate-weights overload). Nothing is loaded then.</exception>
    /// <exception cref="ObjectDisposedException">The layer was disposed.</exception>
    /// <exception cref="InvalidOperationException">Another call is running on this layer (it serves one call at a time).</exception>
    public void LoadPyTorchWeights(
        ReadOnlySpan<float> inProjWeight, ReadOnlySpan<float> inProjBias, ReadOnlySpan<float> outProjWeight, ReadOnlySpan<float> outProjBias)
    {
        ThrowIfDisposed();
        using var call = guard.Enter();
        if (!dims.CanPack)
        {
            throw new ArgumentException(
                $"inProjWeight is packed only when kdim = vdim = E; this layer has kdim {dims.KeyInputDim}, vdim {dims.ValueInputDim}, E {dims.ModelDim}: use the overload with q/k/v_proj_weight.",
                nameof(inProjWeight));
        }

        RequireLength(inProjWeight, dims.InProjectionLength, nameof(inProjWeight), $"[{dims.PackedRows}, {dims.ModelDim}]");
        ValidateBiases(inProjBias, outProjBias, outProjWeight);
        Store(inWeight, inProjWeight);
        StoreBiasesAndOutput(inProjBias, outProjWeight, outProjBias);
    }

    /// <summary>
    /// Loads PyTorch <c>nn.MultiheadAttention</c> weights with separate projections (<c>q_proj_weight</c>,
    /// <c>k_proj_weight</c>, <c>v_proj_weight</c>: what PyTorch keeps when <c>kdim</c> or <c>vdim</c> differ from E).
    /// </summary>
    /// <param name="qProjWeight"><c>q_proj_weight</c>, <c>[H·Dk, E]</c>.</param>
    /// <param name="kProjWeight"><c>k_proj_weight</c>, <c>[Hkv·Dk, kdim]</c>.</param>
    /// <param name="vProjWeight"><c>v_proj_weight</c>, <c>[Hkv·Dv, vdim]</c>.</param>
    /// <param name="inProjBias"><c>in_proj_bias</c>, <c>[H·Dk + Hkv·Dk + Hkv·Dv]</c>; empty when the layer has no biases.</param>
    /// <param name="outProjWeight"><c>out_proj.weight</c>, <c>[E, H·Dv]</c>.</param>
    /// <param name="outProjBias"><c>out_proj.bias</c>, <c>[E]</c>; empty when the layer has no biases.</param>
    /// <exception cref="ArgumentException">A span has the wrong length (the message names it and the expected shape).
    /// Nothing is loaded then.</exception>
    /// <exception cref="ObjectDisposedException">The layer was disposed.</exception>
    /// <exception cref="InvalidOperationException">Another call is running on this layer (it serves one call at a time).</exception>
    public void LoadPyTorchWeights(
        ReadOnlySpan<float> qProjWeight, ReadOnlySpan<float> kProjWeight, ReadOnlySpan<float> vProjWeight,
        ReadOnlySpan<float> inProjBias, ReadOnlySpan<float> outProjWeight, ReadOnlySpan<float> outProjBias)
    {
        ThrowIfDisposed();
        using var call = guard.Enter();
        RequireLength(qProjWeight, dims.KeyWeightOffset, nameof(qProjWeight), $"[{dims.QueryRows}, {dims.ModelDim}]");
        RequireLength(kProjWeight, (long)dims.KeyRows * dims.KeyInputDim, nameof(kProjWeight), $"[{dims.KeyRows}, {dims.KeyInputDim}]");
        RequireLength(vProjWeight, (long)dims.ValueRows * dims.ValueInputDim, nameof(vProjWeight), $"[{dims.ValueRows}, {dims.ValueInputDim}]");
        ValidateBiases(inProjBias, outProjBias, outProjWeight);
        Store(inWeight, [.. qProjWeight, .. kProjWeight, .. vProjWeight]);
        StoreBiasesAndOutput(inProjBias, outProjWeight, outProjBias);
    }

    /// <summary>
    /// Loads Keras <c>MultiHeadAttention</c> weights: the query/key/value <c>EinsumDense</c> kernels and biases and the
    /// output kernel and bias (<c>layer.get_weights()</c> order).
    /// </summary>
    /// <param name="queryKernel"><c>[E, H, Dk]</c>.</param>
    /// <param name="queryBias"><c>[H, Dk]</c>; empty without biases.</param>
    /// <param name="keyKernel"><c>[kdim, Hkv, Dk]</c>.</param>
    /// <param name="keyBias"><c>[Hkv, Dk]</c>; empty without biases.</param>
    /// <param name="valueKernel"><c>[vdim, Hkv, Dv]</c>.</param>
    /// <param name="valueBias"><c>[Hkv, Dv]</c>; empty without biases.</param>
    /// <param name="outputKernel"><c>[H, Dv, E]</c>.</param>
    /// <param name="outputBias"><c>[E]</c>; empty without biases.</param>
    /// <exception cref="ArgumentException">A span has the wrong length (the message names it and the expected shape).
    /// Nothing is loaded then.</exception>
    /// <exception cref="ObjectDisposedException">The layer was disposed.</exception>
    /// <exception cref="InvalidOperationException">Another call is running on this layer (it serves one call at a time).</exception>
    public void LoadKerasWeights(
        ReadOnlySpan<float> queryKernel, ReadOnlySpan<float> queryBias, ReadOnlySpan<float> keyKernel, ReadOnlySpan<float> keyBias,
        ReadOnlySpan<float> valueKernel, ReadOnlySpan<float> valueBias, ReadOnlySpan<float> outputKernel, ReadOnlySpan<float> outputBias)
    {
        ThrowIfDisposed();
        using var call = guard.Enter();
        var d = dims;
        RequireLength(queryKernel, d.KeyWeightOffset, nameof(queryKernel), $"[{d.ModelDim}, {d.Heads}, {d.KeyDim}]");
        RequireLength(keyKernel, (long)d.KeyRows * d.KeyInputDim, nameof(keyKernel), $"[{d.KeyInputDim}, {d.KeyValueHeads}, {d.KeyDim}]");
        RequireLength(valueKernel, (long)d.ValueRows * d.ValueInputDim, nameof(valueKernel), $"[{d.ValueInputDim}, {d.KeyValueHeads}, {d.ValueDim}]");
        RequireLength(outputKernel, d.OutProjectionLength, nameof(outputKernel), $"[{d.Heads}, {d.ValueDim}, {d.ModelDim}]");
        RequireBias(queryBias, d.QueryRows, nameof(queryBias));
        RequireBias(keyBias, d.KeyRows, nameof(keyBias));
        RequireBias(valueBias, d.ValueRows, nameof(valueBias));
        RequireBias(outputBias, d.ModelDim, nameof(outputBias));

        // Keras kernels are [in, out] (x·W); this layer keeps PyTorch's [out, in] (x·Wᵀ): transpose each.
        Store(inWeight, [.. Transposed(queryKernel, d.ModelDim, d.QueryRows), .. Transposed(keyKernel, d.KeyInputDim, d.KeyRows),
            .. Transposed(valueKernel, d.ValueInputDim, d.ValueRows)]);
        Store(outWeight, Transposed(outputKernel, d.ContextWidth, d.ModelDim));
        if (d.UseBias)
        {
            Store(inBias!, [.. queryBias, .. keyBias, .. valueBias]);
            Store(outBias!, outputBias);
        }
    }

    /// <summary>Reads the weights back in PyTorch's layout (as floats; exactly the layer's <typeparamref name="T"/> values).</summary>
    /// <returns>The weights (biases empty when the layer has none).</returns>
    /// <exception cref="ObjectDisposedException">The layer was disposed.</exception>
    /// <exception cref="InvalidOperationException">Another call is running on this layer (it serves one call at a time).</exception>
    public PyTorchAttentionWeights ReadPyTorchWeights()
    {
        ThrowIfDisposed();
        using var call = guard.Enter();
        var packed = Read(inWeight);
        return new PyTorchAttentionWeights(
            packed[..(int)dims.KeyWeightOffset],
            packed[(int)dims.KeyWeightOffset..(int)dims.ValueWeightOffset],
            packed[(int)dims.ValueWeightOffset..],
            inBias is null ? [] : Read(inBias),
            Read(outWeight),
            outBias is null ? [] : Read(outBias));
    }

    /// <summary>Reads the weights back in Keras' layout.</summary>
    /// <returns>The weights (biases empty when the layer has none).</returns>
    /// <exception cref="ObjectDisposedException">The layer was disposed.</exception>
    /// <exception cref="InvalidOperationException">Another call is running on this layer (it serves one call at a time).</exception>
    public KerasAttentionWeights ReadKerasWeights() => KerasLayout(ReadPyTorchWeights());

    /// <summary>Weights (or their gradients) in PyTorch's layout rearranged into Keras'.</summary>
    private KerasAttentionWeights KerasLayout(PyTorchAttentionWeights t)
    {
        var d = dims;
        var bias = t.InProjBias;
        return new KerasAttentionWeights(
            Transposed(t.QProjWeight, d.QueryRows, d.ModelDim),
            bias.Length == 0 ? [] : bias[..d.QueryRows],
            Transposed(t.KProjWeight, d.KeyRows, d.KeyInputDim),
            bias.Length == 0 ? [] : bias[d.QueryRows..(d.QueryRows + d.KeyRows)],
            Transposed(t.VProjWeight, d.ValueRows, d.ValueInputDim),
            bias.Length == 0 ? [] : bias[(d.QueryRows + d.KeyRows)..],
            Transposed(t.OutProjWeight, d.ModelDim, d.ContextWidth),
            t.OutProjBias);
    }

    /// <summary>The <paramref name="rows"/> × <paramref name="columns"/> row-major matrix transposed.</summary>
    private static float[] Transposed(ReadOnlySpan<float> matrix, int rows, int columns)
    {
        var result = new float[matrix.Length];
        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c < columns; c++)
            {
                result[((long)c * rows) + r] = matrix[(r * columns) + c];
            }
        }

        return result;
    }

    private void ValidateBiases(ReadOnlySpan<float> inProjBias, ReadOnlySpan<float> outProjBias, ReadOnlySpan<float> outProjWeight)
    {
        RequireBias(inProjBias, dims.PackedRows, nameof(inProjBias));
        RequireLength(outProjWeight, dims.OutProjectionLength, nameof(outProjWeight), $"[{dims.ModelDim}, {dims.ContextWidth}]");
        RequireBias(outProjBias, dims.ModelDim, nameof(outProjBias));
    }

    private void StoreBiasesAndOutput(ReadOnlySpan<float> inProjBias, ReadOnlySpan<float> outProjWeight, ReadOnlySpan<float> outProjBias)
    {
        Store(outWeight, outProjWeight);
        if (dims.UseBias)
        {
            Store(inBias!, inProjBias);
            Store(outBias!, outProjBias);
        }
    }

    /// <summary>Copies float weights into a tensor of the layer's element type, rounding them for Half and BFloat16.</summary>
    private void Store(AttentionTensor<T> tensor, ReadOnlySpan<float> values)
    {
        foreach (var projection in Projections)
        {
            if (ReferenceEquals(projection.Tensor, tensor))
            {
                projection.Changed();
            }
        }

        if (typeof(T) == typeof(float))
        {
            tensor.CopyFrom(System.Runtime.InteropServices.MemoryMarshal.Cast<float, T>(values));
            return;
        }

        var narrow = new T[values.Length];
        ElementType.Narrow<T>(engine.HostVariant, values, narrow);
        tensor.CopyFrom(narrow);
    }

    /// <summary>A weight tensor widened to floats (exact).</summary>
    private float[] Read(AttentionTensor<T> tensor)
    {
        var elements = tensor.ToArray();
        var result = new float[elements.Length];
        ElementType.Widen<T>(engine.HostVariant, elements, result);
        return result;
    }

    private void RequireBias(ReadOnlySpan<float> bias, int length, string name)
    {
        if (dims.UseBias)
        {
            RequireLength(bias, length, name, $"[{length}]");
        }
        else if (!bias.IsEmpty)
        {
            throw new ArgumentException($"{name} must be empty: the layer was created with UseBias = false.", name);
        }
    }

    private static void RequireLength(ReadOnlySpan<float> span, long expected, string name, string shape)
    {
        if (span.Length != expected)
        {
            throw new ArgumentException($"{name} has {span.Length} elements; expected {shape} = {expected}.", name);
        }
    }
}
