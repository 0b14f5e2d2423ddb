using Attention.Native.Generators.Tests.Infrastructure;

namespace Attention.Native.Generators.Tests;

/// <summary>
/// Entry points from macros: invocations of a function-like macro that declares <c>__global__</c> functions are
/// expanded — parameters, <c>##</c>, <c>#</c> — wherever the macro is defined, and the kernels they declare are read as
/// if written out, each reported at its invocation.
/// </summary>
public sealed class MacroExpansionTests
{
    private const string Params = "template <typename T> struct P { T* x; int n; };\nstruct Tile64 { int n; };\n";

    [Fact]
    public void A_macro_in_a_header_declares_kernels_in_every_file_that_invokes_it()
    {
        const string header = """
            #pragma once
            // One entry point per bucket and element type.
            #define ENTRY(bucket, dtype, T, Tile)                                         \
              extern "C" __global__ void __launch_bounds__(Tile::kThreads)               \
                  mma_d##bucket##_##dtype(const __grid_constant__ P<T> params) {         \
                body<T, Tile>(params);                                                    \
              }
            """;
        const string half = "#include \"entry.cuh\"\nENTRY(32, f16, __half, Tile32)\nENTRY(64, f16, __half, TILE(64, 4))\n";
        const string single = "#include \"entry.cuh\"\nENTRY(32, f32, float, TileTf32)\n";

        GeneratorRun run = GeneratorHarness.Run(
            InMemoryAdditionalText.Native("params.cuh", Params), InMemoryAdditionalText.Native("entry.cuh", header),
            InMemoryAdditionalText.Native("mma.cu", half), InMemoryAdditionalText.Native("mma_tf32.cu", single));

        Assert.Empty(run.Diagnostics);
        string names = run.Source("KernelNames.g.cs");
        Assert.Contains("public const string MmaD32F16Name = \"mma_d32_f16\";", names, StringComparison.Ordinal);
        Assert.Contains("public const string MmaD64F16Name = \"mma_d64_f16\";", names, StringComparison.Ordinal);
        Assert.Contains("<c>mma_d32_f32</c>, declared in <c>mma_tf32.cu</c>; takes <c>P&lt;float&gt;</c>", names, StringComparison.Ordinal);
        Assert.Contains("public static string MmaD32Name<T>()", names, StringComparison.Ordinal);
        Assert.Contains("typeof(T) == typeof(global::System.Half) ? global::System.Collections.Immutable.ImmutableArray.Create<string>(\"mma_d32_f16\", \"mma_d64_f16\")", run.Source("P.g.cs"), StringComparison.Ordinal);
    }

    [Fact]
    public void One_invocation_may_declare_several_kernels_and_stringize()
    {
        const string source = Params + """
            #define PAIR(dtype, T) \
              extern "C" __global__ void partial_##dtype(P<T> p) { log(#dtype); } \
              extern "C" __global__ void merge_##dtype(P<T> p) { }
            PAIR(f32, float);
            PAIR(bf16, __nv_bfloat16)
            """;

        GeneratorRun run = GeneratorHarness.Run(InMemoryAdditionalText.Native("pair.cu", source));

        Assert.Empty(run.Diagnostics);
        Assert.Equal(
            ["MergeBf16Name", "MergeF32Name", "PartialBf16Name", "PartialF32Name"],
            [.. System.Text.RegularExpressions.Regex.Matches(run.Source("KernelNames.g.cs"), @"const string (\w+) =").Select(m => m.Groups[1].Value)]);
    }

    [Fact]
    public void Invocations_inside_functions_and_other_macros_are_not_entry_points()
    {
        const string source = Params + """
            #define OTHER(x) x + 1
            #define ENTRY(n) extern "C" __global__ void k_##n(P<float> p) { }
            __device__ int f() { ENTRY(inside); return OTHER(2); }
            OTHER(3);
            ENTRY(outside)
            """;

        GeneratorRun run = GeneratorHarness.Run(InMemoryAdditionalText.Native("entries.cu", source));

        Assert.Empty(run.Diagnostics);
        Assert.Contains("\"k_outside\"", run.Source("KernelNames.g.cs"), StringComparison.Ordinal);
        Assert.DoesNotContain("k_inside", run.Source("KernelNames.g.cs"), StringComparison.Ordinal);
    }

    [Fact]
    public void A_problem_in_an_expansion_is_reported_at_the_invocation()
    {
        const string source = Params + "#define ENTRY(n, T) extern \"C\" __global__ void k_##n(T p) { }\nENTRY(a, int)\n";

        GeneratorRun run = GeneratorHarness.Run(new InMemoryAdditionalText("/repo/Native/entries.cu", source));

        Microsoft.CodeAnalysis.Diagnostic diagnostic = Assert.Single(run.Diagnostics);
        DiagnosticAssert.At(diagnostic, "ATTN007", "/repo/Native/entries.cu", source, "ENTRY(a, int)");
        Assert.Contains("Kernel 'k_a' takes 'int p'", diagnostic.GetMessage(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);
    }

    [Fact]
    public void An_invocation_of_a_macro_no_file_defines_is_not_read() =>
        Assert.Equal(["KernelNames.g.cs"], GeneratorHarness.Run(InMemoryAdditionalText.Native("entries.cu", Params + "ENTRY(a)\n")).HintNames);
}
