namespace Attention.Native.Perf.Compare;

/// <summary>The operand element types <c>compare</c> measures (<c>--dtypes</c>); every one is computed in float.</summary>
internal enum OperandType
{
    /// <summary>fp32 (<c>float</c>).</summary>
    Float,

    /// <summary>IEEE fp16 (<c>half</c>).</summary>
    Half,

    /// <summary>bfloat16 (<c>bf16</c>).</summary>
    BFloat16,

    /// <summary>
    /// An int8 key/value cache (<c>int8kv</c>): fp32 Q and O, K and V as signed bytes with one float scale per
    /// (batch, KV head, key) (the layers' <c>KeyValueCacheStorage.Int8</c>), read by the CPU decode kernel; decode
    /// shapes on the CPU only.
    /// </summary>
    Int8Cache,

    /// <summary>
    /// An fp8 e4m3 key/value cache (<c>e4m3kv</c>): fp32 Q and O, K and V as OCP e4m3fn bytes with one float scale per KV
    /// head (the layers' <c>KeyValueCacheStorage.Float8E4M3</c> with calibrated scales), read by the CPU decode kernel;
    /// decode shapes on the CPU only.
    /// </summary>
    Float8Cache,
}

/// <summary>Names, sizes and error tolerances of the <see cref="OperandType"/>s.</summary>
internal static class OperandTypes
{
    /// <summary>The <c>--dtypes</c> names, in enum order.</summary>
    public static IReadOnlyList<string> Names { get; } = ["float", "half", "bf16", "int8kv", "e4m3kv"];

    public static string Name(this OperandType type) => Names[(int)type];

    /// <summary>Bytes per K or V element in memory.</summary>
    public static int Size(this OperandType type) => type switch
    {
        OperandType.Float => sizeof(float),
        OperandType.Int8Cache or OperandType.Float8Cache => sizeof(byte),
        _ => 2,
    };

    /// <summary>
    /// Bytes of K and V a call reads once: <c>B·Hkv·Lk·(D + Dv)</c> elements at <see cref="Size"/>, and for an int8
    /// cache its two float scales per (batch, KV head, key), for an e4m3 cache its two per KV head.
    /// </summary>
    public static double KeyValueBytes(this OperandType type, Workloads.PerfCase perfCase)
    {
        var s = perfCase.Shape;
        double keys = (double)s.Batch * s.KeyValueHeads * s.KeyLength;
        double scales = type switch
        {
            OperandType.Int8Cache => keys * 2,
            OperandType.Float8Cache => s.KeyValueHeads * 2,
            _ => 0,
        };
        return (keys * (s.HeadDim + s.ValueHeadDim) * type.Size()) + (scales * sizeof(float));
    }

    /// <summary>
    /// The bound on <c>‖out − ref‖ / ‖ref‖</c>, the reference computed in float64 on the same (rounded) inputs: 1e-5
    /// for float (DESIGN.md §3); for Half and BFloat16 the output is rounded to the operand type, so the bound is about
    /// its rounding error (2⁻¹¹ and 2⁻⁸ relative): 1.5e-3 and 1e-2; for an 8-bit cache the reference takes the
    /// dequantised K and V and the output is float: 1e-5.
    /// </summary>
    public static double Tolerance(this OperandType type) => type switch
    {
        OperandType.Half => 1.5e-3,
        OperandType.BFloat16 => 1e-2,
        _ => 1e-5,
    };

    /// <summary>Parses a <c>--dtypes</c> name (case-insensitive; also fp32, fp16, bfloat16).</summary>
    public static OperandType? Parse(string name) => name.ToLowerInvariant() switch
    {
        "float" or "fp32" or "float32" => OperandType.Float,
        "half" or "fp16" or "float16" => OperandType.Half,
        "bf16" or "bfloat16" => OperandType.BFloat16,
        "int8kv" or "int8" => OperandType.Int8Cache,
        "e4m3kv" or "fp8kv" or "e4m3" => OperandType.Float8Cache,
        _ => null,
    };

    /// <summary>Q, K or V converted from the random floats (round to nearest even).</summary>
    public static T[] Convert<T>(float[] values)
        where T : unmanaged
    {
        if (typeof(T) == typeof(float))
        {
            return (T[])(object)values;
        }

        if (typeof(T) == typeof(Half))
        {
            return (T[])(object)Array.ConvertAll(values, v => (Half)v);
        }

        return (T[])(object)Array.ConvertAll(values, v => (Attention.Native.BFloat16)v);
    }
}
