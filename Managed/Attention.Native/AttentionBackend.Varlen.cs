using System.Runtime.InteropServices;
using Attention.Native.Validation;

namespace Attention.Native;

/// <summary>The variable-length (FlashAttention <c>varlen</c>) form of <see cref="AttentionBackend"/>'s attention.</summary>
public abstract partial class AttentionBackend
{
    /// <summary>
    /// Computes attention over <see cref="VarlenAttentionShape.Batch"/> sequences packed without padding: sequence
    /// <c>b</c> is the padded call's batch entry <c>b</c> with <c>Lq = cuSeqlensQ[b+1] − cuSeqlensQ[b]</c> and
    /// <c>Lk = cuSeqlensK[b+1] − cuSeqlensK[b]</c>, every option applied with its own lengths (bottom-right causal over
    /// a sequence's cached keys is chunked prefill).
    /// </summary>
    /// <typeparam name="T">Operand element type: float, Half or BFloat16 (computed in float).</typeparam>
    /// <param name="shape">Heads, head dims, the batch and the longest sequence's lengths.</param>
    /// <param name="cuSeqlensQ">Cumulative query offsets, B + 1 non-decreasing entries from at least 0.</param>
    /// <param name="cuSeqlensK">Cumulative key offsets, B + 1 non-decreasing entries from at least 0.</param>
    /// <param name="query">Q, <c>[total_q, Hq, D]</c> contiguous.</param>
    /// <param name="key">K, <c>[total_k, Hkv, D]</c> contiguous.</param>
    /// <param name="value">V, <c>[total_k, Hkv, Dv]</c> contiguous.</param>
    /// <param name="output">O, <c>[total_q, Hq, Dv]</c>; rows that see no key (and every row of a sequence without
    /// keys) are set to 0.</param>
    /// <param name="options">Scale, causal mask, window, soft cap, sinks; null for the defaults. The layout is the
    /// packing's: <see cref="AttentionOptions.Layout"/> is not consulted.</param>
    /// <param name="logSumExp">Optional <c>[Hq, total_q]</c> log-sum-exp (−∞ for a row that sees no key, or its sink).</param>
    /// <exception cref="ArgumentNullException">A required tensor is null.</exception>
    /// <exception cref="ArgumentException">An offset array is not B + 1 non-decreasing entries from 0 up, a sequence is
    /// longer than the shape's maximum, a tensor is shorter than its packed rows, explicit strides or
    /// <see cref="AttentionOptions.KeyLengths"/> are given, a tensor belongs to another backend, or an output is also an
    /// input (the message names the parameter).</exception>
    /// <exception cref="ArgumentOutOfRangeException">A shape dimension or an option is out of its range.</exception>
    /// <exception cref="ObjectDisposedException">The backend or a tensor was disposed.</exception>
    /// <exception cref="NotSupportedException"><typeparamref name="T"/> is not an operand type, or
    /// <see cref="AttentionOptions.Mask"/> or <see cref="AttentionOptions.Bias"/> is set.</exception>
    public void ScaledDotProductAttentionVarlen<T>(
        VarlenAttentionShape shape,
        ReadOnlySpan<int> cuSeqlensQ,
        ReadOnlySpan<int> cuSeqlensK,
        AttentionTensor<T> query,
        AttentionTensor<T> key,
        AttentionTensor<T> value,
        AttentionTensor<T> output,
        AttentionOptions? options = null,
        AttentionTensor<float>? logSumExp = null)
        where T : unmanaged
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        ElementType.ThrowIfNotOperand<T>();
        ThrowIfBadTensors(
            new(query, nameof(query), Required: true),
            new(key, nameof(key), Required: true),
            new(value, nameof(value), Required: true),
            new(output, nameof(output), Required: true, Written: true),
            new(logSumExp, nameof(logSumExp), Written: true));
        var problem = VarlenValidator.Validate(shape, cuSeqlensQ, cuSeqlensK, options ?? AttentionOptions.Default, new(
            query.Length, key.Length, value.Length, output.Length, logSumExp?.Length ?? -1, -1));
        if (problem.Varlen!.TotalQuery > 0)
        {
            RunCore(problem, query, key, value, output, logSumExp, null);
        }
    }

    /// <summary>The varlen call on host memory (see the tensor overload); a GPU backend copies the packed rows in and
    /// the results out.</summary>
    /// <typeparam name="T">Operand element type: float, Half or BFloat16 (computed in float).</typeparam>
    /// <param name="shape">Heads, head dims, the batch and the longest sequence's lengths.</param>
    /// <param name="cuSeqlensQ">Cumulative query offsets, B + 1 non-decreasing entries from at least 0.</param>
    /// <param name="cuSeqlensK">Cumulative key offsets, B + 1 non-decreasing entries from at least 0.</param>
    /// <param name="query">Q, <c>[total_q, Hq, D]</c>.</param>
    /// <param name="key">K, <c>[total_k, Hkv, D]</c>.</param>
    /// <param name="value">V, <c>[total_k, Hkv, Dv]</c>.</param>
    /// <param name="output">O, <c>[total_q, Hq, Dv]</c>; must not overlap an input.</param>
    /// <param name="options">Scale, causal mask, window, soft cap, sinks; null for the defaults.</param>
    /// <param name="logSumExp">Optional <c>[Hq, total_q]</c> log-sum-exp; empty when not wanted.</param>
    /// <exception cref="ArgumentException">An offset array, a length or an option is invalid, or an output overlaps an
    /// input or the other output (the message names the parameter).</exception>
    /// <exception cref="ArgumentOutOfRangeException">A shape dimension or an option is out of its range.</exception>
    /// <exception cref="ObjectDisposedException">The backend was disposed.</exception>
    /// <exception cref="NotSupportedException"><typeparamref name="T"/> is not an operand type, or
    /// <see cref="AttentionOptions.Mask"/> or <see cref="AttentionOptions.Bias"/> is set.</exception>
    public void ScaledDotProductAttentionVarlen<T>(
        VarlenAttentionShape shape,
        ReadOnlySpan<int> cuSeqlensQ,
        ReadOnlySpan<int> cuSeqlensK,
        ReadOnlySpan<T> query,
        ReadOnlySpan<T> key,
        ReadOnlySpan<T> value,
        Span<T> output,
        AttentionOptions? options = null,
        Span<float> logSumExp = default)
        where T : unmanaged
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        ElementType.ThrowIfNotOperand<T>();
        ThrowIfOutputsOverlap(MemoryMarshal.AsBytes(query), MemoryMarshal.AsBytes(key), MemoryMarshal.AsBytes(value),
            MemoryMarshal.AsBytes((ReadOnlySpan<T>)output), MemoryMarshal.AsBytes((ReadOnlySpan<float>)logSumExp), default);

        var problem = VarlenValidator.Validate(shape, cuSeqlensQ, cuSeqlensK, options ?? AttentionOptions.Default, new(
            query.Length, key.Length, value.Length, output.Length, logSumExp.IsEmpty ? -1 : logSumExp.Length, -1));
        if (problem.Varlen!.TotalQuery > 0)
        {
            RunCore(problem, query, key, value, output, logSumExp, default);
        }
    }
}
