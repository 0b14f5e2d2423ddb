using System.Globalization;
using System.Text.RegularExpressions;
using Attention.Native.Cuda.Interop;
using Attention.Native.Cuda.Mma;
using Attention.Native.Cuda;
using Attention.Native.Reference;
using Attention.Native.Validation;

namespace Attention.Native.Tests.Cuda;

/// <summary>
/// The mma kernel <c>attention_mma</c> forced on the backend (<see cref="CudaAttention"/> with
/// <see cref="CudaAttentionKernel.Mma"/>): every
/// <see cref="CaseCatalog"/> case it supports, in Half and BFloat16 (relative error ≤ 1e-2) and in float on the TF32
/// kernel (≤ 5e-4, the bound <see cref="CudaBackendOptions.AllowTensorFloat32"/> documents for scores of ordinary
/// size; the huge-score cases are skipped for it), against the float64 reference (fully masked rows exactly 0 with lse −∞, no NaN, nothing written
/// outside the output view); skipped without a device. The geometry, support rules and launcher parameter lists are
/// checked without one.
/// </summary>
[Trait("Device", "Cuda")]
public sealed partial class MmaAttentionTests
{
    private static readonly KernelLimits H200Like = new(MaxDynamicSharedBytes: 232448, MaxGridY: 65535, MaxGridZ: 65535);

    public static TheoryData<string> AllCases => CaseCatalog.Names();

    [CudaTheory]
    [MemberData(nameof(AllCases))]
    public void Half_matches_reference(string name) => Check<Half>(CaseCatalog.Get(name));

    [CudaTheory]
    [MemberData(nameof(AllCases))]
    public void BFloat16_matches_reference(string name) => Check<BFloat16>(CaseCatalog.Get(name));

    [CudaTheory]
    [MemberData(nameof(AllCases))]
    public void Float_on_tf32_matches_reference(string name)
    {
        var c = CaseCatalog.Get(name);
        // The 5e-4 bound is for scores of ordinary size: TF32 moves a score by up to 2^-10 of scale · Σ|q·k|, which
        // for the huge-score cases (about 1e5) reorders the softmax itself.
        Assert.SkipWhen(c.Amplitude > 10, "TF32 does not hold 5e-4 on huge scores (AllowTensorFloat32's documented limit).");
        Check<float>(c, 5e-4);
    }

    [Theory]
    [InlineData(1, 1, 32)]
    [InlineData(32, 32, 32)]
    [InlineData(33, 8, 64)]
    [InlineData(64, 100, 128)]
    [InlineData(129, 96, 160)]
    [InlineData(200, 200, 256)]
    [InlineData(256, 1, 256)]
    public void Bucket_is_the_smallest_that_holds_both_head_dims(int headDim, int valueHeadDim, int bucket) =>
        Assert.Equal(bucket, AttentionMmaGeometry.TileFor(headDim, valueHeadDim)!.Value.HeadDim);

    [Theory]
    [InlineData(1, 1, 32)]
    [InlineData(33, 8, 64)]
    [InlineData(129, 96, 160)]
    [InlineData(256, 1, 256)]
    public void Tf32_bucket_is_the_smallest_that_holds_both_head_dims(int headDim, int valueHeadDim, int bucket)
    {
        var tile = AttentionMmaGeometry.TileFor(headDim, valueHeadDim, typeof(float))!.Value;
        Assert.Equal(bucket, tile.HeadDim);
        Assert.Contains(tile, AttentionMmaGeometry.Tf32Tiles);
    }

