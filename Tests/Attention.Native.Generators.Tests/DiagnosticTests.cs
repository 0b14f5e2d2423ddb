using Attention.Native.Generators.Tests.Infrastructure;
using Microsoft.CodeAnalysis;

namespace Attention.Native.Generators.Tests;

/// <summary>
/// ATTN001–ATTN005 and ATTN007–ATTN009: reported on the file at the offending text (a struct's problems only when a
/// kernel takes it, once however many do); the kernel concerned gets no name and the struct no C# struct. ATTN006:
/// reported on the kernel that breaks a dtype family; the family gets no generic lookup.
/// </summary>
public sealed class DiagnosticTests
{
    private const string Path = "/repo/Native/bad.cu";

    [Fact]
    public void ATTN001_unsupported_field_types_name_struct_field_and_type()
    {
        const string source = """
            struct BadParams {
                const float* ok;
                float2 packed;
                double* doubles;
                volatile int* flags;
                float** table;
                float fixed_size[4];
                KeyRange range;
            };

            extern "C" __global__ void bad_f32(BadParams p) { }
            extern "C" __global__ void worse_f32(BadParams p) { }
            """;

        GeneratorRun run = Run(source);

        Assert.Collection(
            run.Diagnostics,
            d => DiagnosticAssert.At(d, "ATTN001", Path, source, "float2"),
            d => DiagnosticAssert.At(d, "ATTN001", Path, source, "double*"),
            d => DiagnosticAssert.At(d, "ATTN001", Path, source, "volatile int*"),
            d => DiagnosticAssert.At(d, "ATTN001", Path, source, "float**"),
            d => DiagnosticAssert.At(d, "ATTN001", Path, source, "float fixed_size[4]"),
            d => DiagnosticAssert.At(d, "ATTN001", Path, source, "KeyRange"));
        Assert.Equal(
            "Field 'packed' of params struct 'BadParams' has type 'float2', which has no C# type; fields must be pointers to float, "
            + "__half, __nv_bfloat16, unsigned char, bool, int or the struct's type parameter (optionally const or __restrict__), or "
            + "int, unsigned int, long long, unsigned long long, float or double (see Native/README.md)",
            Message(run.Diagnostics[0]));
        Assert.Contains("'float[4]'", Message(run.Diagnostics[4]), StringComparison.Ordinal);
        Assert.Equal(["KernelNames.g.cs"], run.HintNames);
    }

    [Fact]
    public void ATTN001_T_pointers_map_only_in_a_template_and_T_by_value_never()
    {
        const string source = """
            template <typename T> struct A { T* x; T y; };
            struct B { T* x; };
            extern "C" __global__ void a_f32(A<float> p) { }
            extern "C" __global__ void b_f32(B p) { }
            """;

        GeneratorRun run = Run(source);

        Assert.Collection(
            run.Diagnostics,
            d => DiagnosticAssert.At(d, "ATTN001", Path, source, "T", occurrence: 2),
            d => DiagnosticAssert.At(d, "ATTN001", Path, source, "T*", occurrence: 1));
    }

    [Fact]
    public void ATTN001_location_is_line_and_column_of_the_type()
    {
        GeneratorRun run = Run("struct P {\n    int n;\n    float4 v;\n};\nextern \"C\" __global__ void k(P p) { }\n");

        FileLinePositionSpan where = Assert.Single(run.Diagnostics).Location.GetLineSpan();
        Assert.Equal(Path, where.Path);
        Assert.Equal((2, 4), (where.StartLinePosition.Line, where.StartLinePosition.Character));
        Assert.Equal((2, 10), (where.EndLinePosition.Line, where.EndLinePosition.Character));
    }

