using Attention.Native.Cuda;

namespace Attention.Native.Tests;

/// <summary>
/// The CUDA backend does not read paged K/V: a paged call throws <see cref="NotSupportedException"/> naming it, after
/// the same validation as on the CPU, and writes nothing.
/// </summary>
[Trait("Device", "Cuda")]
public sealed class CudaPagedAttentionTests
{
    [Fact]
    public void Paged_calls_are_not_supported()
    {
        CudaTestEnvironment.SkipUnlessAvailable();
        using var backend = new CudaBackend();
        var shape = new AttentionShape(2, 4, 2, 1, 48, 8, 8);
        var data = PagedTestData<float>.Create(TestRandom.Create(63), shape, 16, [40, 5]);
        var output = TestData.Poison<float>(shape.OutputElementCount);
        var error = Assert.Throws<NotSupportedException>(() => backend.PagedScaledDotProductAttention<float>(
            shape, new float[shape.QueryElementCount], data.KeyPages, data.ValuePages, data.Layout, output));
        Assert.Contains("PagedKeyValueLayout", error.Message, StringComparison.Ordinal);
        Assert.All(output, x => Assert.True(float.IsNaN(x)));

        var table = data.Layout.BlockTable.ToArray();
        table[0] = 99;
        Assert.Equal("pages", Assert.Throws<ArgumentOutOfRangeException>(() => backend.PagedScaledDotProductAttention<float>(
            shape, new float[shape.QueryElementCount], data.KeyPages, data.ValuePages, data.Layout with { BlockTable = table },
            output)).ParamName);
    }
}
