using Attention.Native.Generators.Tests.Infrastructure;
using Microsoft.CodeAnalysis;

namespace Attention.Native.Generators.Tests;

/// <summary>
/// ATTN001–ATTN005: reported on the .cu file at the offending text; the kernel concerned gets no launcher. ATTN006:
/// reported on the kernel that breaks a dtype family; the family gets no generic launcher.
/// </summary>
public sealed class DiagnosticTests
{
    private const string Path = "/repo/Native/bad.cu";

    [Fact]
    public void ATTN001_unsupported_parameter_types_name_kernel_parameter_and_type()
    {
        const string source = """
            extern "C" __global__ void bad_types_f32(
                const float* ok,
                float2 packed,
                double* doubles,
                volatile int* flags,
                float** table,
                float fixed_size[4])
            { }

            extern "C" __global__ void fine_f32(float* x) { }
            """;

        GeneratorRun run = Run(source);

        Assert.Collection(
            run.Diagnostics,
            d => DiagnosticAssert.At(d, "ATTN001", Path, source, "float2"),
            d => DiagnosticAssert.At(d, "ATTN001", Path, source, "double*"),
            d => DiagnosticAssert.At(d, "ATTN001", Path, source, "volatile int*"),
            d => DiagnosticAssert.At(d, "ATTN001", Path, source, "float**"),
            d => DiagnosticAssert.At(d, "ATTN001", Path, source, "float fixed_size[4]"));
        Assert.Equal(
            "Parameter 'packed' of kernel 'bad_types_f32' has type 'float2', which has no launcher type; kernel parameters "
            + "must be float*, __half*, __nv_bfloat16*, unsigned char*, bool* or int* (optionally const or __restrict__), "
            + "or int, unsigned int, long long, unsigned long long, float or double (see Native/README.md)",
            run.Diagnostics[0].GetMessage(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Contains("'float**'", Message(run.Diagnostics[3]), StringComparison.Ordinal);
        Assert.Contains("'float[4]'", Message(run.Diagnostics[4]), StringComparison.Ordinal);
        Assert.Equal(["KernelNames.g.cs", "NativeKernels.FineF32.g.cs"], run.HintNames);
    }

    [Fact]
    public void ATTN001_location_is_line_and_column_of_the_type()
    {
        GeneratorRun run = Run("extern \"C\" __global__ void k(\n    int n,\n    float4 v) { }\n");

        FileLinePositionSpan where = Assert.Single(run.Diagnostics).Location.GetLineSpan();
        Assert.Equal(Path, where.Path);
        Assert.Equal((2, 4), (where.StartLinePosition.Line, where.StartLinePosition.Character));
        Assert.Equal((2, 10), (where.EndLinePosition.Line, where.EndLinePosition.Character));
    }

    [Theory]
    [InlineData("extern \"C\" __global__ void (float* x) { }", "(", "expected the kernel's name before '('")]
    [InlineData("extern \"C\" __global__ void open_list(float* x, int n", "(", "the parameter list of 'open_list' is not closed")]
    [InlineData("extern \"C\" __global__ void open_list(float* x { }", "(", "the parameter list of 'open_list' is not closed")]
    [InlineData("extern \"C\" __global__ void unnamed(float*, int n) { }", "float", "parameter 1 of 'unnamed' ('float*') has no name")]
    [InlineData("extern \"C\" __global__ void gap(float* x, , int n) { }", ",", "parameter 2 of 'gap' is empty", 1)]
    [InlineData("extern \"C\" __global__ void defaults(int n = 4) { }", "=", "parameter 1 of 'defaults' has a default value")]
    [InlineData("extern \"C\" __global__ void variadic(int n, ...) { }", ".", "variadic kernels")]
    [InlineData("extern \"C\" __global__ __launch_bounds__ void lb(int n) { }", "__launch_bounds__", "expected a closed '(...)' after __launch_bounds__")]
    [InlineData("extern \"C\" __global__ no_type(int n) { }", "no_type", "kernel 'no_type' has no return type")]
    [InlineData("extern \"C\" __global__;", "__global__", "expected the kernel's name and parameter list")]
    public void ATTN002_malformed_declarations(string source, string at, string reason, int occurrence = 0)
    {
        GeneratorRun run = Run(source);

        Diagnostic diagnostic = Assert.Single(run.Diagnostics);
        DiagnosticAssert.At(diagnostic, "ATTN002", Path, source, at, occurrence);
        Assert.Contains(reason, Message(diagnostic), StringComparison.Ordinal);
        Assert.Equal(["KernelNames.g.cs"], run.HintNames);
    }

    [Fact]
    public void ATTN003_duplicate_kernel_across_files_is_reported_on_the_later_file()
    {
        const string first = "extern \"C\" __global__ void scale_f32(float* x, float factor) { }\n";
        const string second = "// another file\nextern \"C\" __global__ void scale_f32(float* x, float factor) { }\n";
        var a = InMemoryAdditionalText.Native("a.cu", first);
        var b = InMemoryAdditionalText.Native("b.cu", second);

        foreach (GeneratorRun run in new[] { GeneratorHarness.Run(a, b), GeneratorHarness.Run(b, a) })
        {
            Diagnostic diagnostic = Assert.Single(run.Diagnostics);
            DiagnosticAssert.At(diagnostic, "ATTN003", "/repo/Native/b.cu", second, "scale_f32");
            Assert.Equal(
                "Kernel 'scale_f32' is already declared at a.cu(1); extern \"C\" kernel names must be unique across Native/*.cu",
                Message(diagnostic));
            Assert.Equal(["KernelNames.g.cs", "NativeKernels.ScaleF32.g.cs"], run.HintNames);
            Assert.Contains("(<c>a.cu</c>)", run.Source("NativeKernels.ScaleF32.g.cs"), StringComparison.Ordinal);
        }
    }

    [Fact]
    public void ATTN003_same_name_with_another_signature_in_one_file()
    {
        const string source = """
            extern "C" __global__ void scale_f32(float* x, float factor);
            extern "C" __global__ void scale_f32(float* x, double factor) { }
            """;

        DiagnosticAssert.At(Assert.Single(Run(source).Diagnostics), "ATTN003", Path, source, "scale_f32", occurrence: 1);
    }

    [Fact]
    public void Prototype_then_definition_in_one_file_is_one_kernel() =>
        Assert.Empty(Run("extern \"C\" __global__ void k(int n);\nextern \"C\" __global__ void k(int n) { }\n").Diagnostics);

    [Theory]
    [InlineData("extern \"C\" __global__ int count_f32(const float* x) { return 0; }", "int", "count_f32")]
    [InlineData("extern \"C\" __global__ float* pick_f32(float* x) { return x; }", "float*", "pick_f32")]
    [InlineData("extern \"C\" __launch_bounds__(64) __global__ unsigned long long big_f32(int n) { }", "unsigned long long", "big_f32")]
    public void ATTN004_non_void_return(string source, string returnType, string kernel)
    {
        GeneratorRun run = Run(source);

        Diagnostic diagnostic = Assert.Single(run.Diagnostics);
        DiagnosticAssert.At(diagnostic, "ATTN004", Path, source, returnType);
        Assert.Equal($"Kernel '{kernel}' returns '{returnType}'; a __global__ function must return void", Message(diagnostic));
        Assert.Equal(["KernelNames.g.cs"], run.HintNames);
    }

    [Fact]
    public void ATTN005_parameters_that_collide_in_csharp()
    {
        const string source = """
            extern "C" __global__ void twice_f32(int q_len, int qLen, float* function) { }
            """;

        GeneratorRun run = Run(source);

        Assert.Collection(
            run.Diagnostics,
            d => DiagnosticAssert.At(d, "ATTN005", Path, source, "qLen"),
            d => DiagnosticAssert.At(d, "ATTN005", Path, source, "function"));
        Assert.Equal(
            "Parameter 'qLen' of kernel 'twice_f32' becomes the C# name 'qLen', which an earlier parameter already has; rename it in the .cu file",
            Message(run.Diagnostics[0]));
        Assert.Contains("the launcher's own parameter", Message(run.Diagnostics[1]), StringComparison.Ordinal);
    }

    [Fact]
    public void ATTN005_kernels_that_collide_in_csharp()
    {
        const string source = """
            extern "C" __global__ void scale_f32(int n) { }
            extern "C" __global__ void ScaleF32(int n) { }
            """;

        GeneratorRun run = Run(source);

        Diagnostic diagnostic = Assert.Single(run.Diagnostics);
        DiagnosticAssert.At(diagnostic, "ATTN005", Path, source, "ScaleF32");
        Assert.Equal(
            "Kernel 'ScaleF32' becomes the C# name 'ScaleF32', which kernel 'scale_f32' at bad.cu(1) already becomes; rename one of them",
            Message(diagnostic));
    }

    [Theory]
    [InlineData(
        "norm_f32(float* x, int n)", "norm_f16(__half* x, int n, int stride)",
        "it has 3 parameters and 'norm_f32' has 2")]
    [InlineData(
        "norm_f32(float* x, int n)", "norm_f16(__half* x, int count)",
        "parameter 2 is 'count' here and 'n' in 'norm_f32'")]
    [InlineData(
        "norm_f32(float* x, int n)", "norm_f16(__half* x, long long n)",
        "parameter 2 ('n') is 'long long' here and 'int' in 'norm_f32': neither the same type nor each kernel's own element type")]
    [InlineData(
        "norm_f32(float* x, int n)", "norm_f16(__nv_bfloat16* x, int n)",
        "parameter 1 ('x') is '__nv_bfloat16*' here and 'float*' in 'norm_f32': neither the same type nor each kernel's own element type")]
    [InlineData(
        "norm_f16(__half* x, int n)", "norm_bf16(float* x, int n)",
        "parameter 1 ('x') is 'float*' here and '__half*' in 'norm_f16': neither the same type nor each kernel's own element type")]
    public void ATTN006_member_that_differs_beyond_the_element_type(string reference, string member, string reason)
    {
        string source = "extern \"C\" __global__ void " + reference + " { }\nextern \"C\" __global__ void " + member + " { }\n";
        string name = member[..member.IndexOf('(', StringComparison.Ordinal)];

        GeneratorRun run = Run(source);

        Diagnostic diagnostic = Assert.Single(run.Diagnostics);
        DiagnosticAssert.At(diagnostic, "ATTN006", Path, source, name);
        Assert.Equal(
            $"Kernel '{name}' does not fit the 'norm' dtype family: {reason}. A family's kernels may differ only in pointers to their "
            + "own element type (float*, __half*, __nv_bfloat16*), so there is no generic launcher NativeKernels.Norm<T>; each "
            + "kernel keeps its own launcher.",
            Message(diagnostic));
        Assert.DoesNotContain("NativeKernels.Norm.g.cs", run.HintNames);
        Assert.Equal(3, run.HintNames.Count);
        Assert.Empty(run.CompilerProblems());
    }

    [Fact]
    public void ATTN006_a_parameter_is_the_element_type_in_some_members_only()
    {
        const string source = """
            extern "C" __global__ void norm_f32(float* x, float* y, int n) { }
            extern "C" __global__ void norm_f16(__half* x, float* y, int n) { }
            extern "C" __global__ void norm_bf16(__nv_bfloat16* x, __nv_bfloat16* y, int n) { }
            """;

        GeneratorRun run = Run(source);

        Diagnostic diagnostic = Assert.Single(run.Diagnostics);
        DiagnosticAssert.At(diagnostic, "ATTN006", Path, source, "norm_bf16");
        Assert.Contains(
            "parameter 2 ('y') is '__nv_bfloat16*' here, 'float*' in 'norm_f32' and 'float*' in 'norm_f16': a parameter points to "
            + "each kernel's own element type in every member or has one type in all",
            Message(diagnostic),
            StringComparison.Ordinal);
        Assert.Equal(["KernelNames.g.cs", "NativeKernels.NormBf16.g.cs", "NativeKernels.NormF16.g.cs", "NativeKernels.NormF32.g.cs"], run.HintNames);
    }

    [Fact]
    public void ATTN005_family_whose_csharp_name_a_kernel_has()
    {
        const string source = """
            extern "C" __global__ void scale(float* x) { }
            extern "C" __global__ void scale_f32(float* x) { }
            extern "C" __global__ void scale_f16(__half* x) { }
            """;

        GeneratorRun run = Run(source);

        Diagnostic diagnostic = Assert.Single(run.Diagnostics);
        DiagnosticAssert.At(diagnostic, "ATTN005", Path, source, "scale_f32");
        Assert.Equal(
            "The 'scale' dtype family becomes the C# name 'Scale', which kernel 'scale' at bad.cu(1) already becomes; rename one of them",
            Message(diagnostic));
        Assert.DoesNotContain("ScaleName<T>", run.Source("KernelNames.g.cs"), StringComparison.Ordinal);
        Assert.Empty(run.CompilerProblems());
    }

    [Fact]
    public void A_member_with_errors_leaves_no_family_and_no_ATTN006()
    {
        const string source = """
            extern "C" __global__ void scale_f32(float* x, int n) { }
            extern "C" __global__ void scale_f16(__half* x, float2 n) { }
            """;

        GeneratorRun run = Run(source);

        Assert.Equal(["ATTN001"], run.Diagnostics.Select(d => d.Id));
        Assert.Equal(["KernelNames.g.cs", "NativeKernels.ScaleF32.g.cs"], run.HintNames);
    }

    [Fact]
    public void Errors_in_one_kernel_leave_the_others_generated()
    {
        const string source = """
            extern "C" __global__ void good_f32(float* x) { }
            extern "C" __global__ void bad_f32(float3* x) { }
            extern "C" __global__ int worse_f32(float* x) { }
            extern "C" __global__ void fine_f16(__half* x) { }
            """;

        GeneratorRun run = Run(source);

        Assert.Equal(["ATTN001", "ATTN004"], run.Diagnostics.Select(d => d.Id));
        Assert.Equal(["KernelNames.g.cs", "NativeKernels.FineF16.g.cs", "NativeKernels.GoodF32.g.cs"], run.HintNames);
        Assert.Empty(run.CompilerProblems());
    }

    private static GeneratorRun Run(string source) => GeneratorHarness.Run(new InMemoryAdditionalText(Path, source));

    private static string Message(Diagnostic diagnostic) => diagnostic.GetMessage(System.Globalization.CultureInfo.InvariantCulture);
}
