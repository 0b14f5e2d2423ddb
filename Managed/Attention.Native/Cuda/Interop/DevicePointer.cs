namespace Attention.Native.Cuda.Interop;

/// <summary>
/// A typed device address (<c>CUdeviceptr</c>). Kernel launchers generated from the <c>.cu</c> signatures take these,
/// so passing a <c>Half</c> buffer where the kernel expects <c>float*</c> is a compile-time error.
/// </summary>
/// <typeparam name="T">The element type the kernel reads or writes.</typeparam>
/// <param name="Address">The device address; 0 is null (optional outputs).</param>
internal readonly record struct DevicePointer<T>(ulong Address)
    where T : unmanaged
{
    /// <summary>The null pointer, for optional kernel arguments.</summary>
    public static DevicePointer<T> Null => default;

    public bool IsNull => Address == 0;

    /// <summary>The address <paramref name="elements"/> elements further.</summary>
    public unsafe DevicePointer<T> Offset(long elements) => new(Address + (ulong)(elements * sizeof(T)));
}
