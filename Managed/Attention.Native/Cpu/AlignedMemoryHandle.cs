using System.Runtime.InteropServices;

namespace Attention.Native.Cpu;

/// <summary>
/// Owns a 64-byte-aligned native block (<see cref="NativeMemory.AlignedAlloc"/>): a cache line apart, so SIMD loads
/// never straddle lines and speed does not depend on where the GC happened to put an array. Blocks of tensors of
/// 2 MiB and more can be backed by transparent huge pages (<see cref="LinuxHugePages"/>).
/// </summary>
/// <remarks>
/// A block that may outlive its call (a tensor's: the caller may leave it to the finalizer) is reported to the GC with
/// <see cref="GC.AddMemoryPressure"/>, so that a program that forgets to dispose tensors is collected by the size of
/// what they hold rather than by their small managed objects; <see cref="ReleaseHandle"/>, which the SafeHandle runs
/// exactly once, withdraws it. Kernel scratch, freed before its call returns, is not reported: it would only provoke
/// collections.
/// </remarks>
internal sealed unsafe class AlignedMemoryHandle : SafeHandle
{
    public const nuint Alignment = 64;

    private static long reportedBytes;

    private readonly bool reported;

    /// <param name="bytes">Size of the block.</param>
    /// <param name="zero">Whether to zero-fill it.</param>
    /// <param name="hugePages">Whether to ask for transparent huge pages where worthwhile.</param>
    /// <param name="gcPressure">Whether to report the block to the GC while it lives (tensors).</param>
    public AlignedMemoryHandle(nuint bytes, bool zero, bool hugePages = false, bool gcPressure = false)
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
        if (gcPressure && bytes > 0)
        {
            GC.AddMemoryPressure((long)bytes);
            Interlocked.Add(ref reportedBytes, (long)bytes);
            reported = true;
        }
    }

    /// <summary>Bytes of the blocks alive that are reported to the GC, process-wide (for tests).</summary>
    public static long ReportedBytes => Interlocked.Read(ref reportedBytes);

    public nuint Bytes { get; }

    public override bool IsInvalid => handle == IntPtr.Zero;

    public void* Pointer => (void*)handle;

    protected override bool ReleaseHandle()
    {
        NativeMemory.AlignedFree((void*)handle);
        if (reported)
        {
            GC.RemoveMemoryPressure((long)Bytes);
            Interlocked.Add(ref reportedBytes, -(long)Bytes);
        }

        return true;
    }
}
