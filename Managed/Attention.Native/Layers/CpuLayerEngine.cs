using Attention.Native.Cpu.Decode;
using Attention.Native.Cpu.Gemm;
using Attention.Native.Cpu;
using Attention.Native.Cuda.SplitKv;
using Attention.Native.Validation;

namespace Attention.Native.Layers;

/// <summary>
/// The layers' operations on the CPU: <see cref="CpuSgemm"/> projections on the tensors' memory in place; Half and
/// BFloat16 operands are widened as the SGEMM packs them and the float result is rounded once (as a GPU GEMM with fp32
/// accumulation does; <see cref="ProjectionEpilogue"/>), with the attention itself on the backend's Half/BFloat16 path.
/// Up to four rows (decoding steps) go to <see cref="RowProjection"/>, which reads W once instead of packing it; a
/// layer's own weights (<see cref="ProjectionWeight{T}"/>) are packed once and kept packed for the SGEMM. Every
/// operation runs in the backend's variant (<see cref="CpuBackend.Variant"/>).
/// </summary>
internal sealed unsafe class CpuLayerEngine<T>(CpuBackend backend) : LayerEngine<T>, IByteCacheEngine<T>
    where T : unmanaged
{
    // Float results of Half/BFloat16 projections before their rounding, kept between calls (grown on demand).
    private float[] wideY = [];
    private float[] wideBias = [];

    // An 8-bit cache's rows in float: Half/BFloat16 projections widened before quantisation, dequantised rows before
    // their rounding to T.
    private float[] wideRows = [];

    /// <summary>The backend's variant: the layer's conversions of weights run in it too.</summary>
    public override CpuKernelVariant HostVariant => backend.Variant;

    public override void Linear(
        LayerOperand<T> x, int ldx, int rows, int inFeatures, LayerOperand<T> weight, LayerOperand<T>? bias, int outFeatures,
        LayerOperand<T> y, int ldy)
    {
        if (rows <= RowProjection.MaxRows)
        {
            // A decoding step: read W once, row by row, instead of packing it for the SGEMM.
            RowProjection.Run(
                backend.Variant, Pointer(x), ldx, rows, inFeatures, Pointer(weight), bias is { } rowBias ? Pointer(rowBias) : null,
                outFeatures, Pointer(y), ldy, backend.ThreadCount);
            return;
        }

        Project(x, ldx, rows, inFeatures, weight, null, bias, outFeatures, y, ldy);
    }

    public override void Linear(
        LayerOperand<T> x, int ldx, int rows, ProjectionWeight<T> weight, LayerOperand<T>? bias, LayerOperand<T> y, int ldy)
    {
        if (rows <= RowProjection.MaxRows)
        {
            base.Linear(x, ldx, rows, weight, bias, y, ldy);
            return;
        }

        // The weight is packed at its first product (and again after the layer writes it), not at every one.
        if (weight.Packed is not { } packed || packed.Variant != backend.Variant)
        {
            weight.Changed();
            packed = weight.Packed = SgemmPackedB.Pack<T>(
                backend.Variant, transposeB: true, weight.InFeatures, weight.OutFeatures, Span(weight.Operand), weight.InFeatures,
                backend.ThreadCount);
        }

        Project(x, ldx, rows, weight.InFeatures, weight.Operand, packed, bias, weight.OutFeatures, y, ldy);
    }

    public override void LinearBatched(
        LayerOperand<T> x, int ldx, long batchStrideX, int rows, int batches, int inFeatures, LayerOperand<T> weight,
        LayerOperand<T>? bias, int outFeatures, LayerOperand<T> y, int ldy, long batchStrideY)
    {
        if (rows == 1 && batchStrideX <= int.MaxValue && batchStrideY <= int.MaxValue)
        {
            // One new token per sequence: the sequences' rows form one matrix whose row strides are the batch strides,
            // so W is read (and packed or widened) once for all of them instead of once per sequence.
            Linear(x, (int)batchStrideX, batches, inFeatures, weight, bias, outFeatures, y, (int)batchStrideY);
            return;
        }

        base.LinearBatched(x, ldx, batchStrideX, rows, batches, inFeatures, weight, bias, outFeatures, y, ldy, batchStrideY);
    }

    /// <summary>The SGEMM (on W packed ahead when <paramref name="packed"/> is given) and its epilogue.</summary>
    private void Project(
        LayerOperand<T> x, int ldx, int rows, int inFeatures, LayerOperand<T> weight, SgemmPackedB? packed, LayerOperand<T>? bias,
        int outFeatures, LayerOperand<T> y, int ldy)
    {
        // Float layers multiply into Y in place; Half/BFloat16 ones into a float buffer that is then rounded into Y. Their
        // X (and W, unless packed ahead) is widened block by block as the SGEMM packs it.
        bool inPlace = typeof(T) == typeof(float);
        int ldc = inPlace ? ldy : outFeatures;
        var c = inPlace ? Floats(y) : Grown(ref wideY, (long)rows * outFeatures);
        if (packed is null)
        {
            CpuSgemm.Multiply<T>(
                backend.Variant, transposeA: false, transposeB: true, rows, outFeatures, inFeatures, 1f, Span(x), ldx,
                Span(weight), inFeatures, 0f, c, ldc, backend.ThreadCount);
        }
        else
        {
            CpuSgemm.Multiply<T>(transposeA: false, rows, 1f, Span(x), ldx, packed, 0f, c, ldc, backend.ThreadCount);
        }

        if (!inPlace || bias is not null)
        {
            var biasScratch = inPlace ? default : Grown(ref wideBias, outFeatures);
            fixed (float* pc = c)
            fixed (float* pw = biasScratch)
            {
                ProjectionEpilogue.Run(
                    backend.Variant, pc, ldc, rows, outFeatures, bias is { } b ? Pointer(b) : null, pw, Pointer(y), ldy);
            }
        }
    }

    public override void Attention(
        AttentionShape shape, AttentionOptions options, LayerOperand<T> query, LayerOperand<T> key, LayerOperand<T> value,
        LayerOperand<T> output, LayerOperand<float>? probabilities) =>
        backend.ScaledDotProductAttention<T>(
            shape, Span(query), Span(key), Span(value), Span(output), options,
            probabilities: probabilities is { } p ? Span(p)[..checked((int)shape.ProbabilitiesElementCount)] : default);

    public override void CheckAttention(AttentionShape shape, AttentionOptions options, bool wantsProbabilities) =>
        CpuBackend.ThrowIfBeyondLimits(Validate(shape, options, wantsProbabilities));

    public override void Additive(
        in AdditiveAttentionProblem problem, LayerOperand<float> queries, LayerOperand<float> keys,
        LayerOperand<float> scoreVector, LayerOperand<float> values, LayerOperand<float> output, LayerOperand<float>? probabilities) =>
        CpuKernels.RunAdditive(
            backend.Variant, problem, Pointer(queries), Pointer(keys), Pointer(scoreVector), Pointer(values), Pointer(output),
            probabilities is { } p ? Pointer(p) : null, backend.ThreadCount);

    public void AppendBytes(LayerOperand<T> keys, LayerOperand<T> values, int tokens, ByteCacheRows cache, int start)
    {
        var positions = new long[checked(cache.Batch * tokens)];
        for (int b = 0; b < cache.Batch; b++)
        {
            for (int t = 0; t < tokens; t++)
            {
                positions[(b * tokens) + t] = ((long)b * cache.Capacity) + start + t;
            }
        }

        Quantize(keys, cache.KeyRow, values, cache.ValueRow, positions, cache);
    }

    public AttentionProblem? TakesBytes(AttentionShape shape, AttentionOptions options, bool wantsProbabilities) =>
        Validate(shape, options, wantsProbabilities) is var problem && ByteCacheAttention.Takes(problem) ? problem : null;

    public void AttentionBytes(AttentionProblem problem, LayerOperand<T> query, ByteCacheRows cache, LayerOperand<T> output) =>
        ByteCacheAttention.RunValidated(backend, problem, Span(query), Spans(cache) with { ScaleStrides = cache.ScaleStrides }, Span(output), default);

    public ByteCacheRows CreateByteRows(KeyValue8BitFormat format, int batch, int capacity, int heads, int keyDim, int valueDim) =>
        new(format, batch, capacity, heads, keyDim, valueDim, device: null);

    public void DequantizeBytes(ByteCacheRows cache, int length, LayerOperand<T> keys, LayerOperand<T> values)
    {
        var firsts = new long[cache.Batch];
        for (int b = 0; b < cache.Batch; b++)
        {
            firsts[b] = (long)b * cache.Capacity;
        }

        Dequantize(cache, firsts, length, keys, values);
    }

    // A head's positions of a page are one contiguous run that the decode kernel streams as it does a BHSD cache:
    // GQA 32/8 decode, Lk 4096, D 128, float, pages of 16, one Zen 3 thread: 0.75x the contiguous rate head-major,
    // 0.58x with a position's heads side by side (compare --paged 16, both layouts).
    public override bool HeadMajorPages => true;

    public override void PagedAttention(
        AttentionShape shape, AttentionOptions options, LayerOperand<T> query, AttentionTensor<T> keyPages,
        AttentionTensor<T> valuePages, PagedKeyValueLayout pages, LayerOperand<T> output) =>
        backend.PagedScaledDotProductAttention<T>(
            shape, Span(query), Span<T>(keyPages), Span<T>(valuePages), pages, Span(output), options);

    public void AppendByteRows(LayerOperand<T> keys, LayerOperand<T> values, int rowStride, ReadOnlySpan<long> positions, ByteCacheRows pool) =>
        Quantize(keys, rowStride, values, rowStride, positions, pool);

    public bool TryPagedAttentionBytes(
        AttentionShape shape, AttentionOptions options, LayerOperand<T> query, ByteCacheRows pool, PagedKeyValueLayout pages,
        LayerOperand<T> output)
    {
        var kv = Spans(pool);
        var problem = PagedAttentionValidator.Validate(shape, options, pages, new(
            Span(query).Length, kv.Key.Length, kv.Value.Length, Span(output).Length, -1));
        if (!ByteCacheAttention.Takes(problem))
        {
            return false;
        }

        ByteCacheAttention.RunPaged(backend, shape, Span(query), kv, pages, Span(output), options);
        return true;
    }

    public void DequantizeBytePages(ByteCacheRows pool, ReadOnlySpan<int> pages, LayerOperand<T> keys, LayerOperand<T> values)
    {
        var firsts = new long[pages.Length];
        for (int i = 0; i < pages.Length; i++)
        {
            firsts[i] = (long)pages[i] * pool.Capacity;
        }

        Dequantize(pool, firsts, pool.Capacity, keys, values);
    }

    public override void Copy(LayerOperand<T> source, LayerOperand<T> destination, long count) =>
        Span(source)[..checked((int)count)].CopyTo(Span(destination));

    /// <summary>The 8-bit rows' memory as spans (their scale strides are the caller's to set).</summary>
    private static ByteKeyValueSpans Spans(ByteCacheRows cache)
    {
        long positions = (long)cache.Batch * cache.Capacity;
        return new ByteKeyValueSpans
        {
            Format = cache.Format,
            Key = new ReadOnlySpan<sbyte>(cache.Keys, checked((int)(positions * cache.KeyRow))),
            Value = new ReadOnlySpan<sbyte>(cache.Values, checked((int)(positions * cache.ValueRow))),
            KeyScales = new ReadOnlySpan<float>(cache.KeyScales, checked((int)cache.ScaleCount)),
            ValueScales = new ReadOnlySpan<float>(cache.ValueScales, checked((int)cache.ScaleCount)),
        };
    }

    /// <summary>
    /// Row i of <paramref name="keys"/> and <paramref name="values"/> (Hkv·D and Hkv·Dv elements of T, rows their
    /// strides apart) into 8-bit row <c>positions[i]</c> of <paramref name="cache"/>: int8 with a scale per (position,
    /// head); e4m3 with the cache's per-head scales, taken from these rows first where the cache has none.
    /// </summary>
    private void Quantize(
        LayerOperand<T> keys, int keyStride, LayerOperand<T> values, int valueStride, ReadOnlySpan<long> positions, ByteCacheRows cache)
    {
        if (cache.Format == KeyValue8BitFormat.Float8E4M3 && !cache.HasScales)
        {
            cache.SetScales(
                FirstScales(keys, keyStride, positions.Length, cache.Heads, cache.KeyDim),
                FirstScales(values, valueStride, positions.Length, cache.Heads, cache.ValueDim));
        }

        Quantize(keys, keyStride, positions, cache.Format, cache.Heads, cache.KeyDim, cache.Keys, cache.KeyScales);
        Quantize(values, valueStride, positions, cache.Format, cache.Heads, cache.ValueDim, cache.Values, cache.ValueScales);
    }

    /// <summary>Each head's <see cref="Float8E4M3Quantizer.ScaleOf"/> over <paramref name="count"/> rows.</summary>
    private float[] FirstScales(LayerOperand<T> rows, int rowStride, int count, int heads, int dim)
    {
        var max = new float[heads];
        fixed (float* buffer = Grown(ref wideRows, heads * dim))
        {
            for (int i = 0; i < count; i++)
            {
                Float8E4M3Quantizer.FoldHeadMaxima(Widened(Pointer(rows) + ((long)i * rowStride), heads * dim, buffer), heads, dim, max);
            }
        }

        return Array.ConvertAll(max, Float8E4M3Quantizer.ScaleOf);
    }

    /// <summary>
    /// Row i of <paramref name="rows"/> (Hkv·dim elements of T, rows <paramref name="rowStride"/> apart) into 8-bit row
    /// <c>positions[i]</c> of <paramref name="target"/>: int8 a scale per (position, head) into <paramref name="scales"/>,
    /// e4m3 by the per-head <paramref name="scales"/>.
    /// </summary>
    private void Quantize(
        LayerOperand<T> rows, int rowStride, ReadOnlySpan<long> positions, KeyValue8BitFormat format, int heads, int dim, sbyte* target,
        float* scales)
    {
        int row = heads * dim;
        T* first = Pointer(rows);
        fixed (float* buffer = Grown(ref wideRows, row))
        {
            for (int i = 0; i < positions.Length; i++)
            {
                float* wide = Widened(first + ((long)i * rowStride), row, buffer);
                long position = positions[i];
                for (int h = 0; h < heads; h++)
                {
                    sbyte* stored = target + (position * row) + (h * dim);
                    if (format == KeyValue8BitFormat.Float8E4M3)
                    {
                        Float8E4M3Quantizer.QuantizeRow(wide + (h * dim), (byte*)stored, dim, scales[h]);
                    }
                    else
                    {
                        scales[(position * heads) + h] = Int8Quantizer.QuantizeRow(wide + (h * dim), stored, dim);
                    }
                }
            }
        }
    }

    /// <summary>A row of T as floats: in place for float, else widened into <paramref name="buffer"/>.</summary>
    private float* Widened(T* source, int count, float* buffer)
    {
        if (typeof(T) == typeof(float))
        {
            return (float*)source;
        }

        ElementType.Widen(backend.Variant, new ReadOnlySpan<T>(source, count), new Span<float>(buffer, count));
        return buffer;
    }

    /// <summary>
    /// Runs of <paramref name="run"/> positions of the cache, run r from position <c>firsts[r]</c>, dequantised and
    /// rounded to T, into consecutive rows of <paramref name="keys"/> and <paramref name="values"/> (run r's from row r·run).
    /// </summary>
    private void Dequantize(ByteCacheRows cache, ReadOnlySpan<long> firsts, int run, LayerOperand<T> keys, LayerOperand<T> values)
    {
        Dequantize(cache, firsts, run, cache.KeyDim, cache.Keys, cache.KeyScales, Pointer(keys));
        Dequantize(cache, firsts, run, cache.ValueDim, cache.Values, cache.ValueScales, Pointer(values));
    }

    private void Dequantize(ByteCacheRows cache, ReadOnlySpan<long> firsts, int run, int dim, sbyte* source, float* scales, T* target)
    {
        int row = cache.Heads * dim;
        int count = checked(firsts.Length * run * row);
        fixed (float* buffer = Grown(ref wideRows, count))
        {
            for (int r = 0; r < firsts.Length; r++)
            {
                for (int t = 0; t < run; t++)
                {
                    long position = firsts[r] + t;
                    float* wide = buffer + ((((long)r * run) + t) * row);
                    for (int h = 0; h < cache.Heads; h++)
                    {
                        sbyte* stored = source + (position * row) + (h * dim);
                        if (cache.Format == KeyValue8BitFormat.Float8E4M3)
                        {
                            for (int x = 0; x < dim; x++)
                            {
                                wide[(h * dim) + x] = Float8E4M3Quantizer.Decode((byte)stored[x]) * scales[h];
                            }

                            continue;
                        }

                        float scale = scales[(position * cache.Heads) + h];
                        for (int x = 0; x < dim; x++)
                        {
                            wide[(h * dim) + x] = Int8Quantizer.Dequantize(stored[x], scale);
                        }
                    }
                }
            }

            ElementType.Narrow(backend.Variant, new ReadOnlySpan<float>(buffer, count), new Span<T>(target, count));
        }
    }

    private static TElement* Pointer<TElement>(LayerOperand<TElement> operand)
        where TElement : unmanaged => CpuTensor<TElement>.PointerOf(operand.Tensor) + operand.Offset;

    private static Span<TElement> Span<TElement>(LayerOperand<TElement> operand)
        where TElement : unmanaged =>
        ((CpuTensor<TElement>)operand.Tensor).AsSpan()[checked((int)operand.Offset)..];

    private static Span<float> Floats(LayerOperand<T> operand) => System.Runtime.InteropServices.MemoryMarshal.Cast<T, float>(Span(operand));

    private static Span<float> Grown(ref float[] buffer, long length)
    {
        if (buffer.Length < length)
        {
            buffer = new float[checked((int)length)];
        }

        return buffer.AsSpan(0, (int)length);
    }
}
