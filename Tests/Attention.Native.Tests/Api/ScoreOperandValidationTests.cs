using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Attention.Native.Cpu;
using Attention.Native.Cuda;

namespace Attention.Native.Tests.Api;

/// <summary>
/// Validation of what is applied to the scores (mask, bias, soft cap) on each backend: a mask or bias must hold exactly
/// the planes its declared broadcast shape has, no output may share memory with a mask or bias (the kernels read them
/// while writing), and a soft cap must have a finite reciprocal. Each rejected call writes nothing.
/// </summary>
public abstract class ScoreOperandValidationTests
{
    private static readonly AttentionShape Valid = BadCall.ValidShape;

    /// <summary>Elements of one Lq×Lk mask or bias plane.</summary>
    private static readonly long Plane = (long)Valid.QueryLength * Valid.KeyLength;

    /// <summary>A plane per (batch, query head): as long as the probabilities, longer than the output and the log-sum-exp.</summary>
    private static readonly long AllPlanes = Valid.ProbabilitiesElementCount;

    public static TheoryData<string> Outputs => new("output", "logSumExp", "probabilities");

    [Theory]
    [InlineData(false, 1, 1, 12)] // a plane per (batch, head), declared as one shared plane
    [InlineData(true, 1, 1, 12)]
    [InlineData(true, 3, 1, 12)] // per batch and head, declared per batch only
    [InlineData(false, 1, 4, 12)] // per batch and head, declared per head only
    [InlineData(true, 1, 1, 2)] // one plane too many
    public void Mask_or_bias_longer_than_its_declared_shape(bool bias, int batch, int heads, int planes)
    {
        using var backend = CreateBackend();
        var call = BadCall.WithScores(bias, batch, heads, planes * Plane);
        var errors = BadCall.Rejected<ArgumentException>(backend, call, $"options.{Name(bias)}", "options");
        Assert.All(errors, e => Assert.Contains($"exactly {batch * heads * Plane}", e.Message, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Mask_or_bias_tensor_longer_than_its_declared_shape(bool bias)
    {
        using var backend = CreateBackend();
        using var mask = backend.Upload<bool>(TestData.RandomMask(TestRandom.Create(11), AllPlanes));
        using var values = backend.Upload<float>(TestData.RandomBias(TestRandom.Create(11), AllPlanes));
        var call = new BadCall { Options = bias ? new() { Bias = new(values) } : new() { Mask = new(mask) } };
        BadCall.Rejected<ArgumentException>(backend, call, $"options.{Name(bias)}", "options");
    }

    [Theory]
    [InlineData(float.Epsilon)]
    [InlineData(1e-40f)]
    [InlineData(1.1754942E-38f)] // the largest subnormal float
    public void Softcap_whose_reciprocal_overflows(float softcap)
    {
        using var backend = CreateBackend();
        var errors = BadCall.Rejected<ArgumentOutOfRangeException>(
            backend, new BadCall { Options = new() { Softcap = softcap } }, "options.Softcap", "options");
        Assert.All(errors, e => Assert.Contains("smallest normal float", e.Message, StringComparison.Ordinal));
    }

    [Theory]
    [MemberData(nameof(Outputs))]
    public void Output_span_overlapping_a_host_bias(string written)
    {
        using var backend = CreateBackend();
        var call = new BadCall();
        var host = new HostOperands(call);
        int length = Target(host, written).Length;

        // One buffer holds the bias and then sentinels; the output starts on the bias's last element.
        var buffer = BadCall.Sentinels(AllPlanes + length);
        TestData.RandomBias(TestRandom.Create(11), AllPlanes).CopyTo(buffer, 0);
        var before = (float[])buffer.Clone();
        var options = new AttentionOptions { Bias = new(buffer.AsMemory(0, (int)AllPlanes), Valid.Batch, Valid.QueryHeads) };
        var error = Assert.Throws<ArgumentException>(() =>
        {
            var aliased = buffer.AsSpan((int)AllPlanes - 1, length);
            backend.ScaledDotProductAttention<float>(
                call.Shape, host.Query, host.Key, host.Value, written == "output" ? aliased : host.Output, options,
                written == "logSumExp" ? aliased : host.LogSumExp, written == "probabilities" ? aliased : host.Probabilities);
        });
        BadCall.AssertNames(error, "options.Bias", written);
        Assert.Equal(before, buffer);
        host.AssertOutputsUntouched();
    }

    [Fact]
    public unsafe void Output_span_under_a_host_mask()
    {
        // A boolean mask over the output's own bytes: the kernels would read attend flags they have overwritten.
        using var backend = CreateBackend();
        var call = new BadCall();
        var host = new HostOperands(call);
        var pinned = GCHandle.Alloc(host.Output, GCHandleType.Pinned);
        try
        {
            var mask = new PointerMemory<bool>((void*)pinned.AddrOfPinnedObject(), (int)Plane);
            var options = new AttentionOptions { Mask = new(mask.Memory) };
            var error = Assert.Throws<ArgumentException>(() => backend.ScaledDotProductAttention<float>(
                call.Shape, host.Query, host.Key, host.Value, host.Output, options, host.LogSumExp, host.Probabilities));
            BadCall.AssertNames(error, "options.Mask", "output");
        }
        finally
        {
            pinned.Free();
        }

        host.AssertOutputsUntouched();
    }

    [Theory]
    [MemberData(nameof(Outputs))]
    public void Output_tensor_that_is_the_bias_tensor(string written)
    {
        using var backend = CreateBackend();
        var call = new BadCall();
        using var tensors = new TensorOperands(new HostOperands(call), _ => backend);
        var bias = TestData.RandomBias(TestRandom.Create(11), AllPlanes);
        using var aliased = backend.Upload<float>(bias);
        call = call with { Options = new() { Bias = new(aliased, Valid.Batch, Valid.QueryHeads) } };
        var error = Assert.Throws<ArgumentException>(() => tensors.Run(
            backend, call, written == "output" ? aliased : null, written == "logSumExp" ? aliased : null,
            written == "probabilities" ? aliased : null));
        BadCall.AssertNames(error, "options.Bias", written);
        Assert.Equal(bias, aliased.ToArray());
        tensors.AssertOutputsUntouched();
    }

    protected abstract AttentionBackend CreateBackend();

    private static string Name(bool bias) => bias ? nameof(AttentionOptions.Bias) : nameof(AttentionOptions.Mask);

    private static float[] Target(HostOperands host, string written) =>
        written switch { "output" => host.Output, "logSumExp" => host.LogSumExp, _ => host.Probabilities };
}

/// <summary>The score operands' validation on the CPU backend, and the one aliasing only host tensors allow.</summary>
public sealed class CpuScoreOperandValidationTests : ScoreOperandValidationTests
{
    [Fact]
    public unsafe void Output_tensor_under_a_host_memory_bias()
    {
        // A host-memory bias that is a view of the output tensor's memory: the tensors differ, the bytes do not.
        using var backend = CreateBackend();
        var call = new BadCall();
        using var tensors = new TensorOperands(new HostOperands(call), _ => backend);
        var output = (CpuTensor<float>)backend.Upload<float>(TestData.RandomBias(TestRandom.Create(11), BadCall.ValidShape.ProbabilitiesElementCount));
        using (output)
        {
            var before = output.ToArray();
            var view = new PointerMemory<float>(Unsafe.AsPointer(ref MemoryMarshal.GetReference(output.AsSpan())), (int)output.Length);
            call = call with { Options = new() { Bias = new(view.Memory, BadCall.ValidShape.Batch, BadCall.ValidShape.QueryHeads) } };
            var error = Assert.Throws<ArgumentException>(() => tensors.Run(backend, call, output));
            BadCall.AssertNames(error, "options.Bias", "output");
            Assert.Equal(before, output.ToArray());
        }
    }

    protected override AttentionBackend CreateBackend() => BadCall.NewBackend();
}

/// <summary>The score operands' validation on the CUDA backend; skipped, with the reason, without a device.</summary>
[Trait("Device", "Cuda")]
public sealed class CudaScoreOperandValidationTests : ScoreOperandValidationTests
{
    protected override AttentionBackend CreateBackend()
    {
        CudaTestEnvironment.SkipUnlessAvailable();
        return new CudaBackend();
    }
}
