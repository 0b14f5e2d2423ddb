using System.Runtime.InteropServices;

namespace Attention.Native.Cpu;

/// <summary>
/// Owns a 64-byte-aligned native block (<see cref="NativeMemory.AlignedAlloc"/>): a cache line apart, so SIMD loads
/// never straddle lines and speed does not depend on where the GC happened to put an array. Blocks of tensors of
/// 2 MiB and more can be backed by transparent huge pages (<see cref="LinuxHugePages"/>).
/// </summary>
internal sealed unsafe class AlignedMemoryHandle : SafeHandle
{
    public const nuint Alignment = 64;

    public AlignedMemoryHandle(nuint bytes, bool zero, bool hugePages = false)
        : base(IntPtr.Zero, ownsHandle: true)
    {
        bool huge = hugePages && LinuxHugePages.Worthwhile(bytes);
        void* memory = NativeMemory.AlignedAlloc(Math.Max(bytes, 1), huge ? LinuxHugePages.PageBytes : Alignment);
        if (huge)
        {
            // Before the first touch: the pages are then faulted in as huge pages.
            LinuxHugePages.Advise(memory, bytes);
        }

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