    [Theory]
    [InlineData("extern \"C\" __global__ void (P p) { }", "(", "expected the kernel's name before '('")]
    [InlineData("extern \"C\" __global__ void open_list(P p", "(", "the parameter list of 'open_list' is not closed")]
    [InlineData("extern \"C\" __global__ void open_list(P p { }", "(", "the parameter list of 'open_list' is not closed")]
    [InlineData("extern \"C\" __global__ __launch_bounds__ void lb(P p) { }", "__launch_bounds__", "expected a closed '(...)' after __launch_bounds__")]
    [InlineData("extern \"C\" __global__ no_type(P p) { }", "no_type", "kernel 'no_type' has no return type")]
    [InlineData("extern \"C\" __global__;", "__global__", "expected the kernel's name and parameter list")]
    public void ATTN002_malformed_declarations(string declaration, string at, string reason)
    {
        string source = Prefix + declaration;
        GeneratorRun run = Run(source);

        Diagnostic diagnostic = Assert.Single(run.Diagnostics);
        DiagnosticAssert.At(diagnostic, "ATTN002", Path, source, at, Occurrences(Prefix, at));
        Assert.Contains(reason, Message(diagnostic), StringComparison.Ordinal);
        Assert.Equal(["KernelNames.g.cs"], run.HintNames);
    }

    [Theory]
    [InlineData("ENTRY(f32)", "macro 'ENTRY' takes 2 arguments, not 1")]
    [InlineData("ENTRY(f32, float, x)", "macro 'ENTRY' takes 2 arguments, not 3")]
    [InlineData("ENTRY(+, float)", "pasting 'k_' and '+' in macro 'ENTRY' does not give one token")]
    public void ATTN002_entry_macro_invocations_that_cannot_be_expanded(string invocation, string reason)
    {
        string source = "struct P { int n; };\n#define ENTRY(dtype, T) extern \"C\" __global__ void k_##dtype(P p) { }\n" + invocation + "\n";
        GeneratorRun run = Run(source);

        Diagnostic diagnostic = Assert.Single(run.Diagnostics);
        DiagnosticAssert.At(diagnostic, "ATTN002", Path, source, invocation);
        Assert.Equal("Cannot read this declaration: " + reason, Message(diagnostic));
    }

    [Fact]
    public void ATTN002_a_struct_member_without_a_name()
    {
        const string source = "struct P { int n; float*; };\nextern \"C\" __global__ void k(P p) { }\n";

        Diagnostic diagnostic = Assert.Single(Run(source).Diagnostics);
        DiagnosticAssert.At(diagnostic, "ATTN002", Path, source, "float*");
        Assert.Equal("Cannot read this declaration: a member of struct 'P' ('float*') has no name", Message(diagnostic));
    }

    [Fact]
    public void ATTN003_duplicate_kernel_across_files_is_reported_on_the_later_file()
    {
        const string first = "struct P { int n; };\nextern \"C\" __global__ void scale_f32(P p) { }\n";
        const string second = "// another file\nextern \"C\" __global__ void scale_f32(P p) { }\n";
        var a = InMemoryAdditionalText.Native("a.cu", first);
        var b = InMemoryAdditionalText.Native("b.cu", second);

        foreach (GeneratorRun run in new[] { GeneratorHarness.Run(a, b), GeneratorHarness.Run(b, a) })
        {
            Diagnostic diagnostic = Assert.Single(run.Diagnostics);
            DiagnosticAssert.At(diagnostic, "ATTN003", "/repo/Native/b.cu", second, "scale_f32");
            Assert.Equal("Kernel 'scale_f32' is already declared at a.cu(2); extern \"C\" kernel names must be unique across Native/", Message(diagnostic));
            Assert.Contains("<c>scale_f32</c>, declared in <c>a.cu</c>", run.Source("KernelNames.g.cs"), StringComparison.Ordinal);
        }
    }

    [Fact]
    public void ATTN003_same_kernel_name_with_another_parameter_in_one_file()
    {
        const string source = """
            struct P { int n; };
            struct Q { int n; };
            extern "C" __global__ void scale_f32(P p);
            extern "C" __global__ void scale_f32(Q p) { }
            """;

        DiagnosticAssert.At(Assert.Single(Run(source).Diagnostics), "ATTN003", Path, source, "scale_f32", occurrence: 1);
    }

