using System.Runtime.InteropServices;

namespace Attention.Native.Cpu;

/// <summary>
/// Asks Linux to back a large tensor with transparent huge pages (<c>madvise(MADV_HUGEPAGE)</c>), which the kernel
/// honours in its default <c>madvise</c> mode and ignores when THP is off. A decode step reads every K and V row of a
/// head once; in a [B, L, H, D] cache consecutive rows of a head are H·D floats apart, each in its own 4 KiB page, so
/// with small pages nearly every row costs a page walk (the second-level TLB covers 8 MiB on Zen 3). PyTorch offers
/// the same for its CPU allocations (<c>THP_MEM_ALLOC_ENABLE</c>). Advice only: failure leaves ordinary pages.
/// </summary>
internal static unsafe partial class LinuxHugePages
{
    /// <summary>The x86-64 and arm64 (4 KiB base page) huge page size.</summary>
    public const nuint PageBytes = 2 << 20;

    private const int AdviseHugePage = 14;

    /// <summary>Whether a block of <paramref name="bytes"/> should ask: Linux, and at least one huge page.</summary>
    public static bool Worthwhile(nuint bytes) => OperatingSystem.IsLinux() && bytes >= PageBytes;

    /// <summary>Advises huge pages for a <see cref="PageBytes"/>-aligned block; errors are ignored.</summary>
    public static void Advise(void* memory, nuint bytes)
    {
        try
        {
            _ = Madvise(memory, bytes, AdviseHugePage);
        }
        catch (DllNotFoundException)
        {
            // A libc without the symbol (not glibc or musl): ordinary pages.
        }
        catch (EntryPointNotFoundException)
        {
        }
    }

    [LibraryImport("libc", EntryPoint = "madvise")]
    private static partial int Madvise(void* address, nuint length, int advice);
}
