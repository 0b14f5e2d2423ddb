using System.Runtime.InteropServices;
using Attention.Native.Validation;

namespace Attention.Native;

/// <summary>Attention over a paged key/value cache (<see cref="PagedKeyValueLayout"/>).</summary>
public abstract partial class AttentionBackend
{
    /// <summary>
    /// Computes attention whose K and V are read from pages through a block table (vLLM / FlashAttention's paged KV
    /// cache): decoding steps and prefills of many sequences of different lengths in one call.
    /// </summary>
    /// <typeparam name="T">Operand element type: float, Half or BFloat16 (computed in float).</typeparam>
    /// <param name="shape">The problem's sizes; <c>KeyLength</c> bounds every sequence's length (and is the Lk of a mask
    /// or bias).</param>
    /// <param name="query">Q, <c>[B, Hq, Lq, D]</c> in the layout of <paramref name="options"/>: each sequence's last Lq
    /// positions.</param>
    /// <param name="keyPages">K pages, <c>[numPages, PageSize, Hkv, D]</c>.</param>
    /// <param name="valuePages">V pages, <c>[numPages, PageSize, Hkv, Dv]</c>.</param>
    /// <param name="pages">The block table and each sequence's length.</param>
    /// <param name="output">O, <c>[B, Hq, Lq, Dv]</c>; rows that see no key are set to 0.</param>
    /// <param name="options">Scale, masks, layout of Q and O; null for the defaults. Its key lengths and K/V strides
    /// must be unset (the pages define them).</param>
    /// <param name="logSumExp">Optional <c>[B, Hq, Lq]</c> log-sum-exp output; empty when not wanted.</param>
    /// <exception cref="ArgumentNullException"><paramref name="pages"/> is null.</exception>
    /// <exception cref="ArgumentException">A size does not match the shape, the block table does not have
    /// <c>B·PagesPerSequence</c> entries, options set key lengths or K/V strides, or an output overlaps an input (the
    /// message names the parameter).</exception>
    /// <exception cref="ArgumentOutOfRangeException">A shape dimension or option is out of range, a sequence length is
    /// negative or beyond <c>min(KeyLength, PagesPerSequence·PageSize)</c>, or a page a sequence reads is not in
    /// <c>[0, numPages)</c>.</exception>
    /// <exception cref="ObjectDisposedException">The backend was disposed.</exception>
    /// <exception cref="NotSupportedException"><typeparamref name="T"/> is not an operand type, or the CUDA backend's
    /// forced kernel cannot read these pages (the message says why: a page size it does not take, say).</exception>
    public void PagedScaledDotProductAttention<T>(
        AttentionShape shape,
        ReadOnlySpan<T> query,
        ReadOnlySpan<T> keyPages,
        ReadOnlySpan<T> valuePages,
        PagedKeyValueLayout pages,
        Span<T> output,
        AttentionOptions? options = null,
        Span<float> logSumExp = default)
        where T : unmanaged
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        ElementType.ThrowIfNotOperand<T>();
        var o = MemoryMarshal.AsBytes((ReadOnlySpan<T>)output);
        var lse = MemoryMarshal.AsBytes((ReadOnlySpan<float>)logSumExp);
        ThrowIfOutputsOverlap(MemoryMarshal.AsBytes(query), MemoryMarshal.AsBytes(keyPages), MemoryMarshal.AsBytes(valuePages), o, lse, default);

        options ??= AttentionOptions.Default;
        ThrowIfForeign(options.Mask?.Tensor, "options.Mask");
        ThrowIfForeign(options.Bias?.Tensor, "options.Bias");
        ThrowIfOverlapsScores(o, nameof(output), ScoresBytes(options.Mask), ScoresBytes(options.Bias));
        ThrowIfOverlapsScores(lse, nameof(logSumExp), ScoresBytes(options.Mask), ScoresBytes(options.Bias));
        var problem = PagedAttentionValidator.Validate(shape, options, pages, new(
            query.Length, keyPages.Length, valuePages.Length, output.Length, logSumExp.IsEmpty ? -1 : logSumExp.Length));
        // The kernels address paged K/V through the problem's table (AttentionProblem.Paging): the call is any other.
        RunCore(problem, query, keyPages, valuePages, output, logSumExp, default);
    }

    /// <summary>
    /// <see cref="PagedScaledDotProductAttention{T}(AttentionShape, ReadOnlySpan{T}, ReadOnlySpan{T}, ReadOnlySpan{T}, PagedKeyValueLayout, Span{T}, AttentionOptions?, Span{float})"/>
    /// on tensors of this backend.
    /// </summary>
    /// <typeparam name="T">Operand element type: float, Half or BFloat16 (computed in float).</typeparam>
    /// <param name="shape">The problem's sizes; <c>KeyLength</c> bounds every sequence's length.</param>
    /// <param name="query">Q, <c>[B, Hq, Lq, D]</c> in the layout of <paramref name="options"/>.</param>
    /// <param name="keyPages">K pages, <c>[numPages, PageSize, Hkv, D]</c>.</param>
    /// <param name="valuePages">V pages, <c>[numPages, PageSize, Hkv, Dv]</c>.</param>
    /// <param name="pages">The block table and each sequence's length.</param>
    /// <param name="output">O, <c>[B, Hq, Lq, Dv]</c>.</param>
    /// <param name="options">Scale, masks, layout of Q and O; null for the defaults.</param>
    /// <param name="logSumExp">Optional <c>[B, Hq, Lq]</c> log-sum-exp output.</param>
    /// <exception cref="ArgumentNullException">A required tensor or <paramref name="pages"/> is null.</exception>
    /// <exception cref="ArgumentException">As the span form, or a tensor belongs to another backend, or an output is
    /// also an input.</exception>
    /// <exception cref="ArgumentOutOfRangeException">As the span form.</exception>
    /// <exception cref="ObjectDisposedException">The backend or a tensor was disposed.</exception>
    /// <exception cref="NotSupportedException"><typeparamref name="T"/> is not an operand type, or the CUDA backend's
    /// forced kernel cannot read these pages (the message says why: a page size it does not take, say).</exception>
    public void PagedScaledDotProductAttention<T>(
        AttentionShape shape,
        AttentionTensor<T> query,
        AttentionTensor<T> keyPages,
        AttentionTensor<T> valuePages,
        PagedKeyValueLayout pages,
        AttentionTensor<T> output,
        AttentionOptions? options = null,
        AttentionTensor<float>? logSumExp = null)
        where T : unmanaged
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        ElementType.ThrowIfNotOperand<T>();
        options ??= AttentionOptions.Default;
        ThrowIfBadTensors(
            new(query, nameof(query), Required: true),
            new(keyPages, nameof(keyPages), Required: true),
            new(valuePages, nameof(valuePages), Required: true),
            new(options.Mask?.Tensor, "options.Mask"),
            new(options.Bias?.Tensor, "options.Bias"),
            new(output, nameof(output), Required: true, Written: true),
            new(logSumExp, nameof(logSumExp), Written: true));
        var mask = ScoresBytes(options.Mask);
        var bias = ScoresBytes(options.Bias);
        ThrowIfOverlapsScores(HostBytes(output), nameof(output), mask, bias);
        ThrowIfOverlapsScores(logSumExp is null ? default : HostBytes(logSumExp), nameof(logSumExp), mask, bias);
        var problem = PagedAttentionValidator.Validate(shape, options, pages, new(
            query.Length, keyPages.Length, valuePages.Length, output.Length, logSumExp?.Length ?? -1));
        RunCore(problem, query, keyPages, valuePages, output, logSumExp, null);
    }
}