    [Fact]
    public void ATTN003_a_params_struct_defined_twice_is_reported_when_a_kernel_takes_it()
    {
        const string header = "namespace a { struct P { int n; }; }\n";
        const string source = "namespace b { struct P { int n; }; }\nextern \"C\" __global__ void k(P p) { }\nextern \"C\" __global__ void j(P p) { }\n";

        GeneratorRun run = GeneratorHarness.Run(InMemoryAdditionalText.Native("a.cuh", header), new InMemoryAdditionalText(Path, source));

        Diagnostic diagnostic = Assert.Single(run.Diagnostics);
        DiagnosticAssert.At(diagnostic, "ATTN003", Path, source, "P");
        Assert.Equal("Struct 'P' is already defined at a.cuh(1); a params struct is defined once across Native/", Message(diagnostic));
        Assert.Equal(["KernelNames.g.cs"], run.HintNames);
    }

    [Fact]
    public void ATTN003_an_entry_macro_defined_twice()
    {
        const string first = "#define ENTRY(n) extern \"C\" __global__ void k_##n(P p) { }\n";
        const string second = "struct P { int n; };\n#define ENTRY(n) extern \"C\" __global__ void j_##n(P p) { }\nENTRY(a)\n";

        GeneratorRun run = GeneratorHarness.Run(InMemoryAdditionalText.Native("a.cuh", first), InMemoryAdditionalText.Native("b.cu", second));

        Diagnostic diagnostic = Assert.Single(run.Diagnostics);
        DiagnosticAssert.At(diagnostic, "ATTN003", "/repo/Native/b.cu", second, "ENTRY");
        Assert.Equal("Macro 'ENTRY' is already defined at a.cuh(1); a macro that declares kernels is defined once across Native/", Message(diagnostic));
        Assert.Contains("\"k_a\"", run.Source("KernelNames.g.cs"), StringComparison.Ordinal);
        Assert.DoesNotContain("\"j_a\"", run.Source("KernelNames.g.cs"), StringComparison.Ordinal);
    }

    [Fact]
    public void Prototype_then_definition_in_one_file_is_one_kernel() =>
        Assert.Empty(Run("struct P { int n; };\nextern \"C\" __global__ void k(P p);\nextern \"C\" __global__ void k(P p) { }\n").Diagnostics);

    [Theory]
    [InlineData("extern \"C\" __global__ int count_f32(P p) { return 0; }", "int", "count_f32")]
    [InlineData("extern \"C\" __global__ float* pick_f32(P p) { return 0; }", "float*", "pick_f32")]
    [InlineData("extern \"C\" __launch_bounds__(64) __global__ unsigned long long big_f32(P p) { }", "unsigned long long", "big_f32")]
    public void ATTN004_non_void_return(string declaration, string returnType, string kernel)
    {
        string source = Prefix + declaration;
        GeneratorRun run = Run(source);

        Diagnostic diagnostic = Assert.Single(run.Diagnostics);
        DiagnosticAssert.At(diagnostic, "ATTN004", Path, source, returnType, Occurrences(Prefix, returnType));
        Assert.Equal($"Kernel '{kernel}' returns '{returnType}'; a __global__ function must return void", Message(diagnostic));
        Assert.Equal(["KernelNames.g.cs"], run.HintNames);
    }

    [Fact]
    public void ATTN005_fields_that_collide_in_csharp()
    {
        const string source = """
            struct TwiceParams { int q_len; int qLen; float native_size; int twice_params; };
            extern "C" __global__ void twice_f32(TwiceParams p) { }
            """;

        GeneratorRun run = Run(source);

        Assert.Collection(
            run.Diagnostics,
            d => DiagnosticAssert.At(d, "ATTN005", Path, source, "qLen"),
            d => DiagnosticAssert.At(d, "ATTN005", Path, source, "native_size"),
            d => DiagnosticAssert.At(d, "ATTN005", Path, source, "twice_params"));
        Assert.Equal(
            "Field 'qLen' of struct 'TwiceParams' becomes the C# name 'QLen', which an earlier field already has; rename it in the source",
            Message(run.Diagnostics[0]));
        Assert.Contains("a member every generated struct has", Message(run.Diagnostics[1]), StringComparison.Ordinal);
        Assert.Contains("the struct's own C# name", Message(run.Diagnostics[2]), StringComparison.Ordinal);
    }

