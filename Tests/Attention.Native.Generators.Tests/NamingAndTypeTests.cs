using Attention.Native.Generators.Emit;
using Attention.Native.Generators.Parsing;

namespace Attention.Native.Generators.Tests;

/// <summary>The CUDA → C# name rules and the field type table of <c>Native/README.md</c>.</summary>
public sealed class NamingAndTypeTests
{
    [Theory]
    [InlineData("attention_simt_f32", "AttentionSimtF32")]
    [InlineData("attention_simt_bf16", "AttentionSimtBf16")]
    [InlineData("flash_fwd_d128_f16", "FlashFwdD128F16")]
    [InlineData("LAYER_NORM", "LayerNorm")]
    [InlineData("layerNorm", "LayerNorm")]
    [InlineData("__double__underscores__", "DoubleUnderscores")]
    [InlineData("_2d_copy", "_2dCopy")]
    public void Kernel_names_become_pascal_case(string cuda, string csharp) => Assert.Equal(csharp, Naming.ToPascalCase(cuda));

    [Theory]
    [InlineData("key_lengths", "keyLengths")]
    [InlineData("q", "q")]
    [InlineData("Q", "q")]
    [InlineData("HEAD_DIM", "headDim")]
    [InlineData("dQ", "dQ")]
    [InlineData("in", "@in")]
    [InlineData("out", "@out")]
    [InlineData("object", "@object")]
    public void Parameter_names_become_camel_case(string cuda, string csharp) => Assert.Equal(csharp, Naming.ToCamelCase(cuda));

    [Theory]
    [InlineData("float*", "global::Attention.Native.Cuda.Interop.DevicePointer<float>")]
    [InlineData("const float*", "global::Attention.Native.Cuda.Interop.DevicePointer<float>")]
    [InlineData("float const* const __restrict__", "global::Attention.Native.Cuda.Interop.DevicePointer<float>")]
    [InlineData("const __half* __restrict__", "global::Attention.Native.Cuda.Interop.DevicePointer<global::System.Half>")]
    [InlineData("__nv_bfloat16*", "global::Attention.Native.Cuda.Interop.DevicePointer<global::Attention.Native.BFloat16>")]
    [InlineData("const unsigned char*", "global::Attention.Native.Cuda.Interop.DevicePointer<bool>")]
    [InlineData("bool*", "global::Attention.Native.Cuda.Interop.DevicePointer<bool>")]
    [InlineData("const int*", "global::Attention.Native.Cuda.Interop.DevicePointer<int>")]
    [InlineData("signed char*", "global::Attention.Native.Cuda.Interop.DevicePointer<sbyte>")]
    [InlineData("const long long*", "global::Attention.Native.Cuda.Interop.DevicePointer<long>")]
    [InlineData("int", "int")]
    [InlineData("const int", "int")]
    [InlineData("unsigned int", "uint")]
    [InlineData("long long", "long")]
    [InlineData("unsigned long long", "ulong")]
    [InlineData("float", "float")]
    [InlineData("double", "double")]
    public void Readme_table_types_map(string cuda, string csharp) => Assert.Equal(csharp, Map(cuda)?.Type);

    [Theory]
    [InlineData("float*", 8)]
    [InlineData("const T*", 8)]
    [InlineData("int", 4)]
    [InlineData("unsigned int", 4)]
    [InlineData("float", 4)]
    [InlineData("long long", 8)]
    [InlineData("unsigned long long", 8)]
    [InlineData("double", 8)]
    public void Every_type_has_its_C_size(string cuda, int size) => Assert.Equal(size, Map(cuda, "T")?.Size);

    [Theory]
    [InlineData("TensorMap")]
    [InlineData("hopper::TensorMap")]
    [InlineData("const attention::hopper::TensorMap")]
    public void Tensor_maps_are_128_opaque_bytes_aligned_to_64(string cuda)
    {
        var mapped = Map(cuda);
        Assert.Equal(("global::Attention.Native.Cuda.Interop.TensorMap", 128), mapped);
        Assert.Equal(64, CudaTypeMapper.Alignment(mapped!.Value));
        Assert.Null(Map(cuda + "*"));
    }

    [Theory]
    [InlineData("T*", "T", "global::Attention.Native.Cuda.Interop.DevicePointer<T>")]
    [InlineData("const Element* __restrict__", "Element", "global::Attention.Native.Cuda.Interop.DevicePointer<Element>")]
    [InlineData("T*", null, null)]
    [InlineData("T", "T", null)]
    [InlineData("T**", "T", null)]
    public void Type_parameter_pointers_map_in_templates_only(string cuda, string? typeParameter, string? csharp) =>
        Assert.Equal(csharp, Map(cuda, typeParameter)?.Type);

    [Theory]
    [InlineData("float2")]
    [InlineData("double*")]
    [InlineData("float**")]
    [InlineData("float&")]
    [InlineData("volatile int*")]
    [InlineData("unsigned")]
    [InlineData("long")]
    [InlineData("unsigned char")]
    [InlineData("bool")]
    [InlineData("void*")]
    [InlineData("half*")]
    [InlineData("std::size_t")]
    public void Types_outside_the_table_do_not_map(string cuda) => Assert.Null(Map(cuda));

    private static (string Type, int Size)? Map(string type, string? typeParameter = null) =>
        CudaTypeMapper.Map(CudaTokenizer.Tokenize(type, TestContext.Current.CancellationToken), typeParameter);
}
