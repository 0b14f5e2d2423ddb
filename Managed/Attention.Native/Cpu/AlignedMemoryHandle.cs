using System.Runtime.InteropServices;

namespace Attention.Native.Cpu;

/// <summary>
/// Owns a 64-byte-aligned native block (<see cref="NativeMemory.AlignedAlloc"/>): a cache line apart, so SIMD loads
/// never straddle lines and speed does not depend on where the GC happened to put an array.
/// </summary>
internal sealed unsafe class AlignedMemoryHandle : SafeHandle
{
    public const nuint Alignment = 64;

    public AlignedMemoryHandle(nuint bytes, bool zero)
        : base(IntPtr.Zero, ownsHandle: true)
    {
        void* memory = NativeMemory.AlignedAlloc(Math.Max(bytes, 1), Alignment);
        if (zero)
        {
            NativeMemory.Clear(memory, bytes);
        }

        SetHandle((IntPtr)memory);
        Bytes = bytes;
    }

    public nuint Bytes { get; }

    public override bool IsInvalid => handle == IntPtr.Zero;

    public void* Pointer => (void*)handle;

    protected override bool ReleaseHandle()
    {
        NativeMemory.AlignedFree((void*)handle);
        return true;
    }
}
