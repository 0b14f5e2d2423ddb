using Attention.Native.Generators.Models;
using Attention.Native.Generators.Parsing;
using Microsoft.CodeAnalysis.Text;

namespace Attention.Native.Generators.Tests;

/// <summary>
/// A generator that throws fails the whole build with an unhelpful CS8785, so the parser must survive any text,
/// in particular a file being typed: every prefix of the samples parses without throwing.
/// </summary>
public sealed class ParserRobustnessTests
{
    public static TheoryData<string> Samples => new(
        nameof(CudaSamples.AttentionSimt), nameof(CudaSamples.AttentionParamsHeader), nameof(CudaSamples.OddFormatting),
        nameof(CudaSamples.SeveralKernels), nameof(CudaSamples.Layout));

    [Theory]
    [MemberData(nameof(Samples))]
    public void Every_prefix_of_a_sample_parses(string sample)
    {
        string text = sample switch
        {
            nameof(CudaSamples.AttentionSimt) => CudaSamples.AttentionSimt,
            nameof(CudaSamples.AttentionParamsHeader) => CudaSamples.AttentionParamsHeader,
            nameof(CudaSamples.OddFormatting) => CudaSamples.OddFormatting,
            nameof(CudaSamples.SeveralKernels) => CudaSamples.SeveralKernels,
            _ => CudaSamples.Layout,
        };
        var header = CudaFileParser.Parse("/repo/Native/attention_params.cuh", SourceText.From(CudaSamples.AttentionParamsHeader), TestContext.Current.CancellationToken);

        for (int length = 0; length <= text.Length; length++)
        {
            CudaFileModel model = CudaFileParser.Parse("/repo/Native/typing.cu", SourceText.From(text[..length]), TestContext.Current.CancellationToken);
            Assert.All(model.Diagnostics, d => Assert.InRange(d.Location.Span.End, 0, length));
            Assert.All(model.Structs.SelectMany(s => s.Problems), d => Assert.InRange(d.Location.Span.End, 0, length));
            Assert.All(model.Invocations, i => Assert.InRange(i.Location.Span.End, 0, length));

            // The catalog, too, survives every prefix: expansions of half-typed invocations, half-typed structs.
            KernelCatalogBuilder.Build([header, model], TestContext.Current.CancellationToken);
        }
    }

    [Theory]
    [InlineData("\"unterminated \\")]
    [InlineData("'\\")]
    [InlineData("R\"x(never closed")]
    [InlineData("/* never closed")]
    [InlineData("#define X \\")]
    [InlineData("extern \"C\" {")]
    [InlineData("}}}} extern \"C\" __global__")]
    [InlineData("extern \"C\" __global__ void k(float x[)")]
    [InlineData("extern \"C\" __global__ void k(]])")]
    [InlineData("#define E(a) extern \"C\" __global__ void k_##a(P p) {}\nE(")]
    [InlineData("#define E(a) extern \"C\" __global__ void a##\nE(x)")]
    [InlineData("#define E(a) ## extern \"C\" __global__ void k(P p) {}\nE(x)")]
    [InlineData("#define E( extern \"C\" __global__")]
    [InlineData("struct P { int n; struct")]
    [InlineData("template <> struct P { }; extern \"C\" __global__ void k(P<> p) {}")]
    [InlineData("struct P { int a, , b; }; extern \"C\" __global__ void k(P p) {}")]
    public void Pathological_text_parses(string text)
    {
        CudaFileModel model = CudaFileParser.Parse("/repo/Native/odd.cu", SourceText.From(text), TestContext.Current.CancellationToken);
        KernelCatalogBuilder.Build([model], TestContext.Current.CancellationToken);
    }
}
