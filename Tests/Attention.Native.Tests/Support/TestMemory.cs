using System.Buffers;
using System.Runtime.InteropServices;

namespace Attention.Native.Tests.Support;

/// <summary>
/// A <see cref="Memory{T}"/> over memory the test owns and keeps alive (a pinned array, a CPU tensor, a native block):
/// how two operands of different element types come to share bytes.
/// </summary>
internal sealed unsafe class PointerMemory<T>(void* pointer, int length) : MemoryManager<T>
    where T : unmanaged
{
    public override Span<T> GetSpan() => new(pointer, length);

    public override MemoryHandle Pin(int elementIndex = 0) => new((T*)pointer + elementIndex);

    public override void Unpin()
    {
    }

    protected override void Dispose(bool disposing)
    {
    }
}

/// <summary>
/// Memory whose first read after <see cref="Arm"/> blocks until <see cref="Release"/>: a layer call that reads it (its
/// masks) is held inside the layer while the test makes a second call.
/// </summary>
internal sealed unsafe class BlockingMemory<T>(T[] values) : MemoryManager<T>
    where T : unmanaged
{
    private int armed;

    public ManualResetEventSlim Entered { get; } = new();

    public ManualResetEventSlim Released { get; } = new();

    /// <summary>Makes the next read block (<see cref="MemoryManager{T}.Memory"/> itself reads once, unarmed).</summary>
    public void Arm() => Volatile.Write(ref armed, 1);

    public void Release() => Released.Set();

    public override Span<T> GetSpan()
    {
        if (Interlocked.Exchange(ref armed, 0) == 1)
        {
            Entered.Set();
            if (!Released.Wait(TimeSpan.FromSeconds(60)))
            {
                throw new TimeoutException("The test never released the blocked call.");
            }
        }

        return values;
    }

    public override MemoryHandle Pin(int elementIndex = 0)
    {
        var handle = GCHandle.Alloc(values, GCHandleType.Pinned);
        return new MemoryHandle((T*)handle.AddrOfPinnedObject() + elementIndex, handle);
    }

    public override void Unpin()
    {
    }

    protected override void Dispose(bool disposing)
    {
        Entered.Dispose();
        Released.Dispose();
    }
}