    [Theory]
    [InlineData(typeof(Half))]
    [InlineData(typeof(float))]
    public void Tiles_fit_A100_shared_memory_and_their_launch_matches_the_tile(Type elementType)
    {
        foreach (var tile in AttentionMmaGeometry.TilesFor(elementType))
        {
            Assert.True(tile.SharedBytes <= 163 * 1024, $"{tile} needs {tile.SharedBytes} bytes");
            Assert.Equal(0, tile.BlockM % (16 * tile.Warps));
            var problem = Problem(new(2, 6, 3, 300, 70, tile.HeadDim, tile.HeadDim - 5));
            var (chosen, c) = AttentionMmaGeometry.Configure(problem, H200Like, stream: 7, elementType);
            Assert.Equal(tile, chosen);
            Assert.Equal(((300 + tile.BlockM - 1) / tile.BlockM, 6, 2), ((int)c.GridX, (int)c.GridY, (int)c.GridZ));
            Assert.Equal(((uint)tile.Threads, 1u, 1u), (c.BlockX, c.BlockY, c.BlockZ));
            Assert.Equal((uint)tile.SharedBytes, c.SharedMemoryBytes);
        }

        Assert.Throws<NotSupportedException>(() => AttentionMmaGeometry.Configure(Problem(new(1, 1, 1, 4, 4, 257, 8)), H200Like, 0));
        var small = H200Like with { MaxDynamicSharedBytes = 48 * 1024 };
        var error = Assert.Throws<NotSupportedException>(() => AttentionMmaGeometry.Configure(Problem(new(1, 1, 1, 4, 4, 128, 128)), small, 0));
        Assert.Contains("shape.HeadDim = 128", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Supports_names_what_it_cannot_take()
    {
        var plain = Problem(new(1, 2, 2, 9, 9, 64, 64));
        Assert.True(AttentionMmaGeometry.Supports<Half>(plain, out string? none), none);
        Assert.True(AttentionMmaGeometry.Supports<BFloat16>(plain, out _));
        Assert.True(AttentionMmaGeometry.Supports<float>(plain, out _));
        Assert.False(AttentionMmaGeometry.Supports<double>(plain, out string? f64));
        Assert.Contains("Double", f64, StringComparison.Ordinal);
        Assert.False(AttentionMmaGeometry.Supports<Half>(Problem(new(1, 1, 1, 4, 4, 264, 8)), out string? wide));
        Assert.Contains("shape.HeadDim = 264", wide, StringComparison.Ordinal);
        var odd = new AttentionShape(1, 1, 1, 4, 4, 33, 33);
        Assert.False(AttentionMmaGeometry.Supports<Half>(Problem(odd), out string? strides));
        Assert.Contains("query", strides, StringComparison.Ordinal);
        var floatRows = new AttentionShape(1, 1, 1, 4, 4, 36, 36);
        Assert.True(AttentionMmaGeometry.Supports<float>(Problem(floatRows), out _));
        Assert.False(AttentionMmaGeometry.Supports<Half>(Problem(floatRows), out _));
        Assert.False(AttentionMmaGeometry.Supports<float>(Problem(new(1, 1, 1, 4, 4, 34, 34)), out string? floatStrides));
        Assert.Contains("multiples of 4 elements", floatStrides, StringComparison.Ordinal);
        var probabilities = AttentionValidator.Validate(plain.Shape, AttentionOptions.Default, new(
            plain.Shape.QueryElementCount, plain.Shape.KeyElementCount, plain.Shape.ValueElementCount,
            plain.Shape.OutputElementCount, -1, plain.Shape.ProbabilitiesElementCount));
        Assert.False(AttentionMmaGeometry.Supports<Half>(probabilities, out string? probs));
        Assert.Contains("probabilities", probs, StringComparison.Ordinal);
    }

    /// <summary>
    /// Every bucket's entry points take attention_simt's parameter struct with their own element type, so one
    /// <see cref="AttentionParams{T}"/> launches whichever bucket was prepared.
    /// </summary>
    [Fact]
    public void Every_bucket_takes_the_attention_params()
    {
        foreach ((string f16, string bf16) in AttentionMmaKernels.EntryPoints)
        {
            Assert.Contains(f16, AttentionParams<Half>.Kernels);
            Assert.Contains(bf16, AttentionParams<BFloat16>.Kernels);
        }

        Assert.All(AttentionMmaKernels.Tf32EntryPoints, f32 => Assert.Contains(f32, AttentionParams<float>.Kernels));
        Assert.Equal(
            AttentionMmaGeometry.Tiles.Select(t => ($"attention_mma_d{t.HeadDim}_f16", $"attention_mma_d{t.HeadDim}_bf16")),
            AttentionMmaKernels.EntryPoints);
        Assert.Equal(AttentionMmaGeometry.Tf32Tiles.Select(t => $"attention_mma_d{t.HeadDim}_f32"), AttentionMmaKernels.Tf32EntryPoints);
    }

    /// <summary>
    /// The managed tiles launch what each entry point's own tile asks for: the block size and dynamic shared memory
    /// every entry declares in its PTX (<c>// kernel-report: threads N dynamic-smem B</c>, written by
    /// Native/kernel_report.cuh from the native Tile's constants) equal <see cref="AttentionMmaTile.Threads"/> and
    /// <see cref="AttentionMmaTile.SharedBytes"/>, so a tile changed on one side only fails here, not on a GPU.
    /// </summary>
    [Fact]
    public void Tiles_launch_what_each_entry_declares_in_its_ptx()
    {
        var declared = DeclaredLaunches(AttentionMmaKernels.ResourceName);
        foreach (var (tile, (f16, bf16)) in AttentionMmaGeometry.Tiles.Zip(AttentionMmaKernels.EntryPoints))
        {
            Assert.Equal((tile.Threads, tile.SharedBytes), declared[f16]);
            Assert.Equal((tile.Threads, tile.SharedBytes), declared[bf16]);
        }

        var tf32 = DeclaredLaunches(AttentionMmaKernels.Tf32ResourceName);
        foreach (var (tile, f32) in AttentionMmaGeometry.Tf32Tiles.Zip(AttentionMmaKernels.Tf32EntryPoints))
        {
            Assert.Equal((tile.Threads, tile.SharedBytes), tf32[f32]);
        }
    }

    private static Dictionary<string, (int Threads, int SharedBytes)> DeclaredLaunches(string resource)
    {
        string ptx = PtxResourceTests.ReadResource(resource);
        var entries = EntryPattern().Matches(ptx);
        var launches = new Dictionary<string, (int Threads, int SharedBytes)>();
        for (int i = 0; i < entries.Count; i++)
        {
            string name = entries[i].Groups["name"].Value;
            int end = i + 1 < entries.Count ? entries[i + 1].Index : ptx.Length;
            var launch = LaunchPattern().Match(ptx, entries[i].Index, end - entries[i].Index);
            Assert.True(launch.Success, $"{name} in {resource} declares no launch (KERNEL_REPORT_LAUNCH)");
            launches.Add(name, (
                int.Parse(launch.Groups["threads"].Value, CultureInfo.InvariantCulture),
                int.Parse(launch.Groups["bytes"].Value, CultureInfo.InvariantCulture)));
        }

        return launches;
    }

    private static void Check<T>(AttentionCase c, double tolerance = 1e-2)
        where T : unmanaged =>
        CheckForced<T>(c, CudaAttentionKernel.Mma, p => AttentionMmaGeometry.Supports<T>(p, out string? reason) ? null : reason, tolerance);

    /// <summary>Case <paramref name="c"/> on <paramref name="kernel"/>, forced, against the float64 reference; skipped
    /// where <paramref name="unsupported"/> gives a reason.</summary>
    internal static void CheckForced<T>(
        AttentionCase c, CudaAttentionKernel kernel, Func<AttentionProblem, string?> unsupported, double tolerance = 1e-2)
        where T : unmanaged
    {
        CudaTestEnvironment.SkipUnlessAvailable();
        int seed = TestRandom.SeedOf($"{c.Name}/{typeof(T).Name}");
        var random = TestRandom.Create(seed);
        var shape = c.Shape;
        var options = c.Options(random);
        var sizes = c.ElementCounts;
        var problem = AttentionValidator.Validate(shape, options, new(
            sizes.Query, sizes.Key, sizes.Value, sizes.Output, shape.LogSumExpElementCount, -1));
        string? reason = unsupported(problem);
        Assert.SkipUnless(reason is null, reason ?? string.Empty);

        var (q, k, v) = c.RandomOperands<T>(random, sizes);
        var output = TestData.Poison<T>(sizes.Output);
        var lse = TestData.Poison<float>(shape.LogSumExpElementCount);
        var untouched = (T[])output.Clone();
        var forced = new CudaBackendOptions { Kernel = kernel, AllowTensorFloat32 = typeof(T) == typeof(float) };
        using (var backend = new CudaBackend(forced, "forced by the test"))
        {
            using var tq = backend.Upload<T>(q);
            using var tk = backend.Upload<T>(k);
            using var tv = backend.Upload<T>(v);
            using var to = backend.Upload<T>(output);
            using var tl = backend.Upload<float>(lse);
            var prepared = CudaAttention.Prepare<T>(backend, problem);
            Assert.Equal(kernel, prepared.Kernel);
            CudaAttention.Launch(
                backend, prepared, problem, CudaTensor<T>.PointerOf(tq), CudaTensor<T>.PointerOf(tk),
                CudaTensor<T>.PointerOf(tv), CudaTensor<T>.PointerOf(to), CudaTensor<float>.PointerOf(tl),
                DevicePointer<float>.Null);
            backend.Synchronize();
            to.CopyTo(output);
            tl.CopyTo(lse);
        }

        var reference = ReferenceAttention.Compute<T>(shape, q, k, v, options);
        string context = $"case {c.Name}, {typeof(T).Name}, {CudaKernelSelector.Name(kernel)} kernel, {TestRandom.Describe(seed)}";
        // fp16/bf16 operands reach the kernel exactly, so its lse carries only fp32 rounding. TF32 rounds q and k to 10
        // mantissa bits inside the kernel: a score moves by up to 2^-11·scale·Σ|q·k| (about 1.4e-3 for D = 128 and unit
        // operands) and the log-sum-exp with it.
        double lseTolerance = typeof(T) == typeof(float) ? 4e-3 : 1e-3;
        double error = reference.RelativeError<T>(output, options.Layout, options.OutputStrides);
        double bound = c.Tolerance ?? tolerance;
        Assert.False(double.IsNaN(error), $"NaN in the output ({context})");
        Assert.True(error <= bound, $"relative error {error:E3} > {bound:E1} ({context})");
        var o = options.OutputStrides ?? TensorStrides.Contiguous(options.Layout, shape.QueryHeads, shape.QueryLength, shape.ValueHeadDim);
        var written = new bool[output.Length];
        int row = 0;
        for (int b = 0; b < shape.Batch; b++)
        {
            for (int h = 0; h < shape.QueryHeads; h++)
            {
                for (int i = 0; i < shape.QueryLength; i++, row++)
                {
                    long start = (b * o.Batch) + (h * o.Head) + (i * o.Sequence);
                    bool empty = double.IsNegativeInfinity(reference.LogSumExp[row]);
                    for (int x = 0; x < shape.ValueHeadDim; x++)
                    {
                        written[start + x] = true;
                        Assert.True(!empty || TestData.ToDouble(output[start + x]) == 0, $"fully masked row {row} is not 0 ({context})");
                    }

                    Assert.True(
                        empty ? float.IsNegativeInfinity(lse[row])
                            : Math.Abs(lse[row] - reference.LogSumExp[row]) <= lseTolerance * Math.Max(1, Math.Abs(reference.LogSumExp[row])),
                        $"lse[{row}] = {lse[row]}, expected {reference.LogSumExp[row]} ({context})");
                }
            }
        }

        for (int n = 0; n < output.Length; n++)
        {
            Assert.True(
                written[n] || EqualityComparer<T>.Default.Equals(output[n], untouched[n]) || double.IsNaN(TestData.ToDouble(output[n])),
                $"element {n} outside the output view was written ({context})");
        }
    }

    private static AttentionProblem Problem(AttentionShape shape) =>
        AttentionValidator.Validate(shape, AttentionOptions.Default, new(
            shape.QueryElementCount, shape.KeyElementCount, shape.ValueElementCount, shape.OutputElementCount, -1, -1));

    [GeneratedRegex(@"^\.visible \.entry (?<name>\w+)\(", RegexOptions.Multiline)]
    private static partial Regex EntryPattern();

    [GeneratedRegex(@"// kernel-report: threads (?<threads>\d+) dynamic-smem (?<bytes>\d+)")]
    private static partial Regex LaunchPattern();
}
