using System.Runtime.InteropServices;
using Attention.Native.Cpu;
using Attention.Native.Cuda;
using Attention.Native.Validation;

namespace Attention.Native;

/// <summary>
/// A place where attention runs (the CPU, a GPU): it owns tensors and computes fused scaled-dot-product attention
/// on them. Every backend validates the same way and gives the same answers to float tolerance.
/// </summary>
/// <example>
/// <code>
/// using var backend = AttentionBackend.Create();            // CUDA when present, else the CPU
/// var shape = new AttentionShape(batch: 1, heads: 8, queryLength: 128, keyLength: 128, headDim: 64);
/// backend.ScaledDotProductAttention(shape, q, k, v, output, new AttentionOptions { Causal = CausalMask.TopLeft });
/// </code>
/// </example>
public abstract partial class AttentionBackend : IDisposable
{
    private bool disposed;

    /// <summary>Creates the bookkeeping.</summary>
    /// <param name="selectionReason">Why this backend was chosen.</param>
    private protected AttentionBackend(string selectionReason) => SelectionReason = selectionReason;

    /// <summary>Which kind of backend this is (never <see cref="AttentionBackendKind.Auto"/>).</summary>
    public abstract AttentionBackendKind Kind { get; }

    /// <summary>A human-readable description: the device and the kernel variant.</summary>
    public abstract string Description { get; }

    /// <summary>Why this backend was chosen (for <see cref="AttentionBackendKind.Auto"/>, why the others were not).</summary>
    public string SelectionReason { get; internal set; }

    /// <summary>Creates a backend.</summary>
    /// <param name="kind">The backend to create; <see cref="AttentionBackendKind.Auto"/> picks the fastest present.</param>
    /// <returns>The backend; dispose it to free its resources.</returns>
    /// <remarks><see cref="AttentionBackendKind.Auto"/> creates the CUDA backend when a usable device is found and
    /// <c>ATTENTION_NATIVE_CUDA_KERNEL</c> is unset or names a kernel, and otherwise the CPU backend, whose
    /// <see cref="SelectionReason"/> then says why CUDA was not chosen. Whether a device is usable is found out once per
    /// process (the driver is initialised once) and remembered.</remarks>
    /// <exception cref="CudaUnavailableException"><paramref name="kind"/> is <see cref="AttentionBackendKind.Cuda"/> and no
    /// usable driver or device was found (the message says what was looked for).</exception>
    /// <exception cref="CudaException"><paramref name="kind"/> is Cuda or Auto and the driver failed while setting up.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="kind"/> is not a defined value.</exception>
    /// <exception cref="ArgumentException">The environment variable <c>ATTENTION_NATIVE_CPU_VARIANT</c> names no
    /// <see cref="Cpu.CpuKernelVariant"/>, or <paramref name="kind"/> is <see cref="AttentionBackendKind.Cuda"/> and
    /// <c>ATTENTION_NATIVE_CUDA_KERNEL</c> names no kernel (the message names the variable).</exception>
    public static AttentionBackend Create(AttentionBackendKind kind = AttentionBackendKind.Auto) => kind switch
    {
        AttentionBackendKind.Auto => CreateAuto(),
        AttentionBackendKind.Cpu => new CpuBackend(null, "Requested explicitly."),
        AttentionBackendKind.Cuda => new CudaBackend(null, "Requested explicitly."),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown backend kind."),
    };

