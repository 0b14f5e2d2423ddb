using System.Reflection;
using System.Text.RegularExpressions;
using Attention.Native.Cuda.Interop;
using Attention.Native.Cuda.Simt;
using Attention.Native.Cuda;
using Attention.Native.Validation;

namespace Attention.Native.Tests.Cuda;

/// <summary>
/// The attention_simt launch without a GPU: geometry and limits from Native/README.md, the generated parameter struct
/// against the one documented there, the launch's checks, the generated per-type kernel names, and the message for
/// PTX missing from the build.
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
    /// The struct generated from Native/attention_params.cuh has exactly the fields Native/README.md documents for
    /// <c>AttentionParams</c>, in order, with the README's type mapping: q, k, v and o take the element type (T), every
    /// other pointer one type.
    /// </summary>
    [Fact]
    public void Params_struct_fields_match_Native_README()
    {
        var declared = StructFields("AttentionParams");
        var fields = typeof(AttentionParams<>).GetFields(BindingFlags.Public | BindingFlags.Instance);
        Assert.Equal(declared.Count, fields.Length);
        for (int i = 0; i < declared.Count; i++)
        {
            var (type, name) = declared[i];
            Assert.Equal(name.Replace("_", string.Empty, StringComparison.Ordinal), fields[i].Name, ignoreCase: true);
            Assert.Equal(ManagedType(type, name, "T"), Describe(fields[i].FieldType));
        }
    }

    /// <summary>Every attention_simt entry point takes <see cref="AttentionParams{T}"/> with its own element type.</summary>
    [Fact]
    public void Each_element_type_has_its_kernel_declared_with_its_params()
    {
        Assert.Contains("attention_simt_f32", AttentionParams<float>.Kernels);
        Assert.Contains("attention_simt_f16", AttentionParams<Half>.Kernels);
        Assert.Contains("attention_simt_bf16", AttentionParams<BFloat16>.Kernels);
        Assert.DoesNotContain("attention_simt_f16", AttentionParams<float>.Kernels);
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

    /// <summary>The launch refuses an element type no kernel takes before it touches the driver.</summary>
    [Fact]
    public void Launch_refuses_other_element_types_without_a_GPU()
    {
        var kernel = new CudaKernel(0, "attention_simt_f32", H200Like);
        var error = Assert.Throws<NotSupportedException>(() => NativeKernels.Launch(kernel, default, new AttentionParams<int>()));
        Assert.Equal(
            "No kernel takes attention::AttentionParams with element type System.Int32; there are kernels for System.Single, "
            + "System.Half, Attention.Native.BFloat16.",
            error.Message);
    }

    /// <summary>
    /// A kernel handed another element type's parameters (or another struct's) would read them at the wrong places:
    /// the launch refuses it before it touches the driver, naming the kernel.
    /// </summary>
    [Fact]
    public void Launch_refuses_a_kernel_declared_with_other_params_without_a_GPU()
    {
        var kernel = new CudaKernel(0, "attention_simt_f16", H200Like);
        var error = Assert.Throws<ArgumentException>(() => NativeKernels.Launch(kernel, default, new AttentionParams<float>()));
        Assert.Equal("kernel", error.ParamName);
        Assert.StartsWith(
            "Kernel 'attention_simt_f16' is not declared with attention::AttentionParams for element type System.Single",
            error.Message,
            StringComparison.Ordinal);
        Assert.Contains("attention_simt_f32", error.Message, StringComparison.Ordinal);
        var additive = new CudaKernel(0, "additive_attention_f32", H200Like);
        Assert.Throws<ArgumentException>(() => NativeKernels.Launch(additive, default, new AttentionParams<float>()));
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

    /// <summary>
    /// (C type, name) of each field of struct <paramref name="name"/> as Native/README.md declares it (one declarator
    /// per name: <c>int a, b;</c> is two fields of type int).
    /// </summary>
    internal static List<(string Type, string Name)> StructFields(string name)
    {
        string readme = Comment().Replace(File.ReadAllText(Path.Combine(RepositoryRoot(), "Native", "README.md")), string.Empty);
        var declaration = Regex.Match(readme, $@"struct\s+{name}\s*\{{(?<fields>[^}}]*)\}}");
        Assert.True(declaration.Success, $"struct {name} is not declared in Native/README.md");
        var fields = new List<(string, string)>();
        foreach (string member in declaration.Groups["fields"].Value.Split(';', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            string[] declarators = member.Split(',', StringSplitOptions.TrimEntries);
            int split = declarators[0].LastIndexOfAny([' ', '*']);
            string type = declarators[0][..(split + 1)].Replace(" ", string.Empty, StringComparison.Ordinal);
            fields.Add((type, declarators[0][(split + 1)..]));
            fields.AddRange(declarators.Skip(1).Select(d => (type, d)));
        }

        return fields;
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