    [Fact]
    public void ATTN005_kernels_that_collide_in_csharp()
    {
        const string source = """
            struct P { int n; };
            extern "C" __global__ void scale_f32(P p) { }
            extern "C" __global__ void ScaleF32(P p) { }
            """;

        GeneratorRun run = Run(source);

        Diagnostic diagnostic = Assert.Single(run.Diagnostics);
        DiagnosticAssert.At(diagnostic, "ATTN005", Path, source, "ScaleF32");
        Assert.Equal(
            "Kernel 'ScaleF32' becomes the C# name 'ScaleF32', which kernel 'scale_f32' at bad.cu(2) already becomes; rename one of them",
            Message(diagnostic));
    }

    [Fact]
    public void ATTN005_structs_that_collide_in_csharp()
    {
        const string source = """
            struct row_params { int n; };
            struct RowParams { int n; };
            extern "C" __global__ void a(row_params p) { }
            extern "C" __global__ void b(RowParams p) { }
            """;

        GeneratorRun run = Run(source);

        Diagnostic diagnostic = Assert.Single(run.Diagnostics);
        DiagnosticAssert.At(diagnostic, "ATTN005", Path, source, "RowParams");
        Assert.Equal("Struct 'RowParams' becomes the C# name 'RowParams', which struct 'row_params' already becomes; rename one of them", Message(diagnostic));
    }

    [Fact]
    public void ATTN005_family_whose_csharp_name_a_kernel_has()
    {
        const string source = """
            template <typename T> struct P { T* x; };
            extern "C" __global__ void scale(P<float> p) { }
            extern "C" __global__ void scale_f32(P<float> p) { }
            extern "C" __global__ void scale_f16(P<__half> p) { }
            """;

        GeneratorRun run = Run(source);

        Diagnostic diagnostic = Assert.Single(run.Diagnostics);
        DiagnosticAssert.At(diagnostic, "ATTN005", Path, source, "scale_f32");
        Assert.Equal(
            "The 'scale' dtype family becomes the C# name 'Scale', which kernel 'scale' at bad.cu(2) already becomes; rename one of them",
            Message(diagnostic));
        Assert.DoesNotContain("ScaleName<T>", run.Source("KernelNames.g.cs"), StringComparison.Ordinal);
        Assert.Empty(run.CompilerProblems());
    }

    [Theory]
    [InlineData("norm_f32(P<float> p)", "norm_f16(Q<__half> p)", "it takes 'Q<__half>' and 'norm_f32' takes 'P<float>'")]
    [InlineData("norm_f32(P<float> p)", "norm_f16(P<float> p)", "it takes 'P<float>', not its own element type's 'P<__half>'")]
    [InlineData("norm_f16(P<__half> p)", "norm_bf16(P<__half> p)", "it takes 'P<__half>', not its own element type's 'P<__nv_bfloat16>'")]
    public void ATTN006_member_that_does_not_take_the_struct_with_its_own_element_type(string reference, string member, string reason)
    {
        string source = "template <typename T> struct P { T* x; };\ntemplate <typename T> struct Q { T* x; };\n"
            + "extern \"C\" __global__ void " + reference + " { }\nextern \"C\" __global__ void " + member + " { }\n";
        string name = member[..member.IndexOf('(', StringComparison.Ordinal)];

        GeneratorRun run = Run(source);

        Diagnostic diagnostic = Assert.Single(run.Diagnostics);
        DiagnosticAssert.At(diagnostic, "ATTN006", Path, source, name);
        Assert.Equal(
            $"Kernel '{name}' does not fit the 'norm' dtype family: {reason}. A family's kernels take one params struct, each with its own "
            + "element type (float, __half, __nv_bfloat16) where the struct is a template, so there is no KernelNames.NormName<T>(); each "
            + "kernel keeps its own name.",
            Message(diagnostic));
        Assert.DoesNotContain("NormName<T>", run.Source("KernelNames.g.cs"), StringComparison.Ordinal);
        Assert.Empty(run.CompilerProblems());
    }

