using System.Text.RegularExpressions;
using Attention.Native.Cuda.Interop;
using Attention.Native.Cuda.Simt;
using Attention.Native.Cuda;
using Attention.Native.Validation;

namespace Attention.Native.Tests;

/// <summary>
/// The attention_simt launch without a GPU: geometry and limits from Native/README.md, the generated launchers'
/// parameter lists against the kernel signature there, the generated per-type kernel names, and the message for PTX
/// missing from the build.
/// </summary>
public sealed partial class AttentionSimtLaunchTests
{
    private static readonly KernelLimits H200Like = new(MaxDynamicSharedBytes: 232448, MaxGridY: 65535, MaxGridZ: 65535);

    [Theory]
    [InlineData(1, 1, 1, 1, 1)]
    [InlineData(2, 3, 9, 64, 64)]
    [InlineData(4, 32, 1000, 128, 96)]
    [InlineData(1, 8, 4, 256, 256)]
    public void Geometry_is_one_warp_per_query_row(int batch, int heads, int queryLength, int headDim, int valueHeadDim)
    {
        var problem = Problem(new(batch, heads, heads, queryLength, 17, headDim, valueHeadDim));
        var c = AttentionSimtGeometry.Configure(problem, H200Like, stream: 42);
        Assert.Equal(((queryLength + 3) / 4, heads, batch), ((int)c.GridX, (int)c.GridY, (int)c.GridZ));
        Assert.Equal((32u, 4u, 1u), (c.BlockX, c.BlockY, c.BlockZ));
        Assert.Equal(4u * (uint)(headDim + valueHeadDim) * sizeof(float), c.SharedMemoryBytes);
        Assert.Equal(42, c.Stream);
    }