    /// <summary>Allocates a zero-filled tensor of <paramref name="length"/> elements in this backend's memory.</summary>
    /// <typeparam name="T">Element type: float, Half, BFloat16, or bool for masks.</typeparam>
    /// <param name="length">Number of elements, at least 1.</param>
    /// <returns>The tensor; dispose it to free the memory.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="length"/> is below 1.</exception>
    /// <exception cref="NotSupportedException"><typeparamref name="T"/> is not float, Half, BFloat16 or bool.</exception>
    /// <exception cref="ObjectDisposedException">The backend was disposed.</exception>
    public AttentionTensor<T> Allocate<T>(long length)
        where T : unmanaged
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        ElementType.ThrowIfNotStorable<T>();
        ArgumentOutOfRangeException.ThrowIfLessThan(length, 1);
        return AllocateCore<T>(length);
    }

    /// <summary>Allocates a tensor holding a copy of <paramref name="data"/>.</summary>
    /// <typeparam name="T">Element type.</typeparam>
    /// <param name="data">The elements, at least one.</param>
    /// <returns>The tensor; dispose it to free the memory.</returns>
    /// <exception cref="ArgumentException"><paramref name="data"/> is empty.</exception>
    /// <exception cref="NotSupportedException"><typeparamref name="T"/> is not float, Half, BFloat16 or bool.</exception>
    /// <exception cref="ObjectDisposedException">The backend was disposed.</exception>
    public AttentionTensor<T> Upload<T>(ReadOnlySpan<T> data)
        where T : unmanaged
    {
        if (data.IsEmpty)
        {
            throw new ArgumentException("Cannot upload an empty span.", nameof(data));
        }

        var tensor = Allocate<T>(data.Length);
        tensor.CopyFrom(data);
        return tensor;
    }

    /// <summary>
    /// Computes <c>O = softmax(Q·Kᵀ·scale [softcapped] + bias, masked)·V</c> on tensors of this backend.
    /// </summary>
    /// <typeparam name="T">Operand element type: float, Half or BFloat16 (computed in float).</typeparam>
    /// <param name="shape">The problem's sizes.</param>
    /// <param name="query">Q, <c>[B, Hq, Lq, D]</c> in the layout of <paramref name="options"/>.</param>
    /// <param name="key">K, <c>[B, Hkv, Lk, D]</c>.</param>
    /// <param name="value">V, <c>[B, Hkv, Lk, Dv]</c>.</param>
    /// <param name="output">O, <c>[B, Hq, Lq, Dv]</c>; rows that see no key are set to 0.</param>
    /// <param name="options">Scale, masks, layout; null for the defaults.</param>
    /// <param name="logSumExp">Optional <c>[B, Hq, Lq]</c> natural-log sum of exponentials of each row's scores and
    /// its sink (−∞ for rows that see no key, or the sink with <see cref="AttentionOptions.Sinks"/>).</param>
    /// <param name="probabilities">Optional <c>[B, Hq, Lq, Lk]</c> attention weights (0 where masked), for
    /// inspecting small problems.</param>
    /// <exception cref="ArgumentNullException">A required tensor is null.</exception>
    /// <exception cref="ArgumentException">A size, stride or option does not match the shape (the message names it), a
    /// mask or bias does not hold exactly the planes of its declared <c>[B|1, Hq|1]</c>, a tensor belongs to another
    /// backend, or an output is also an input (the mask and bias included) or shares memory with the mask or bias.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A shape dimension is below 1, an option is out of its range
    /// (<see cref="AttentionOptions.Softcap"/> between 0 and the smallest normal float, for one), or a head dim is above
    /// the backend's limit (the CPU backend's: 16,384).</exception>
    /// <exception cref="ObjectDisposedException">The backend or a tensor was disposed.</exception>
    /// <exception cref="NotSupportedException"><typeparamref name="T"/> is not an operand type, or this backend cannot
    /// run an option (the message names it).</exception>
    public void ScaledDotProductAttention<T>(
        AttentionShape shape,
        AttentionTensor<T> query,
        AttentionTensor<T> key,
        AttentionTensor<T> value,
        AttentionTensor<T> output,
        AttentionOptions? options = null,
        AttentionTensor<float>? logSumExp = null,
        AttentionTensor<float>? probabilities = null)
        where T : unmanaged
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        ElementType.ThrowIfNotOperand<T>();
        options ??= AttentionOptions.Default;
        ThrowIfBadTensors(
            new(query, nameof(query), Required: true),
            new(key, nameof(key), Required: true),
            new(value, nameof(value), Required: true),
            new(options.Mask?.Tensor, "options.Mask"),
            new(options.Bias?.Tensor, "options.Bias"),
            new(output, nameof(output), Required: true, Written: true),
            new(logSumExp, nameof(logSumExp), Written: true),
            new(probabilities, nameof(probabilities), Written: true));
        var mask = ScoresBytes(options.Mask);
        var bias = ScoresBytes(options.Bias);
        ThrowIfOverlapsScores(HostBytes(output), nameof(output), mask, bias);
        ThrowIfOverlapsScores(logSumExp is null ? default : HostBytes(logSumExp), nameof(logSumExp), mask, bias);
        ThrowIfOverlapsScores(probabilities is null ? default : HostBytes(probabilities), nameof(probabilities), mask, bias);
        var problem = AttentionValidator.Validate(shape, options, new(
            query.Length, key.Length, value.Length, output.Length, logSumExp?.Length ?? -1, probabilities?.Length ?? -1));
        RunCore(problem, query, key, value, output, logSumExp, probabilities);
    }

    /// <summary>
    /// Computes attention on host memory: the span convenience call. The CPU backend works on the spans in place; a GPU
    /// backend copies them in and the results out.
    /// </summary>
    /// <typeparam name="T">Operand element type: float, Half or BFloat16 (computed in float).</typeparam>
    /// <param name="shape">The problem's sizes.</param>
    /// <param name="query">Q, <c>[B, Hq, Lq, D]</c> in the layout of <paramref name="options"/>.</param>
    /// <param name="key">K, <c>[B, Hkv, Lk, D]</c>.</param>
    /// <param name="value">V, <c>[B, Hkv, Lk, Dv]</c>.</param>
    /// <param name="output">O, <c>[B, Hq, Lq, Dv]</c>; must not overlap an input.</param>
    /// <param name="options">Scale, masks, layout; null for the defaults.</param>
    /// <param name="logSumExp">Optional <c>[B, Hq, Lq]</c> log-sum-exp output; empty when not wanted.</param>
    /// <param name="probabilities">Optional <c>[B, Hq, Lq, Lk]</c> attention weights; empty when not wanted.</param>
    /// <exception cref="ArgumentException">A size, stride or option does not match the shape (the message names it), a
    /// mask or bias does not hold exactly the planes of its declared <c>[B|1, Hq|1]</c>, or an output overlaps an input
    /// (the mask and bias included) or another output.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A shape dimension is below 1, an option is out of its range
    /// (<see cref="AttentionOptions.Softcap"/> between 0 and the smallest normal float, for one), or a head dim is above
    /// the backend's limit (the CPU backend's: 16,384).</exception>
    /// <exception cref="ObjectDisposedException">The backend was disposed.</exception>
    /// <exception cref="NotSupportedException"><typeparamref name="T"/> is not an operand type, or this backend cannot
    /// run an option (the message names it).</exception>
    public void ScaledDotProductAttention<T>(
        AttentionShape shape,
        ReadOnlySpan<T> query,
        ReadOnlySpan<T> key,
        ReadOnlySpan<T> value,
        Span<T> output,
        AttentionOptions? options = null,
        Span<float> logSumExp = default,
        Span<float> probabilities = default)
        where T : unmanaged
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        ElementType.ThrowIfNotOperand<T>();
        var q = MemoryMarshal.AsBytes(query);
        var k = MemoryMarshal.AsBytes(key);
        var v = MemoryMarshal.AsBytes(value);
        var o = MemoryMarshal.AsBytes((ReadOnlySpan<T>)output);
        var lse = MemoryMarshal.AsBytes((ReadOnlySpan<float>)logSumExp);
        var probs = MemoryMarshal.AsBytes((ReadOnlySpan<float>)probabilities);
        ThrowIfOutputsOverlap(q, k, v, o, lse, probs);

        options ??= AttentionOptions.Default;
        ThrowIfForeign(options.Mask?.Tensor, "options.Mask");
        ThrowIfForeign(options.Bias?.Tensor, "options.Bias");
        var mask = ScoresBytes(options.Mask);
        var bias = ScoresBytes(options.Bias);
        ThrowIfOverlapsScores(o, nameof(output), mask, bias);
        ThrowIfOverlapsScores(lse, nameof(logSumExp), mask, bias);
        ThrowIfOverlapsScores(probs, nameof(probabilities), mask, bias);
        var problem = AttentionValidator.Validate(shape, options, new(
            query.Length, key.Length, value.Length, output.Length,
            logSumExp.IsEmpty ? -1 : logSumExp.Length, probabilities.IsEmpty ? -1 : probabilities.Length));
        RunCore(problem, query, key, value, output, logSumExp, probabilities);
    }

    /// <summary>
    /// The gradients of <see cref="ScaledDotProductAttention{T}(AttentionShape, AttentionTensor{T}, AttentionTensor{T}, AttentionTensor{T}, AttentionTensor{T}, AttentionOptions?, AttentionTensor{float}?, AttentionTensor{float}?)"/>
    /// with respect to Q, K, V (and the bias), given the gradient of its output: FlashAttention-2's backward, which
    /// recomputes the scores block by block from Q, K and the forward's log-sum-exp and never stores an
    /// <c>Lq × Lk</c> matrix.
    /// </summary>
    /// <typeparam name="T">Operand element type: float, Half or BFloat16 (accumulated in float).</typeparam>
    /// <param name="shape">The problem's sizes, as in the forward call.</param>
    /// <param name="query">Q, <c>[B, Hq, Lq, D]</c> in the layout of <paramref name="options"/>.</param>
    /// <param name="key">K, <c>[B, Hkv, Lk, D]</c>.</param>
    /// <param name="value">V, <c>[B, Hkv, Lk, Dv]</c>.</param>
    /// <param name="output">O, <c>[B, Hq, Lq, Dv]</c>, the forward's output for these operands and options.</param>
    /// <param name="logSumExp"><c>[B, Hq, Lq]</c>, the forward's log-sum-exp for these operands and options.</param>
    /// <param name="outputGrad">dO, <c>[B, Hq, Lq, Dv]</c>, with the output's strides.</param>
    /// <param name="queryGrad">dQ, written, with the query's strides.</param>
    /// <param name="keyGrad">dK, written, with the key's strides; summed over the query heads of each group (GQA/MQA).</param>
    /// <param name="valueGrad">dV, written, with the value's strides; summed over the query heads of each group.</param>
    /// <param name="options">The forward call's options; null for the defaults.</param>
    /// <param name="biasGrad">Optional gradient of <see cref="AttentionOptions.Bias"/>, written in the bias's broadcast
    /// shape <c>[B|1, Hq|1, Lq, Lk]</c> (summed over the broadcast dims); null when not wanted.</param>
    /// <param name="sinksGrad">Optional gradient of <see cref="AttentionOptions.Sinks"/>, <c>[Hq]</c>, written
    /// (<c>−Σ exp(sink − lse)·rowsum(dO∘O)</c> over batch and rows); null when not wanted.</param>
    /// <remarks>Rows that see no key (their log-sum-exp is −∞) and keys no row sees get zero gradients.</remarks>
    /// <exception cref="ArgumentNullException">A required tensor is null.</exception>
    /// <exception cref="ArgumentException">A size, stride or option does not match the shape (the message names it),
    /// a gradient's strides make its elements overlap, <paramref name="biasGrad"/> is given without a bias or with
    /// another length than the bias's, <paramref name="sinksGrad"/> without sinks or with another length than Hq, a tensor belongs to another backend, or a gradient is also another operand of
    /// the call or overlaps one.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A shape dimension is below 1, an option is out of its range, or a
    /// head dim is above the backend's limit.</exception>
    /// <exception cref="ObjectDisposedException">The backend or a tensor was disposed.</exception>
    /// <exception cref="NotSupportedException"><typeparamref name="T"/> is not an operand type, or this backend has no
    /// backward or cannot run an option (the message names it).</exception>
    public void ScaledDotProductAttentionBackward<T>(
        AttentionShape shape,
        AttentionTensor<T> query,
        AttentionTensor<T> key,
        AttentionTensor<T> value,
        AttentionTensor<T> output,
        AttentionTensor<float> logSumExp,
        AttentionTensor<T> outputGrad,
        AttentionTensor<T> queryGrad,
        AttentionTensor<T> keyGrad,
        AttentionTensor<T> valueGrad,
        AttentionOptions? options = null,
        AttentionTensor<float>? biasGrad = null,
        AttentionTensor<float>? sinksGrad = null)
        where T : unmanaged
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        ElementType.ThrowIfNotOperand<T>();
        options ??= AttentionOptions.Default;
        ThrowIfBadTensors(
            new(query, nameof(query), Required: true),
            new(key, nameof(key), Required: true),
            new(value, nameof(value), Required: true),
            new(output, nameof(output), Required: true),
            new(logSumExp, nameof(logSumExp), Required: true),
            new(outputGrad, nameof(outputGrad), Required: true),
            new(options.Mask?.Tensor, "options.Mask"),
            new(options.Bias?.Tensor, "options.Bias"),
            new(queryGrad, nameof(queryGrad), Required: true, Written: true),
            new(keyGrad, nameof(keyGrad), Required: true, Written: true),
            new(valueGrad, nameof(valueGrad), Required: true, Written: true),
            new(biasGrad, nameof(biasGrad), Written: true),
            new(sinksGrad, nameof(sinksGrad), Written: true));
        new BackwardOverlaps
        {
            Query = HostBytes(query),
            Key = HostBytes(key),
            Value = HostBytes(value),
            Output = HostBytes(output),
            LogSumExp = HostBytes(logSumExp),
            OutputGrad = HostBytes(outputGrad),
            Mask = ScoresBytes(options.Mask),
            Bias = ScoresBytes(options.Bias),
            QueryGrad = HostBytes(queryGrad),
            KeyGrad = HostBytes(keyGrad),
            ValueGrad = HostBytes(valueGrad),
            BiasGrad = biasGrad is null ? default : HostBytes(biasGrad),
            SinksGrad = sinksGrad is null ? default : HostBytes(sinksGrad),
        }.ThrowIfAny();
        var problem = AttentionBackwardValidator.Validate(shape, options, new(
            query.Length, key.Length, value.Length, output.Length, logSumExp.Length, outputGrad.Length,
            queryGrad.Length, keyGrad.Length, valueGrad.Length, biasGrad?.Length ?? -1, sinksGrad?.Length ?? -1));
        RunBackwardCore(
            problem, query, key, value, output, logSumExp, outputGrad, queryGrad, keyGrad, valueGrad, biasGrad, sinksGrad);
    }

    /// <summary>
    /// The backward on host memory: the span convenience call of
    /// <see cref="ScaledDotProductAttentionBackward{T}(AttentionShape, AttentionTensor{T}, AttentionTensor{T}, AttentionTensor{T}, AttentionTensor{T}, AttentionTensor{float}, AttentionTensor{T}, AttentionTensor{T}, AttentionTensor{T}, AttentionTensor{T}, AttentionOptions?, AttentionTensor{float}?, AttentionTensor{float}?)"/>.
    /// The CPU backend works on the spans in place; a GPU backend copies them in and the gradients out.
    /// </summary>
    /// <typeparam name="T">Operand element type: float, Half or BFloat16 (accumulated in float).</typeparam>
    /// <param name="shape">The problem's sizes, as in the forward call.</param>
    /// <param name="query">Q, <c>[B, Hq, Lq, D]</c> in the layout of <paramref name="options"/>.</param>
    /// <param name="key">K, <c>[B, Hkv, Lk, D]</c>.</param>
    /// <param name="value">V, <c>[B, Hkv, Lk, Dv]</c>.</param>
    /// <param name="output">O, <c>[B, Hq, Lq, Dv]</c>, the forward's output for these operands and options.</param>
    /// <param name="logSumExp"><c>[B, Hq, Lq]</c>, the forward's log-sum-exp for these operands and options.</param>
    /// <param name="outputGrad">dO, <c>[B, Hq, Lq, Dv]</c>, with the output's strides.</param>
    /// <param name="queryGrad">dQ, written, with the query's strides.</param>
    /// <param name="keyGrad">dK, written, with the key's strides; summed over the query heads of each group (GQA/MQA).</param>
    /// <param name="valueGrad">dV, written, with the value's strides; summed over the query heads of each group.</param>
    /// <param name="options">The forward call's options; null for the defaults.</param>
    /// <param name="biasGrad">Optional gradient of <see cref="AttentionOptions.Bias"/> in the bias's broadcast shape
    /// <c>[B|1, Hq|1, Lq, Lk]</c> (summed over the broadcast dims); empty when not wanted.</param>
    /// <param name="sinksGrad">Optional gradient of <see cref="AttentionOptions.Sinks"/>, <c>[Hq]</c>, written; empty
    /// when not wanted.</param>
    /// <remarks>Rows that see no key (their log-sum-exp is −∞) and keys no row sees get zero gradients.</remarks>
    /// <exception cref="ArgumentException">A size, stride or option does not match the shape (the message names it),
    /// a gradient's strides make its elements overlap, <paramref name="biasGrad"/> is given without a bias or with
    /// another length than the bias's, <paramref name="sinksGrad"/> is given without sinks or with another length than
    /// Hq, or a gradient overlaps another operand of the call.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A shape dimension is below 1, an option is out of its range, or a
    /// head dim is above the backend's limit.</exception>
    /// <exception cref="ObjectDisposedException">The backend was disposed.</exception>
    /// <exception cref="NotSupportedException"><typeparamref name="T"/> is not an operand type, or this backend has no
    /// backward or cannot run an option (the message names it).</exception>
    public void ScaledDotProductAttentionBackward<T>(
        AttentionShape shape,
        ReadOnlySpan<T> query,
        ReadOnlySpan<T> key,
        ReadOnlySpan<T> value,
        ReadOnlySpan<T> output,
        ReadOnlySpan<float> logSumExp,
        ReadOnlySpan<T> outputGrad,
        Span<T> queryGrad,
        Span<T> keyGrad,
        Span<T> valueGrad,
        AttentionOptions? options = null,
        Span<float> biasGrad = default,
        Span<float> sinksGrad = default)
        where T : unmanaged
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        ElementType.ThrowIfNotOperand<T>();
        options ??= AttentionOptions.Default;
        ThrowIfForeign(options.Mask?.Tensor, "options.Mask");
        ThrowIfForeign(options.Bias?.Tensor, "options.Bias");
        new BackwardOverlaps
        {
            Query = MemoryMarshal.AsBytes(query),
            Key = MemoryMarshal.AsBytes(key),
            Value = MemoryMarshal.AsBytes(value),
            Output = MemoryMarshal.AsBytes(output),
            LogSumExp = MemoryMarshal.AsBytes(logSumExp),
            OutputGrad = MemoryMarshal.AsBytes(outputGrad),
            Mask = ScoresBytes(options.Mask),
            Bias = ScoresBytes(options.Bias),
            QueryGrad = MemoryMarshal.AsBytes((ReadOnlySpan<T>)queryGrad),
            KeyGrad = MemoryMarshal.AsBytes((ReadOnlySpan<T>)keyGrad),
            ValueGrad = MemoryMarshal.AsBytes((ReadOnlySpan<T>)valueGrad),
            BiasGrad = MemoryMarshal.AsBytes((ReadOnlySpan<float>)biasGrad),
            SinksGrad = MemoryMarshal.AsBytes((ReadOnlySpan<float>)sinksGrad),
        }.ThrowIfAny();
        var problem = AttentionBackwardValidator.Validate(shape, options, new(
            query.Length, key.Length, value.Length, output.Length, logSumExp.Length, outputGrad.Length,
            queryGrad.Length, keyGrad.Length, valueGrad.Length, biasGrad.IsEmpty ? -1 : biasGrad.Length,
            sinksGrad.IsEmpty ? -1 : sinksGrad.Length));
        RunBackwardCore(
            problem, query, key, value, output, logSumExp, outputGrad, queryGrad, keyGrad, valueGrad, biasGrad, sinksGrad);
    }

    /// <summary>Waits until all work queued on this backend has finished (a no-op on the CPU).</summary>
    public virtual void Synchronize()
    {
    }

    /// <summary>Frees the backend's resources. Tensors it allocated must be disposed separately.</summary>
    public void Dispose()
    {
        if (!disposed)
        {
            disposed = true;
            Dispose(true);
            GC.SuppressFinalize(this);
        }
    }

    /// <summary>Frees the backend's resources.</summary>
    /// <param name="disposing">True when called from <see cref="Dispose()"/>.</param>
    protected virtual void Dispose(bool disposing)
    {
    }

    private protected abstract AttentionTensor<T> AllocateCore<T>(long length)
        where T : unmanaged;

    /// <summary>
    /// The host memory <paramref name="tensor"/> (one of this backend's, alive) occupies, for the overlap checks; empty
    /// where tensors live in device memory, which host memory cannot overlap.
    /// </summary>
    private protected virtual ReadOnlySpan<byte> HostBytes<TElement>(AttentionTensor<TElement> tensor)
        where TElement : unmanaged => default;

    private protected abstract void RunCore<T>(
        AttentionProblem problem,
        AttentionTensor<T> query,
        AttentionTensor<T> key,
        AttentionTensor<T> value,
        AttentionTensor<T> output,
        AttentionTensor<float>? logSumExp,
        AttentionTensor<float>? probabilities)
        where T : unmanaged;

    private protected abstract void RunCore<T>(
        AttentionProblem problem,
        ReadOnlySpan<T> query,
        ReadOnlySpan<T> key,
        ReadOnlySpan<T> value,
        Span<T> output,
        Span<float> logSumExp,
        Span<float> probabilities)
        where T : unmanaged;

    private protected abstract void RunBackwardCore<T>(
        AttentionBackwardProblem problem,
        AttentionTensor<T> query,
        AttentionTensor<T> key,
        AttentionTensor<T> value,
        AttentionTensor<T> output,
        AttentionTensor<float> logSumExp,
        AttentionTensor<T> outputGrad,
        AttentionTensor<T> queryGrad,
        AttentionTensor<T> keyGrad,
        AttentionTensor<T> valueGrad,
        AttentionTensor<float>? biasGrad,
        AttentionTensor<float>? sinksGrad)
        where T : unmanaged;

    private protected abstract void RunBackwardCore<T>(
        AttentionBackwardProblem problem,
        ReadOnlySpan<T> query,
        ReadOnlySpan<T> key,
        ReadOnlySpan<T> value,
        ReadOnlySpan<T> output,
        ReadOnlySpan<float> logSumExp,
        ReadOnlySpan<T> outputGrad,
        Span<T> queryGrad,
        Span<T> keyGrad,
        Span<T> valueGrad,
        Span<float> biasGrad,
        Span<float> sinksGrad)
        where T : unmanaged;

    /// <summary>
    /// CUDA when a usable device is present and <c>ATTENTION_NATIVE_CUDA_KERNEL</c> is valid, else the CPU with the
    /// reason CUDA was not chosen.
    /// </summary>
    private static AttentionBackend CreateAuto()
    {
        try
        {
            CudaKernelSelector.ForcedByEnvironment();
        }
        catch (ArgumentException e)
        {
            return new CpuBackend(null, $"Auto: {e.Message} CUDA was not tried. The CPU backend was chosen.");
        }

        CudaBackend cuda;
        try
        {
            cuda = new CudaBackend(null, "Auto");
        }
        catch (CudaUnavailableException e)
        {
            return new CpuBackend(null, $"Auto: {e.Message} The CPU backend was chosen.");
        }

        cuda.SelectionReason = $"Auto: CUDA {cuda.Device} was found, so the CUDA backend was chosen over the CPU.";
        return cuda;
    }

    /// <summary>Rejects host outputs that overlap an input or each other (an empty span overlaps nothing).</summary>
    private static void ThrowIfOutputsOverlap(
        ReadOnlySpan<byte> q, ReadOnlySpan<byte> k, ReadOnlySpan<byte> v, ReadOnlySpan<byte> o, ReadOnlySpan<byte> lse,
        ReadOnlySpan<byte> probs)
    {
        if (o.Overlaps(q) || o.Overlaps(k) || o.Overlaps(v))
        {
            throw new ArgumentException("output must not overlap query, key or value.", "output");
        }

        if (lse.Overlaps(q) || lse.Overlaps(k) || lse.Overlaps(v) || lse.Overlaps(o))
        {
            throw new ArgumentException("logSumExp must not overlap query, key, value or output.", "logSumExp");
        }

        if (probs.Overlaps(q) || probs.Overlaps(k) || probs.Overlaps(v) || probs.Overlaps(o) || probs.Overlaps(lse))
        {
            throw new ArgumentException(
                "probabilities must not overlap query, key, value, output or logSumExp.", "probabilities");
        }
    }

    /// <summary>
    /// Rejects an output whose memory overlaps the mask or the bias: the kernels read every row of those while they
    /// write the outputs, so they would read what they have already written.
    /// </summary>
    private static void ThrowIfOverlapsScores(
        ReadOnlySpan<byte> written, string parameter, ReadOnlySpan<byte> mask, ReadOnlySpan<byte> bias)
    {
        string? overlapped = written.Overlaps(bias) ? "options.Bias" : written.Overlaps(mask) ? "options.Mask" : null;
        if (overlapped is not null)
        {
            throw new ArgumentException($"{parameter} must not overlap {overlapped}.", parameter);
        }
    }

    /// <summary>The host memory of a mask or bias: its <see cref="BroadcastScores{T}.Memory"/>, or its tensor's.</summary>
    private ReadOnlySpan<byte> ScoresBytes<TElement>(BroadcastScores<TElement>? scores)
        where TElement : unmanaged =>
        scores is null ? default
        : scores.Tensor is { } tensor ? HostBytes(tensor)
        : MemoryMarshal.AsBytes(scores.Memory.Span);
}