    [Theory]
    [InlineData("k(float* x, int n)", "float* x, int n", "Kernel 'k' takes 2 parameters")]
    [InlineData("k()", "()", "Kernel 'k' takes no parameters")]
    [InlineData("k(void)", "(void)", "Kernel 'k' takes no parameters")]
    [InlineData("k(int n)", "int n", "Kernel 'k' takes 'int n' (a scalar or pointer, not a struct)")]
    [InlineData("k(const P* p)", "const P* p", "Kernel 'k' takes 'const P* p' (a pointer: pass the struct by value)")]
    [InlineData("k(const P& p)", "const P& p", "Kernel 'k' takes 'const P& p' (a reference: pass the struct by value)")]
    [InlineData("k(P)", "P", "Kernel 'k' takes 'P' (no parameter name)")]
    [InlineData("k(P p[2])", "P p[2]", "Kernel 'k' takes 'P p[2]' (expected only the parameter's name after the struct)")]
    public void ATTN007_kernels_that_do_not_take_one_struct_by_value(string declaration, string at, string message)
    {
        string prefix = Prefix + "extern \"C\" __global__ void ";
        string source = prefix + declaration + " { }\n";

        GeneratorRun run = Run(source);

        Diagnostic diagnostic = Assert.Single(run.Diagnostics);
        DiagnosticAssert.At(diagnostic, "ATTN007", Path, source, at, Occurrences(prefix, at));
        Assert.StartsWith(message + "; an entry point takes exactly one parameter, a params struct by value", Message(diagnostic), StringComparison.Ordinal);
        Assert.Equal(["KernelNames.g.cs"], run.HintNames);
    }

    [Theory]
    [InlineData("k(Missing p)", "Missing p", "Kernel 'k' takes 'Missing', but no Native/*.cu or *.cuh file defines struct 'Missing' at namespace scope")]
    [InlineData("k(T1 p)", "T1 p", "Kernel 'k' takes 'T1', but 'T1' is a template: name the element type (T1<float>, <__half> or <__nv_bfloat16>)")]
    [InlineData("k(S<float> p)", "S<float> p", "Kernel 'k' takes 'S<float>', but 'S' is not a template")]
    [InlineData("k(T1<double> p)", "T1<double> p", "Kernel 'k' takes 'T1<double>', but 'double' is not an element type (float, __half or __nv_bfloat16)")]
    [InlineData("k(Local p)", "Local p", "Kernel 'k' takes 'Local', but no Native/*.cu or *.cuh file defines struct 'Local' at namespace scope")]
    public void ATTN008_params_structs_that_cannot_be_resolved(string declaration, string at, string message)
    {
        string source = "template <typename T> struct T1 { T* x; };\nstruct S { int n; };\n"
            + "__device__ void f() { struct Local { int n; }; }\nextern \"C\" __global__ void " + declaration + " { }\n";

        GeneratorRun run = Run(source);

        Diagnostic diagnostic = Assert.Single(run.Diagnostics);
        DiagnosticAssert.At(diagnostic, "ATTN008", Path, source, at);
        Assert.Equal(message, Message(diagnostic));
    }

