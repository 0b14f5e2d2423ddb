using Attention.Native.Cuda.Interop;
using Attention.Native.Validation;

namespace Attention.Native.Cuda.SplitKv;

/// <summary>How an 8-bit key/value cache stores its elements (the kernels' <c>kv_format</c> code).</summary>
internal enum KeyValue8BitFormat
{
    /// <summary>Signed bytes q with one float scale per (batch, KV head, key): value = q · scale
    /// (<see cref="Cpu.Decode.Int8Quantizer"/>'s rule).</summary>
    Int8 = 1,

    /// <summary>OCP fp8 e4m3fn bytes (bias 7, no infinities, 0x7F/0xFF NaN, largest 448) with one float scale per
    /// (batch, KV head): value = e4m3 · scale, as vLLM's and FlashAttention-3's per-head descale.</summary>
    Float8E4M3 = 2,
}

/// <summary>
/// An 8-bit key/value cache in device memory: K <c>[B, Hkv, Lk, D]</c> and V <c>[B, Hkv, Lk, Dv]</c> as bytes at the
/// options' <see cref="AttentionOptions.KeyStrides"/> and <see cref="AttentionOptions.ValueStrides"/> (in elements,
/// so in bytes), and their scales: for <see cref="KeyValue8BitFormat.Int8"/> one per (batch, KV head, key) at
/// <see cref="ScaleStrides"/>; for <see cref="KeyValue8BitFormat.Float8E4M3"/> one per (batch, KV head) at its batch
/// and head strides (its sequence stride is not read).
/// </summary>
internal readonly record struct DeviceKeyValue8Bit(
    KeyValue8BitFormat Format,
    CudaTensor<byte> Key,
    CudaTensor<byte> Value,
    CudaTensor<float> KeyScales,
    CudaTensor<float> ValueScales,
    TensorStrides ScaleStrides);

/// <summary>
/// An 8-bit key/value cache's device addresses, laid out as <see cref="DeviceKeyValue8Bit"/>'s tensors (the scales'
/// strides are passed beside it): for memory that is not an <see cref="AttentionTensor{T}"/>, such as the layers'
/// int8 caches.
/// </summary>
internal readonly record struct DeviceKeyValue8BitAddresses(
    KeyValue8BitFormat Format, ulong Key, ulong Value, ulong KeyScales, ulong ValueScales);

