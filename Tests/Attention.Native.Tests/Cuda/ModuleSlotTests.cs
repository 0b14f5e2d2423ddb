using Attention.Native.Cuda;

namespace Attention.Native.Tests.Cuda;

/// <summary>A backend's kernel module is loaded once, and a load that failed is remembered rather than JIT-compiled again
/// on every call.</summary>
public sealed class ModuleSlotTests
{
    [Fact]
    public void A_loaded_module_is_kept_and_disposed_with_the_slot()
    {
        var loads = new Counter();
        var slot = new ModuleSlot<Module>();
        var first = slot.Get(loads, static c => c.Load(new Module()));
        Assert.Same(first, slot.Get(loads, static c => c.Load(new Module())));
        Assert.Equal(1, loads.Count);
        slot.Dispose();
        Assert.True(first.Disposed);
    }

    [Fact]
    public void A_failed_load_is_remembered_and_not_tried_again()
    {
        var loads = new Counter();
        var slot = new ModuleSlot<Module>();
        static Module Fail(Counter c) => c.Load<Module>(new CudaException(218, "cuModuleLoadDataEx", "Module x.ptx: JIT error log: bad"));
        var first = Assert.Throws<CudaException>(() => slot.Get(loads, Fail));
        var second = Assert.Throws<CudaException>(() => slot.Get(loads, Fail));
        Assert.Same(first, second);
        Assert.Equal("CUDA_ERROR_INVALID_PTX", second.ResultName);
        Assert.Equal(1, loads.Count);
        Assert.Throws<CudaException>(() => slot.Get(loads, static c => c.Load(new Module())));
        Assert.Equal(1, loads.Count);
    }

    [Fact]
    public void Missing_ptx_is_remembered_but_a_disposed_backend_is_not()
    {
        var loads = new Counter();
        var missing = new ModuleSlot<Module>();
        Assert.Throws<InvalidOperationException>(() => missing.Get(loads, static c => c.Load<Module>(new InvalidOperationException("no PTX"))));
        Assert.Throws<InvalidOperationException>(() => missing.Get(loads, static c => c.Load(new Module())));
        Assert.Equal(1, loads.Count);

        var disposed = new ModuleSlot<Module>();
        Assert.Throws<ObjectDisposedException>(() => disposed.Get(loads, static c => c.Load<Module>(new ObjectDisposedException("backend"))));
        Assert.NotNull(disposed.Get(loads, static c => c.Load(new Module())));
        Assert.Equal(3, loads.Count);
    }

    private sealed class Module : IDisposable
    {
        public bool Disposed { get; private set; }

        public void Dispose() => Disposed = true;
    }

    private sealed class Counter
    {
        public int Count { get; private set; }

        public Module Load(Module module)
        {
            Count++;
            return module;
        }

        public T Load<T>(Exception failure)
        {
            Count++;
            throw failure;
        }
    }
}