    [Theory]
    [InlineData("struct P { int n; __device__ int twice() const { return 2 * n; } };", "has a member function ('__device__ int twice() const')")]
    [InlineData("struct P { int n; int twice() const; };", "has a member function ('int twice() const')")]
    [InlineData("struct Base { int m; };\nstruct P : Base { int n; };", "derives from another struct")]
    [InlineData("struct P { int n = 1; };", "gives a member a default value ('int n = 1')")]
    [InlineData("struct P { int n{1}; };", "gives a member a default value ('int n{1}')")]
    [InlineData("struct P { int n : 4; };", "has a bit-field or other member C# cannot lay out ('int n : 4')")]
    [InlineData("struct P { static constexpr int kRows = 4; int n; };", "has a member that is not a data member ('static constexpr int kRows = 4')")]
    [InlineData("struct P { int n; hopper::TensorMap map; };", "has member 'map' ('hopper::TensorMap', 64-byte aligned) at offset 64, where C#'s sequential layout would put it at 8; declare such members first")]
    [InlineData("struct P { private: int n; };", "has access specifiers ('private:')")]
    [InlineData("struct P { };", "has no data members")]
    public void ATTN009_structs_that_are_not_plain_data(string definition, string what)
    {
        string source = definition + "\nextern \"C\" __global__ void k(P p) { }\nextern \"C\" __global__ void j(P p) { }\n";

        GeneratorRun run = Run(source);

        Diagnostic diagnostic = Assert.Single(run.Diagnostics);
        DiagnosticAssert.At(diagnostic, "ATTN009", Path, source, "P");
        Assert.Equal($"Params struct 'P' {what}; a params struct holds data members only, one C# field each (see Native/README.md)", Message(diagnostic));
        Assert.Equal(["KernelNames.g.cs"], run.HintNames);
    }

    [Fact]
    public void ATTN009_templates_other_than_one_element_type()
    {
        const string source = """
            template <typename T, int N> struct P { T* x; };
            extern "C" __global__ void k(P<float> p) { }
            """;

        Diagnostic diagnostic = Assert.Single(Run(source).Diagnostics);
        DiagnosticAssert.At(diagnostic, "ATTN009", Path, source, "P");
        Assert.Contains("is a template whose parameters are not one element type ('template <typename T>')", Message(diagnostic), StringComparison.Ordinal);
    }

    [Fact]
    public void A_struct_with_problems_that_no_kernel_takes_reports_nothing() =>
        Assert.Empty(Run("struct Tile { static constexpr int kRows = 4; __device__ int rows() const { return kRows; } };\n").Diagnostics);

    [Fact]
    public void Errors_in_one_kernel_leave_the_others_generated()
    {
        const string source = """
            template <typename T> struct P { T* x; };
            struct Bad { float3 v; };
            extern "C" __global__ void good_f32(P<float> p) { }
            extern "C" __global__ void bad_f32(Bad p) { }
            extern "C" __global__ int worse_f32(P<float> p) { }
            extern "C" __global__ void scalar_f32(float* x) { }
            extern "C" __global__ void fine_f16(P<__half> p) { }
            """;

        GeneratorRun run = Run(source);

        Assert.Equal(["ATTN004", "ATTN007", "ATTN001"], run.Diagnostics.Select(d => d.Id));
        Assert.Equal(["KernelNames.g.cs", "NativeKernels.P.g.cs", "P.g.cs"], run.HintNames);
        Assert.Contains("FineF16Name", run.Source("KernelNames.g.cs"), StringComparison.Ordinal);
        Assert.DoesNotContain("BadF32Name", run.Source("KernelNames.g.cs"), StringComparison.Ordinal);
        Assert.Empty(run.CompilerProblems());
    }

    /// <summary>A struct the declarations under test take.</summary>
    private const string Prefix = "struct P { int n; };\n";

    /// <summary>How often <paramref name="text"/> occurs in <paramref name="prefix"/>: the occurrence after it is the one under test.</summary>
    private static int Occurrences(string prefix, string text)
    {
        int count = 0;
        for (int i = prefix.IndexOf(text, StringComparison.Ordinal); i >= 0; i = prefix.IndexOf(text, i + 1, StringComparison.Ordinal))
        {
            count++;
        }

        return count;
    }

    private static GeneratorRun Run(string source) => GeneratorHarness.Run(new InMemoryAdditionalText(Path, source));

    private static string Message(Diagnostic diagnostic) => diagnostic.GetMessage(System.Globalization.CultureInfo.InvariantCulture);
}
