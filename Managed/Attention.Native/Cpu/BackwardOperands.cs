namespace Attention.Native.Cpu;

/// <summary>Addresses of one backward call's operands; lengths were checked against the strides by the validator.</summary>
internal readonly unsafe struct BackwardOperands<T>
    where T : unmanaged
{
    public T* Query { get; init; }

    public T* Key { get; init; }

    public T* Value { get; init; }

    public T* Output { get; init; }

    public float* LogSumExp { get; init; }

    public T* OutputGrad { get; init; }

    public T* QueryGrad { get; init; }

    public T* KeyGrad { get; init; }

    public T* ValueGrad { get; init; }

    /// <summary>Null when not requested.</summary>
    public float* BiasGrad { get; init; }

    /// <summary><c>[Hq]</c>; null when not requested.</summary>
    public float* SinksGrad { get; init; }

    /// <summary>Null when there is no mask.</summary>
    public bool* Mask { get; init; }

    /// <summary>Null when there is no bias.</summary>
    public float* Bias { get; init; }
}
