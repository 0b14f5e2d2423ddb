using System.Runtime.CompilerServices;
using Attention.Native.Cpu;
using Attention.Native.Cpu.Simd;

namespace Attention.Native;

/// <summary>The element types attention operands may have, and conversions to and from float.</summary>
internal static class ElementType
{
    /// <summary>Throws unless <typeparamref name="T"/> is float, Half or BFloat16.</summary>
    public static void ThrowIfNotOperand<T>()
    {
        if (typeof(T) != typeof(float) && typeof(T) != typeof(Half) && typeof(T) != typeof(BFloat16))
        {
            throw new NotSupportedException(
                $"Element type {typeof(T).Name} is not supported for attention operands; use float, Half or BFloat16.");
        }
    }

    /// <summary>Throws unless <typeparamref name="T"/> is an operand type or bool (masks).</summary>
    public static void ThrowIfNotStorable<T>()
    {
        if (typeof(T) != typeof(bool))
        {
            ThrowIfNotOperand<T>();
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float ToSingle<T>(T value)
    {
        if (typeof(T) == typeof(float))
        {
            return Unsafe.As<T, float>(ref value);
        }

        if (typeof(T) == typeof(Half))
        {
            return (float)Unsafe.As<T, Half>(ref value);
        }

        return Unsafe.As<T, BFloat16>(ref value);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T FromSingle<T>(float value)
    {
        if (typeof(T) == typeof(float))
        {
            return Unsafe.As<float, T>(ref value);
        }

        if (typeof(T) == typeof(Half))
        {
            var h = (Half)value;
            return Unsafe.As<Half, T>(ref h);
        }

        var b = (BFloat16)value;
        return Unsafe.As<BFloat16, T>(ref b);
    }

    /// <summary>
    /// Widens <paramref name="source"/> to floats (exact for every operand type) in the CPU <paramref name="variant"/>
    /// (<see cref="CpuKernelVariant.Auto"/>: as <see cref="CpuIsa.Resolve"/> picks it).
    /// </summary>
    public static unsafe void Widen<T>(CpuKernelVariant variant, ReadOnlySpan<T> source, Span<float> destination)
        where T : unmanaged
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(destination.Length, source.Length, nameof(destination));
        fixed (T* from = source)
        fixed (float* to = destination)
        {
            var conversion = new Conversion<T>(to, from, source.Length, widens: true);
            CpuIsa.Dispatch(variant, ref conversion);
        }
    }

    /// <summary>
    /// Rounds <paramref name="source"/> to <typeparamref name="T"/> (to nearest, ties to even) in the CPU
    /// <paramref name="variant"/> (<see cref="CpuKernelVariant.Auto"/>: as <see cref="CpuIsa.Resolve"/> picks it).
    /// </summary>
    public static unsafe void Narrow<T>(CpuKernelVariant variant, ReadOnlySpan<float> source, Span<T> destination)
        where T : unmanaged
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(destination.Length, source.Length, nameof(destination));
        fixed (float* from = source)
        fixed (T* to = destination)
        {
            var conversion = new Conversion<T>(from, to, source.Length, widens: false);
            CpuIsa.Dispatch(variant, ref conversion);
        }
    }

    /// <summary>One <see cref="HalfPrecisionConversions{TOps, TVec}"/> call, either way.</summary>
    private readonly unsafe struct Conversion<T>(float* floats, T* elements, int count, bool widens) : ISimdKernel
        where T : unmanaged
    {
        public void Run<TOps, TVec>()
            where TOps : ISimd<TVec>
            where TVec : unmanaged
        {
            if (widens)
            {
                HalfPrecisionConversions<TOps, TVec>.Widen(elements, floats, count);
            }
            else
            {
                HalfPrecisionConversions<TOps, TVec>.Narrow(floats, elements, count);
            }
        }
    }
}