    [Fact]
    public void Head_dims_beyond_shared_memory_are_not_supported_and_named()
    {
        var limits = H200Like with { MaxDynamicSharedBytes = 48 * 1024 };
        var fits = AttentionSimtGeometry.Configure(Problem(new(1, 1, 1, 4, 4, 1536, 1536)), limits, 0);
        Assert.Equal(48u * 1024, fits.SharedMemoryBytes);
        var error = Assert.Throws<NotSupportedException>(
            () => AttentionSimtGeometry.Configure(Problem(new(1, 1, 1, 4, 4, 1537, 1536)), limits, 0));
        Assert.Contains("shape.HeadDim = 1537", error.Message, StringComparison.Ordinal);
        Assert.Contains("shape.ValueHeadDim = 1536", error.Message, StringComparison.Ordinal);
        Assert.Contains("49168 bytes", error.Message, StringComparison.Ordinal);
        Assert.Contains("49152", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Heads_and_batches_beyond_the_grid_are_not_supported_and_named()
    {
        var limits = H200Like with { MaxGridY = 2, MaxGridZ = 3 };
        var heads = Assert.Throws<NotSupportedException>(() => AttentionSimtGeometry.Configure(Problem(new(1, 3, 3, 4, 4, 8, 8)), limits, 0));
        Assert.Contains("shape.QueryHeads = 3", heads.Message, StringComparison.Ordinal);
        var batch = Assert.Throws<NotSupportedException>(() => AttentionSimtGeometry.Configure(Problem(new(4, 2, 2, 4, 4, 8, 8)), limits, 0));
        Assert.Contains("shape.Batch = 4", batch.Message, StringComparison.Ordinal);
        AttentionSimtGeometry.Configure(Problem(new(3, 2, 2, 4, 4, 8, 8)), limits, 0);
    }

    /// <summary>
    /// The launchers generated from Native/attention_simt.cu take exactly the parameters of the kernel signature in
    /// Native/README.md, in order, with the README's type mapping: q, k, v and o take each kernel's element type (T
    /// in the generic launcher the backend calls), every other pointer the same type in all three.
    /// </summary>
    [Theory]
    [InlineData(nameof(NativeKernels.AttentionSimt), "T")]
    [InlineData(nameof(NativeKernels.AttentionSimtF32), "Single")]
    [InlineData(nameof(NativeKernels.AttentionSimtF16), "Half")]
    [InlineData(nameof(NativeKernels.AttentionSimtBf16), "BFloat16")]
    public void Launcher_parameters_match_the_kernel_signature_in_Native_README(string launcher, string element)
    {
        var kernel = KernelParameters("attention_simt_f32");
        var parameters = typeof(NativeKernels).GetMethod(launcher)!.GetParameters();
        Assert.Equal(["function", "launch"], parameters[..2].Select(p => p.Name));
        Assert.Equal([typeof(nint), typeof(LaunchConfiguration).MakeByRefType()], parameters[..2].Select(p => p.ParameterType));
        // Last, the launcher's own optional parameter: the entry point a rejected launch is reported under.
        Assert.Equal("__kernelName", parameters[^1].Name);
        Assert.Equal(typeof(string), parameters[^1].ParameterType);
        Assert.Equal(kernel.Count, parameters.Length - 3);
        for (int i = 0; i < kernel.Count; i++)
        {
            var (type, name) = kernel[i];
            var parameter = parameters[i + 2];
            Assert.Equal(name.Replace("_", string.Empty, StringComparison.Ordinal), parameter.Name!, ignoreCase: true);
            Assert.Equal(ManagedType(type, name, element), Describe(parameter.ParameterType));
        }
    }

    /// <summary>The backend looks the kernel up by the generated name for its element type; other types are refused by name.</summary>
    [Fact]
    public void Generated_names_pick_the_kernel_per_element_type()
    {
        Assert.Equal(
            ["attention_simt_f32", "attention_simt_f16", "attention_simt_bf16"],
            [KernelNames.AttentionSimtName<float>(), KernelNames.AttentionSimtName<Half>(), KernelNames.AttentionSimtName<BFloat16>()]);
        var error = Assert.Throws<NotSupportedException>(() => KernelNames.AttentionSimtName<double>());
        Assert.Contains("'attention_simt'", error.Message, StringComparison.Ordinal);
        Assert.Contains("System.Double", error.Message, StringComparison.Ordinal);
    }

    /// <summary>The generic launcher refuses an element type no kernel takes before it touches the driver.</summary>
    [Fact]
    public void Generic_launcher_refuses_other_element_types_without_a_GPU()
    {
        var error = Assert.Throws<NotSupportedException>(() => NativeKernels.AttentionSimt<int>(
            0, default, default, default, default, default, default, default, default, default, default,
            1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1f, 0f, 0, -1, -1));
        Assert.Equal(
            "The 'attention_simt' kernels have no version for element type System.Int32; there are attention_simt_f32 "
            + "(System.Single), attention_simt_f16 (System.Half), attention_simt_bf16 (Attention.Native.BFloat16).",
            error.Message);
    }

    [Fact]
    public void Missing_ptx_resource_is_a_clear_error()
    {
        var error = Assert.Throws<InvalidOperationException>(() => PtxResource.Read("ptx/no_such_kernel.ptx"));
        Assert.Contains("'ptx/no_such_kernel.ptx'", error.Message, StringComparison.Ordinal);
        Assert.Contains("Native/no_such_kernel.ptx", error.Message, StringComparison.Ordinal);
        Assert.Contains("Attention.Native", error.Message, StringComparison.Ordinal);
    }

    private static AttentionProblem Problem(AttentionShape shape) =>
        AttentionValidator.Validate(shape, AttentionOptions.Default, new(
            shape.QueryElementCount, shape.KeyElementCount, shape.ValueElementCount, shape.OutputElementCount, -1, -1));

    /// <summary>(C type, name) of each parameter of <paramref name="kernel"/> as Native/README.md declares it.</summary>
    internal static List<(string Type, string Name)> KernelParameters(string kernel)
    {
        string readme = Comment().Replace(File.ReadAllText(Path.Combine(RepositoryRoot(), "Native", "README.md")), string.Empty);
        var declaration = Regex.Match(readme, $@"__global__\s+void\s+{kernel}\s*\((?<parameters>[^)]*)\)");
        Assert.True(declaration.Success, $"{kernel} is not declared in Native/README.md");
        string parameters = declaration.Groups["parameters"].Value;
        return
        [
            .. parameters.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Select(p =>
            {
                int split = p.LastIndexOfAny([' ', '*']);
                return (p[..(split + 1)].Replace(" ", string.Empty, StringComparison.Ordinal), p[(split + 1)..]);
            }),
        ];
    }

    /// <summary>The C# type the README's table maps a C type to (q, k, v, o take the <paramref name="element"/> type).</summary>
    internal static string ManagedType(string type, string name, string element) => type switch
    {
        _ when type.EndsWith('*') && name is "q" or "k" or "v" or "o" => $"DevicePointer<{element}>",
        "float*" or "constfloat*" => "DevicePointer<Single>",
        "constunsignedchar*" => "DevicePointer<Boolean>",
        "constint*" => "DevicePointer<Int32>",
        "int" => "Int32",
        "longlong" => "Int64",
        "float" => "Single",
        _ => $"unmapped C type {type}",
    };

    internal static string Describe(Type type) =>
        type.IsGenericType
            ? $"{type.Name[..type.Name.IndexOf('`', StringComparison.Ordinal)]}<{string.Join(",", type.GetGenericArguments().Select(Describe))}>"
            : type.Name;

    private static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Native", "README.md")))
            {
                return directory.FullName;
            }
        }

        throw new DirectoryNotFoundException($"No Native/README.md above {AppContext.BaseDirectory}.");
    }

    [GeneratedRegex(@"//[^\n]*")]
    private static partial Regex Comment();
}
