using Attention.Native.Cpu.Simd;
using Attention.Native.Cuda.SplitKv;
using Attention.Native.Validation;

namespace Attention.Native.Cpu.Decode;

/// <summary>
/// An 8-bit key/value cache's memory as the CPU decode kernel reads it: K <c>[B, Hkv, Lk, D]</c> and V
/// <c>[B, Hkv, Lk, Dv]</c> as bytes of <see cref="Format"/> at the options' <see cref="AttentionOptions.KeyStrides"/> and
/// <see cref="AttentionOptions.ValueStrides"/> (in elements), and float scales for each at <see cref="ScaleStrides"/>:
/// int8 one per (batch, KV head, key) (<see cref="Int8Quantizer"/>), e4m3 one per (batch, KV head) with a zero key
/// stride (<see cref="Float8E4M3Quantizer"/>).
/// </summary>
internal readonly ref struct ByteKeyValueSpans
{
    /// <summary>The bytes' number format (int8 unless set).</summary>
    public KeyValue8BitFormat Format { get; init; }

    public ReadOnlySpan<sbyte> Key { get; init; }

    public ReadOnlySpan<sbyte> Value { get; init; }

    public ReadOnlySpan<float> KeyScales { get; init; }

    public ReadOnlySpan<float> ValueScales { get; init; }

    /// <summary>Element strides of both scale arrays between batches, KV heads and keys.</summary>
    public TensorStrides ScaleStrides { get; init; }
}

/// <summary>
/// Attention over an 8-bit key/value cache on a <see cref="CpuBackend"/> (the layers'
/// <c>KeyValueCacheStorage.Int8</c> and <c>Float8E4M3</c>): validated like <see cref="AttentionBackend.ScaledDotProductAttention{T}(AttentionShape, ReadOnlySpan{T}, ReadOnlySpan{T}, ReadOnlySpan{T}, Span{T}, AttentionOptions?, Span{float}, Span{float})"/>,
/// then run by the decode kernel, which dequantises each block in registers. Only the decode kernel reads 8-bit rows,
/// so a call it does not take (more than <see cref="DecodeAttentionKernel{TOps, TVec}.MaxQueryLength"/> queries,
/// attention weights) throws <see cref="NotSupportedException"/>; the layers dequantise the cache for such a step.
/// </summary>
internal static unsafe class ByteCacheAttention
{
    /// <summary>Whether the decode kernel takes <paramref name="problem"/> (and so an 8-bit cache can serve it).</summary>
    public static bool Takes(AttentionProblem problem) => CpuKernels.UsesDecodeKernel(problem);

    /// <exception cref="ArgumentException">A size, stride or option does not match the shape, or the output overlaps an input.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A shape dimension or option is out of range, or the bytes' format is
    /// not one of <see cref="KeyValue8BitFormat"/>'s.</exception>
    /// <exception cref="NotSupportedException">The decode kernel does not take the call (the message says why).</exception>
    public static void Run<T>(
        CpuBackend backend, AttentionShape shape, ReadOnlySpan<T> query, ByteKeyValueSpans kv, Span<T> output,
        AttentionOptions? options = null, Span<float> logSumExp = default)
        where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(backend);
        ElementType.ThrowIfNotOperand<T>();
        RequireFormat(kv.Format);
        options ??= AttentionOptions.Default;
        var problem = AttentionValidator.Validate(shape, options, new(
            query.Length, kv.Key.Length, kv.Value.Length, output.Length, logSumExp.IsEmpty ? -1 : logSumExp.Length, -1));
        RequireScales(kv.ScaleStrides, kv.KeyScales.Length, "keyScales", shape);
        RequireScales(kv.ScaleStrides, kv.ValueScales.Length, "valueScales", shape);
        if (Overlaps(output, query) || Overlaps(output, kv.Key) || Overlaps(output, kv.Value)
            || Overlaps(output, kv.KeyScales) || Overlaps(output, kv.ValueScales)
            || Overlaps(logSumExp, kv.KeyScales) || Overlaps(logSumExp, kv.ValueScales) || Overlaps(logSumExp, output))
        {
            throw new ArgumentException("output and logSumExp must not overlap an input or each other.", nameof(output));
        }

