namespace Attention.Native.Cpu;

/// <summary>Addresses of one call's operands; lengths were checked against the strides by the validator.</summary>
internal readonly unsafe struct Operands<T>
    where T : unmanaged
{
    public T* Query { get; init; }

    public T* Key { get; init; }

    public T* Value { get; init; }

    public T* Output { get; init; }

    /// <summary>Null when not requested.</summary>
    public float* LogSumExp { get; init; }

    /// <summary>Null when not requested.</summary>
    public float* Probabilities { get; init; }

    /// <summary>Null when there is no mask.</summary>
    public bool* Mask { get; init; }

    /// <summary>Null when there is no bias.</summary>
    public float* Bias { get; init; }
}
