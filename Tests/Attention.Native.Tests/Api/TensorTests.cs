using Attention.Native.Cpu;

namespace Attention.Native.Tests.Api;

/// <summary>Tensor allocation, copies in and out, in-place access and disposal on the CPU backend.</summary>
public sealed class TensorTests
{
    public static TheoryData<string> ElementTypes => new("float", "Half", "BFloat16", "bool");

    [Theory]
    [MemberData(nameof(ElementTypes))]
    public void Allocate_zero_fills(string type) =>
        ForType(type, AllocateZeroFills<float>, AllocateZeroFills<Half>, AllocateZeroFills<BFloat16>, AllocateZeroFills<bool>)();

    [Theory]
    [MemberData(nameof(ElementTypes))]
    public void CopyFrom_then_CopyTo_round_trips(string type) =>
        ForType(type, RoundTrip<float>, RoundTrip<Half>, RoundTrip<BFloat16>, RoundTrip<bool>)();

    [Fact]
    public void CopyFrom_a_longer_source_throws_and_leaves_the_tensor()
    {
        using var backend = BadCall.NewBackend();
        var values = Values<float>(TestRandom.Create(12), 10);
        using var tensor = backend.Upload<float>(values);
        var error = Assert.Throws<ArgumentException>(() => tensor.CopyFrom(new float[11]));
        Assert.Equal("source", error.ParamName);
        Assert.Equal(values, tensor.ToArray());
    }

    [Fact]
    public void CopyTo_a_longer_destination_throws_and_writes_nothing()
    {
        using var backend = BadCall.NewBackend();
        using var tensor = backend.Upload<float>(Values<float>(TestRandom.Create(13), 10));
        var destination = BadCall.Sentinels(11);
        var error = Assert.Throws<ArgumentException>(() => tensor.CopyTo(destination));
        Assert.Equal("destination", error.ParamName);
        BadCall.AssertSentinels(destination, "destination");
    }

    [Fact]
    public void ToArray_copies_every_element()
    {
        using var backend = BadCall.NewBackend();
        var values = Values<float>(TestRandom.Create(14), 1001);
        using var tensor = backend.Upload<float>(values);
        var copy = tensor.ToArray();
        Assert.Equal(values, copy);
        copy[0] = -copy[0];
        Assert.Equal(values[0], tensor.ToArray()[0]);
    }

    [Fact]
    public void Dispose_frees_the_tensor()
    {
        using var backend = BadCall.NewBackend();
        var tensor = (CpuTensor<float>)backend.Allocate<float>(64);
        Assert.False(tensor.IsDisposed);
        tensor.Dispose();
        Assert.True(tensor.IsDisposed);
        tensor.Dispose();
        Assert.True(tensor.IsDisposed);
        Assert.Throws<ObjectDisposedException>(() => tensor.CopyFrom(new float[1]));
        Assert.Throws<ObjectDisposedException>(() => tensor.CopyTo(new float[1]));
        Assert.Throws<ObjectDisposedException>(() => tensor.ToArray());
        Assert.Throws<ObjectDisposedException>(() => tensor.AsSpan());
        Assert.Equal(64, tensor.Length);
    }

    [Fact]
    public unsafe void CpuTensor_AsSpan_is_the_tensor_in_place()
    {
        using var backend = BadCall.NewBackend();
        var tensor = Assert.IsType<CpuTensor<float>>(backend.Allocate<float>(37));
        using (tensor)
        {
            Assert.Same(backend, tensor.Backend);
            var span = tensor.AsSpan();
            Assert.Equal(37, span.Length);
            fixed (float* first = span)
            {
                Assert.Equal(0, (long)first % 64);
            }

            var values = Values<float>(TestRandom.Create(15), 37);
            values.CopyTo(span);
            Assert.Equal(values, tensor.ToArray());
            tensor.CopyFrom(values.AsSpan(0, 5).ToArray().Select(x => -x).ToArray());
            Assert.Equal(-values[4], tensor.AsSpan()[4]);
            Assert.Equal(values[5], tensor.AsSpan()[5]);
        }
    }

    [Fact]
    public void Upload_of_an_empty_span_throws()
    {
        using var backend = BadCall.NewBackend();
        var error = Assert.Throws<ArgumentException>(() => backend.Upload<float>([]));
        Assert.Equal("data", error.ParamName);
    }

    private static Action ForType(string type, Action single, Action half, Action bfloat16, Action boolean) => type switch
    {
        "float" => single,
        "Half" => half,
        "BFloat16" => bfloat16,
        _ => boolean,
    };

    private static void AllocateZeroFills<T>()
        where T : unmanaged
    {
        using var backend = BadCall.NewBackend();

        // Dirty a block first: a fresh allocation of the same size is likely to get the same memory back.
        var dirty = backend.Upload<T>(Values<T>(TestRandom.Create(16), 777));
        dirty.Dispose();
        using var tensor = backend.Allocate<T>(777);
        Assert.Equal(777, tensor.Length);
        Assert.All(tensor.ToArray(), x => Assert.Equal(default, x));
    }

    private static void RoundTrip<T>()
        where T : unmanaged
    {
        using var backend = BadCall.NewBackend();
        var values = Values<T>(TestRandom.Create(17), 259);
        using var tensor = backend.Allocate<T>(300);
        tensor.CopyFrom(values);
        var prefix = new T[100];
        tensor.CopyTo(prefix);
        Assert.Equal(values[..100], prefix);
        var all = tensor.ToArray();
        Assert.Equal(values, all[..259]);
        Assert.All(all[259..], x => Assert.Equal(default, x));
    }

    /// <summary>Random values of any element type: numbers are never 0, booleans mostly true.</summary>
    private static T[] Values<T>(Random random, int length)
        where T : unmanaged =>
        typeof(T) == typeof(bool) ? (T[])(object)TestData.RandomMask(random, length) : TestData.Random<T>(random, length, 3f);
}
