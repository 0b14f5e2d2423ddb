using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
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

    /// <summary>Widens <paramref name="source"/> to floats (exact for every operand type; vectorised).</summary>
    public static unsafe void Widen<T>(ReadOnlySpan<T> source, Span<float> destination)
        where T : unmanaged
    {
        if (typeof(T) == typeof(float))
        {
            MemoryMarshal.Cast<T, float>(source).CopyTo(destination);
            return;
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(destination.Length, source.Length, nameof(destination));
        fixed (T* from = source)
        fixed (float* to = destination)
        {
            HalfPrecisionConversions.Widen(from, to, source.Length);
        }
    }

    /// <summary>Rounds <paramref name="source"/> to <typeparamref name="T"/> (to nearest, ties to even; vectorised).</summary>
    public static unsafe void Narrow<T>(ReadOnlySpan<float> source, Span<T> destination)
        where T : unmanaged
    {
        if (typeof(T) == typeof(float))
        {
            source.CopyTo(MemoryMarshal.Cast<T, float>(destination));
            return;
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(destination.Length, source.Length, nameof(destination));
        fixed (float* from = source)
        fixed (T* to = destination)
        {
            HalfPrecisionConversions.Narrow(from, to, source.Length);
        }
    }
}