        CpuBackend.ThrowIfBeyondLimits(problem);
        if (!Takes(problem))
        {
            throw new NotSupportedException(
                $"An 8-bit key/value cache is read by the CPU decode kernel only: at most {DecodeAttentionKernel<ScalarOps, float>.MaxQueryLength} " +
                $"queries per call (Lq = {shape.QueryLength}) and no attention weights.");
        }

        RunValidated(backend, problem, query, kv, output, logSumExp);
    }

    /// <summary>
    /// <see cref="Run{T}"/> on a problem validated against memory the caller owns (the layers' caches): no checks of
    /// lengths, scales or overlaps; the decode kernel must take it (<see cref="Takes"/>).
    /// </summary>
    internal static void RunValidated<T>(
        CpuBackend backend, AttentionProblem problem, ReadOnlySpan<T> query, ByteKeyValueSpans kv, Span<T> output,
        Span<float> logSumExp)
        where T : unmanaged
    {
        fixed (T* q = query)
        fixed (T* o = output)
        fixed (float* lse = logSumExp)
        fixed (sbyte* k = kv.Key)
        fixed (sbyte* v = kv.Value)
        fixed (float* keyScales = kv.KeyScales)
        fixed (float* valueScales = kv.ValueScales)
        {
            float* l = problem.WantsLogSumExp ? lse : null;
            if (kv.Format == KeyValue8BitFormat.Float8E4M3)
            {
                backend.RunDecode(problem, q, Rows((Fp8E4M3*)k, (Fp8E4M3*)v, keyScales, valueScales, kv.ScaleStrides), o, l);
            }
            else
            {
                backend.RunDecode(problem, q, Rows(k, v, keyScales, valueScales, kv.ScaleStrides), o, l);
            }
        }
    }

    private static KeyValueRows<TKv> Rows<TKv>(TKv* k, TKv* v, float* keyScales, float* valueScales, TensorStrides strides)
        where TKv : unmanaged =>
        new() { Key = k, Value = v, KeyScales = keyScales, ValueScales = valueScales, ScaleStrides = strides };

    /// <summary>
    /// <see cref="Run{T}"/> on an 8-bit cache in pages (<see cref="PagedKeyValueLayout"/>): K and V pages as bytes; int8's
    /// scales in pages of their own, <c>[numPages, PageSize, Hkv]</c> (head-major: <c>[numPages, Hkv, PageSize]</c>;
    /// <see cref="ByteKeyValueSpans.ScaleStrides"/> is not read), e4m3's one per KV head, <c>[Hkv]</c>.
    /// </summary>
    /// <exception cref="ArgumentException">As the paged call, or the scales hold fewer pages than K and V.</exception>
    /// <exception cref="ArgumentOutOfRangeException">As the paged call, or the bytes' format is not one of
    /// <see cref="KeyValue8BitFormat"/>'s.</exception>
    /// <exception cref="NotSupportedException">The decode kernel does not take the call.</exception>
    public static void RunPaged<T>(
        CpuBackend backend, AttentionShape shape, ReadOnlySpan<T> query, ByteKeyValueSpans kv, PagedKeyValueLayout pages,
        Span<T> output, AttentionOptions? options = null)
        where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(backend);
        ElementType.ThrowIfNotOperand<T>();
        RequireFormat(kv.Format);
        options ??= AttentionOptions.Default;
        var problem = PagedAttentionValidator.Validate(shape, options, pages, new(
            query.Length, kv.Key.Length, kv.Value.Length, output.Length, -1));
        bool perHead = kv.Format == KeyValue8BitFormat.Float8E4M3;
        long pageScales = perHead ? 0 : (long)pages.PageSize * shape.KeyValueHeads;
        long pageCount = Math.Min(kv.Key.Length / ((long)pages.PageSize * shape.KeyValueHeads * shape.HeadDim), kv.Value.Length / ((long)pages.PageSize * shape.KeyValueHeads * shape.ValueHeadDim));
        long required = perHead ? shape.KeyValueHeads : pageCount * pageScales;
        if (kv.KeyScales.Length < required || kv.ValueScales.Length < required)
        {
            string name = kv.KeyScales.Length < required ? "keyScales" : "valueScales";
            throw new ArgumentException(
                perHead ? $"{name} must hold one scale per KV head (Hkv={shape.KeyValueHeads})."
                : $"{name} must hold [numPages={pageCount}, PageSize={pages.PageSize}, Hkv={shape.KeyValueHeads}] scales.", name);
        }

        if (Overlaps(output, query) || Overlaps(output, kv.Key) || Overlaps(output, kv.Value)
            || Overlaps(output, kv.KeyScales) || Overlaps(output, kv.ValueScales))
        {
            throw new ArgumentException("output must not overlap an input.", nameof(output));
        }

        CpuBackend.ThrowIfBeyondLimits(problem);
        if (!Takes(problem))
        {
            throw new NotSupportedException(
                $"An 8-bit key/value cache is read by the CPU decode kernel only: at most {DecodeAttentionKernel<ScalarOps, float>.MaxQueryLength} " +
                $"queries per call (Lq = {shape.QueryLength}).");
        }

        var scaleStrides = perHead ? new TensorStrides(0, 1, 0) : PagedAttentionValidator.PageStrides(pages, shape.KeyValueHeads, 1);
        RunValidated(backend, problem, query, kv with { ScaleStrides = scaleStrides }, output, default);
    }

    /// <summary>The bytes' format: int8 (or unset, which is int8) or e4m3; any other value is refused before a read.</summary>
    private static void RequireFormat(KeyValue8BitFormat format)
    {
        if (format is not (0 or KeyValue8BitFormat.Int8 or KeyValue8BitFormat.Float8E4M3))
        {
            throw new ArgumentOutOfRangeException("kv", format, "The bytes' format must be Int8 or Float8E4M3.");
        }
    }

    private static void RequireScales(TensorStrides strides, long length, string parameter, AttentionShape shape)
    {
        if (strides.Batch < 0 || strides.Head < 0 || strides.Sequence < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(strides), strides, "The scales' strides must not be negative.");
        }

        Int128 required = ((Int128)(shape.Batch - 1) * strides.Batch) + ((Int128)(shape.KeyValueHeads - 1) * strides.Head)
            + ((Int128)(shape.KeyLength - 1) * strides.Sequence) + 1;
        if (length < required)
        {
            throw new ArgumentException(
                $"{parameter} holds {length} scales but [B, Hkv, Lk] with {shape} and strides {strides} needs {required}.",
                parameter);
        }
    }

    private static bool Overlaps<TA, TB>(ReadOnlySpan<TA> a, ReadOnlySpan<TB> b)
        where TA : unmanaged
        where TB : unmanaged =>
        System.Runtime.InteropServices.MemoryMarshal.AsBytes(a).Overlaps(System.Runtime.InteropServices.MemoryMarshal.AsBytes(b));

    private static bool Overlaps<TA, TB>(Span<TA> a, ReadOnlySpan<TB> b)
        where TA : unmanaged
        where TB : unmanaged => Overlaps((ReadOnlySpan<TA>)a, b);

    private static bool Overlaps<TA, TB>(Span<TA> a, Span<TB> b)
        where TA : unmanaged
        where TB : unmanaged => Overlaps((ReadOnlySpan<TA>)a, (ReadOnlySpan<TB>)b);
}