/// <summary>
/// Attention over an 8-bit key/value cache on a <see cref="CudaBackend"/>, the GPU's counterpart of
/// <see cref="Cpu.Decode.ByteCacheAttention"/>: validated like the tensor overload, then run by the split-KV partial
/// kernels <c>attention_splitkv_partial_{i8,e4m3}_{f16,bf16}</c>, which convert the bytes to the query's 16-bit type
/// in registers. Only they read 8-bit K/V, so what they do not take throws <see cref="NotSupportedException"/>:
/// float queries, more than <see cref="AttentionSplitKvGeometry.MaxQueryLength"/> queries, packed (varlen)
/// sequences, a forced kernel other than split-KV, and the split-KV path's own limits.
/// </summary>
internal static class KeyValue8BitAttention
{
    /// <exception cref="ArgumentException">A size, stride or option does not match the shape, or the output overlaps an input.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A shape dimension, option or format is out of range.</exception>
    /// <exception cref="NotSupportedException">The 8-bit split-KV kernels do not take the call (the message says why).</exception>
    public static void Run<T>(
        CudaBackend backend, AttentionShape shape, CudaTensor<T> query, DeviceKeyValue8Bit kv, CudaTensor<T> output,
        AttentionOptions? options = null, CudaTensor<float>? logSumExp = null)
        where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(backend);
        ThrowIfMissing(query, kv, output);
        options ??= AttentionOptions.Default;
        var problem = AttentionValidator.Validate(shape, options, new(
            query.Length, kv.Key.Length, kv.Value.Length, output.Length, logSumExp?.Length ?? -1, -1));
        RequireScales(kv, kv.ScaleStrides, shape.Batch, shape.KeyLength, shape.KeyValueHeads);
        ThrowIfOverlapping(output, logSumExp, query, kv);
        Launch(backend, problem, query, kv, kv.ScaleStrides, output, logSumExp);
    }

    /// <summary>
    /// <see cref="Run{T}"/> on a cache in pages (<see cref="PagedKeyValueLayout"/>): K and V pages as bytes; int8's
    /// scales in pages of their own, <c>[numPages, PageSize, Hkv]</c> (head-major: <c>[numPages, Hkv, PageSize]</c>),
    /// e4m3's per (sequence, KV head) at <see cref="DeviceKeyValue8Bit.ScaleStrides"/>, which int8 does not read.
    /// </summary>
    /// <exception cref="ArgumentException">As the paged call, or the scales hold fewer pages than K and V.</exception>
    /// <exception cref="ArgumentOutOfRangeException">As the paged call.</exception>
    /// <exception cref="NotSupportedException">The 8-bit split-KV kernels do not take the call.</exception>
    public static void RunPaged<T>(
        CudaBackend backend, AttentionShape shape, CudaTensor<T> query, DeviceKeyValue8Bit kv, PagedKeyValueLayout pages,
        CudaTensor<T> output, AttentionOptions? options = null)
        where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(backend);
        ThrowIfMissing(query, kv, output);
        options ??= AttentionOptions.Default;
        var problem = PagedAttentionValidator.Validate(shape, options, pages, new(
            query.Length, kv.Key.Length, kv.Value.Length, output.Length, -1));
        var scaleStrides = kv.ScaleStrides;
        if (kv.Format == KeyValue8BitFormat.Int8)
        {
            long pageScales = (long)pages.PageSize * shape.KeyValueHeads;
            long pageCount = Math.Min(kv.Key.Length / (pageScales * shape.HeadDim), kv.Value.Length / (pageScales * shape.ValueHeadDim));
            scaleStrides = PagedAttentionValidator.PageStrides(pages, shape.KeyValueHeads, 1);
            RequireScales(kv, scaleStrides, (int)pageCount, pages.PageSize, shape.KeyValueHeads);
        }
        else
        {
            RequireScales(kv, scaleStrides, shape.Batch, 1, shape.KeyValueHeads);
        }

        ThrowIfOverlapping(output, null, query, kv);
        Launch(backend, problem, query, kv, scaleStrides, output, null);
    }

    /// <summary>
    /// Why the 8-bit split-KV kernels do not take <paramref name="problem"/> with <paramref name="elementType"/>
    /// operands; null when they do.
    /// </summary>
    internal static string? Unsupported(CudaBackend backend, AttentionProblem problem, Type elementType)
    {
        if (elementType == typeof(float))
        {
            return "8-bit key/value caches are read by the tensor-core split-KV kernels only: Half or BFloat16 queries, not float.";
        }

        if (problem.QueryLength > AttentionSplitKvGeometry.MaxQueryLength)
        {
            return $"8-bit key/value caches are read by the split-KV kernels only, which take at most {AttentionSplitKvGeometry.MaxQueryLength} " +
                $"queries per call (shape.QueryLength = {problem.QueryLength}).";
        }

        if (problem.Varlen is not null)
        {
            return "8-bit key/value caches do not take packed (varlen) sequences: use padded or paged K/V.";
        }

        if (backend.ForcedKernel is { } forced && forced != CudaAttentionKernel.SplitKv)
        {
            return $"{CudaKernelSelector.EnvironmentVariable}={forced.ToString().ToUpperInvariant()} cannot read an 8-bit key/value cache: only the split-KV kernels do.";
        }

        return CudaKernelSelector.Supports(CudaAttentionKernel.SplitKv, problem, elementType, allowTensorFloat32: false, out string? reason)
            ? null
            : $"The split-KV kernels cannot read this 8-bit key/value cache: {reason}";
    }

    /// <summary>
    /// Queues the 8-bit split-KV kernels on a validated <paramref name="problem"/> whose operands are device addresses
    /// (the layers' int8 caches hold raw device memory, not tensors).
    /// </summary>
    /// <exception cref="NotSupportedException">The kernels do not take the call (<see cref="Unsupported"/>).</exception>
    internal static void Launch<T>(
        CudaBackend backend, AttentionProblem problem, DevicePointer<T> query, DeviceKeyValue8BitAddresses kv,
        TensorStrides scaleStrides, DevicePointer<T> output, DevicePointer<float> logSumExp)
        where T : unmanaged
    {
        if (Unsupported(backend, problem, typeof(T)) is { } reason)
        {
            throw new NotSupportedException(reason);
        }

        var (partial, merge) = backend.SplitKvKernels().For8Bit<T>(kv.Format);
        var launch = AttentionSplitKvGeometry.Configure(
            problem, typeof(T), partial.Limits, backend.Device.MultiprocessorCount, backend.Stream.Handle);
        var prepared = new PreparedAttention(CudaAttentionKernel.SplitKv, partial, launch.Partial, merge, launch);
        lock (backend.LaunchGate)
        {
            backend.EnterContext();
            var staged = backend.Scratch.Stage(problem);
            var parameters = AttentionParams.From(
                problem,
                query,
                new DevicePointer<T>(kv.Key),
                new DevicePointer<T>(kv.Value),
                output,
                logSumExp,
                DevicePointer<float>.Null,
                problem.Mask?.Tensor is { } maskTensor ? CudaTensor<bool>.PointerOf(maskTensor) : staged.Mask,
                problem.Bias?.Tensor is { } biasTensor ? CudaTensor<float>.PointerOf(biasTensor) : staged.Bias,
                staged.KeyLengths,
                staged);
            parameters.KvFormat = (int)kv.Format;
            parameters.KScale = new DevicePointer<float>(kv.KeyScales);
            parameters.VScale = new DevicePointer<float>(kv.ValueScales);
            parameters.ScaleStrideB = scaleStrides.Batch;
            parameters.ScaleStrideH = scaleStrides.Head;
            parameters.ScaleStrideS = scaleStrides.Sequence;
            SplitKvAttention.Launch(backend, prepared, parameters);
        }
    }

    private static void Launch<T>(
        CudaBackend backend, AttentionProblem problem, CudaTensor<T> query, DeviceKeyValue8Bit kv, TensorStrides scaleStrides,
        CudaTensor<T> output, CudaTensor<float>? logSumExp)
        where T : unmanaged =>
        Launch(
            backend, problem, query.Pointer,
            new DeviceKeyValue8BitAddresses(
                kv.Format, kv.Key.Pointer.Address, kv.Value.Pointer.Address, kv.KeyScales.Pointer.Address, kv.ValueScales.Pointer.Address),
            scaleStrides, output.Pointer, CudaTensor<float>.PointerOf(logSumExp));

    private static void ThrowIfMissing<T>(CudaTensor<T> query, DeviceKeyValue8Bit kv, CudaTensor<T> output)
        where T : unmanaged
    {
        ElementType.ThrowIfNotOperand<T>();
        ArgumentNullException.ThrowIfNull(query);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(kv.Key, "kv.Key");
        ArgumentNullException.ThrowIfNull(kv.Value, "kv.Value");
        ArgumentNullException.ThrowIfNull(kv.KeyScales, "kv.KeyScales");
        ArgumentNullException.ThrowIfNull(kv.ValueScales, "kv.ValueScales");
        if (kv.Format is not (KeyValue8BitFormat.Int8 or KeyValue8BitFormat.Float8E4M3))
        {
            throw new ArgumentOutOfRangeException(nameof(kv), kv.Format, "kv.Format is not a defined KeyValue8BitFormat.");
        }
    }

    // Int8: [rows, Hkv, keys] scales (rows the batch or the pages); e4m3: [B, Hkv], one a head.
    private static void RequireScales(DeviceKeyValue8Bit kv, TensorStrides strides, int rows, int keys, int heads)
    {
        if (strides.Batch < 0 || strides.Head < 0 || strides.Sequence < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(kv), strides, "kv.ScaleStrides must not be negative.");
        }

        long perKey = kv.Format == KeyValue8BitFormat.Int8 ? strides.Sequence : 0;
        Int128 required = ((Int128)(rows - 1) * strides.Batch) + ((Int128)(heads - 1) * strides.Head)
            + ((Int128)(keys - 1) * perKey) + 1;
        foreach (var (scales, name) in new[] { (kv.KeyScales, "kv.KeyScales"), (kv.ValueScales, "kv.ValueScales") })
        {
            if (scales.Length < required)
            {
                string layout = kv.Format == KeyValue8BitFormat.Int8 ? $"[{rows}, Hkv={heads}, {keys}]" : $"[B={rows}, Hkv={heads}]";
                throw new ArgumentException(
                    $"{name} holds {scales.Length} scales but {layout} at strides {strides} needs {required}.", name);
            }
        }
    }

    private static void ThrowIfOverlapping<T>(
        CudaTensor<T> output, CudaTensor<float>? logSumExp, CudaTensor<T> query, DeviceKeyValue8Bit kv)
        where T : unmanaged
    {
        var written = new List<(ulong, long)> { Range(output) };
        if (logSumExp is not null)
        {
            written.Add(Range(logSumExp));
        }

        var read = new[] { Range(query), Range(kv.Key), Range(kv.Value), Range(kv.KeyScales), Range(kv.ValueScales) };
        for (int w = 0; w < written.Count; w++)
        {
            bool overlaps = read.Any(r => Overlap(written[w], r)) || (w == 1 && Overlap(written[0], written[1]));
            if (overlaps)
            {
                throw new ArgumentException("output and logSumExp must not overlap an input or each other.", w == 0 ? "output" : "logSumExp");
            }
        }
    }

    private static unsafe (ulong Start, long Bytes) Range<TElement>(CudaTensor<TElement> tensor)
        where TElement : unmanaged => (tensor.Pointer.Address, tensor.Length * sizeof(TElement));

    private static bool Overlap((ulong Start, long Bytes) a, (ulong Start, long Bytes) b) =>
        a.Start < b.Start + (ulong)b.Bytes && b.Start < a.Start + (ulong)a.Bytes;
}
