using Attention.Native.Cpu;
using Attention.Native.Cpu.Gemm;
using Attention.Native.Cpu.Simd;

namespace Attention.Native.Tests.Cpu.Gemm;

/// <summary>The public-signature overload resolves its variant as the attention kernels do, environment variable included.</summary>
[Collection(ProcessEnvironmentCollection.Name)]
public sealed class CpuSgemmEnvironmentTests
{
    [Theory]
    [InlineData("Vector128")]
    [InlineData("scalar")]
    [InlineData("Vector512")]
    public void Forced_variant_matches_float64(string value) =>
        WithVariable(value, () => new SgemmProblem(true, false, 23, 41, 37) { Beta = 1.5f }.Check(CpuKernelVariant.Auto, threads: 2));

    [Fact]
    public void Unknown_variant_name_is_rejected_like_the_backend_does() =>
        WithVariable("Vector1024", () =>
        {
            float[] c = new float[4];
            var error = Assert.Throws<ArgumentException>(() =>
                CpuSgemm.Multiply(false, false, 2, 2, 2, 1f, new float[4], 2, new float[4], 2, 0f, c, 2, threads: 1));
            Assert.Contains(CpuIsa.VariantEnvironmentVariable, error.Message, StringComparison.Ordinal);
        });

    private static void WithVariable(string value, Action body)
    {
        string? saved = Environment.GetEnvironmentVariable(CpuIsa.VariantEnvironmentVariable);
        Environment.SetEnvironmentVariable(CpuIsa.VariantEnvironmentVariable, value);
        try
        {
            body();
        }
        finally
        {
            Environment.SetEnvironmentVariable(CpuIsa.VariantEnvironmentVariable, saved);
        }
    }
}
