using System.Reflection;
using System.Text.RegularExpressions;
using Attention.Native.Cpu;
using Attention.Native.Reference;

namespace Attention.Native.Tests.Api;

/// <summary>
/// README.md's C# examples, compiled and run on real data. Each <c>```csharp</c> block of the README is, in order,
/// the text of one <c>#region README</c> … <c>#endregion</c> of this file: the code around a region supplies what the
/// example takes as given and checks what it computes against the float64 <see cref="ReferenceAttention"/>.
/// <see cref="Readme_csharp_blocks_are_the_regions_of_this_file"/> keeps the two in step;
/// <c>ATTENTION_NATIVE_ACCEPT_README=1</c> makes it rewrite the README's blocks from this file instead.
/// </summary>
public sealed partial class ReadMeTests
{
    private const string AcceptVariable = "ATTENTION_NATIVE_ACCEPT_README";

    [Fact]
    public void Quick_start_matches_the_reference()
    {
        #region README
        using var backend = AttentionBackend.Create();   // Auto: CUDA where a usable GPU is, else the CPU
        Console.WriteLine($"{backend.Description}: {backend.SelectionReason}");

        var shape = new AttentionShape(batch: 2, heads: 8, queryLength: 128, keyLength: 128, headDim: 64);
        var q = new float[shape.QueryElementCount];   // [B, H, Lq, D]: AttentionLayout.Bhsd, the default
        var k = new float[shape.KeyElementCount];     // [B, H, Lk, D]
        var v = new float[shape.ValueElementCount];   // [B, H, Lk, Dv]
        var o = new float[shape.OutputElementCount];  // [B, H, Lq, Dv]
        var random = new Random(1);
        foreach (float[] x in new[] { q, k, v })
        {
            for (int i = 0; i < x.Length; i++) { x[i] = random.NextSingle() - 0.5f; }
        }

        var options = new AttentionOptions { Causal = CausalMask.TopLeft };   // PyTorch's is_causal=True
        backend.ScaledDotProductAttention<float>(shape, q, k, v, o, options);

        double error = ReferenceAttention.Compute<float>(shape, q, k, v, options).RelativeError<float>(o);
        Console.WriteLine($"relative error against float64: {error:E1}");   // float: ≤ 1e-5
        #endregion

        Assert.True(error <= 1e-5, $"relative error {error:E3} > 1e-5 on {backend.Description}");
        Assert.DoesNotContain(o, float.IsNaN);
    }

    [Fact]
    public void Backend_tensors_match_the_reference()
    {
        using var backend = new CpuBackend(new CpuBackendOptions { ThreadCount = 2 });
        var shape = new AttentionShape(batch: 2, heads: 8, queryLength: 128, keyLength: 128, headDim: 64);
        var random = TestRandom.Create(2);
        float[] q = TestData.Random<float>(random, shape.QueryElementCount, 1f);
        float[] k = TestData.Random<float>(random, shape.KeyElementCount, 1f);
        float[] v = TestData.Random<float>(random, shape.ValueElementCount, 1f);
        float[] o = TestData.Poison<float>(shape.OutputElementCount);
        var options = new AttentionOptions { Causal = CausalMask.TopLeft };

        #region README
        using var tq = backend.Upload<float>(q);
        using var tk = backend.Upload<float>(k);
        using var tv = backend.Upload<float>(v);
        using var to = backend.Allocate<float>(shape.OutputElementCount);
        using var lse = backend.Allocate<float>(shape.LogSumExpElementCount);   // [B, H, Lq], natural log
        backend.ScaledDotProductAttention(shape, tq, tk, tv, to, options, logSumExp: lse);
        to.CopyTo(o);
        #endregion

        var reference = ReferenceAttention.Compute<float>(shape, q, k, v, options);
        double error = reference.RelativeError<float>(o);
        Assert.True(error <= 1e-5, $"relative error {error:E3} > 1e-5");
        float[] logSumExp = lse.ToArray();
        for (int i = 0; i < logSumExp.Length; i++)
        {
            double expected = reference.LogSumExp[i];
            Assert.True(Math.Abs(logSumExp[i] - expected) <= 2e-5 * Math.Max(1, Math.Abs(expected)),
                $"log-sum-exp[{i}] = {logSumExp[i]}, expected {expected}");
        }
    }

    [Fact]
    public void Decoding_step_matches_the_reference()
    {
        using var backend = new CpuBackend(new CpuBackendOptions { ThreadCount = 2 });
        var random = TestRandom.Create(3);
        // [B, S, H, D]: 2 sequences, 1 query of 32 heads; 1000 cached keys and values of 8 heads; D = Dv = 128.
        float[] stepQuery = TestData.Random<float>(random, 2 * 1 * 32 * 128, 1f);
        float[] cachedKeys = TestData.Random<float>(random, 2 * 1000 * 8 * 128, 1f);
        float[] cachedValues = TestData.Random<float>(random, 2 * 1000 * 8 * 128, 1f);
        float[] stepOutput = TestData.Poison<float>(2 * 1 * 32 * 128);

        #region README
        var step = new AttentionShape(Batch: 2, QueryHeads: 32, KeyValueHeads: 8, QueryLength: 1, KeyLength: 1000,
            HeadDim: 128, ValueHeadDim: 128);
        var decode = new AttentionOptions
        {
            Layout = AttentionLayout.Bshd,
            Causal = CausalMask.BottomRight,   // the query is the last position
            KeyLengths = new[] { 1000, 640 },  // the second sequence holds 640 tokens
            Window = new SlidingWindow(Left: 256, Right: 0),
        };
        backend.ScaledDotProductAttention<float>(step, stepQuery, cachedKeys, cachedValues, stepOutput, decode);
        #endregion

        double error = ReferenceAttention.Compute<float>(step, stepQuery, cachedKeys, cachedValues, decode)
            .RelativeError<float>(stepOutput, AttentionLayout.Bshd);
        Assert.True(error <= 1e-5, $"relative error {error:E3} > 1e-5");
    }

    [Fact]
    public void Readme_csharp_blocks_are_the_regions_of_this_file()
    {
        string root = RepositoryRoot();
        string readmePath = Path.Combine(root, "README.md");
        string sourcePath = Path.Combine(root, "Tests", "Attention.Native.Tests", "Api", "ReadMeTests.cs");
        string readme = File.ReadAllText(readmePath).ReplaceLineEndings("\n");
        var examples = Regions(File.ReadAllText(sourcePath).ReplaceLineEndings("\n"));
        var blocks = CsharpBlock().Matches(readme);
        Assert.True(examples.Count > 0, $"{sourcePath} has no #region README.");
        Assert.True(blocks.Count == examples.Count,
            $"{readmePath} has {blocks.Count} ```csharp blocks and {sourcePath} {examples.Count} README regions: " +
            "every C# example of the README is a region of a test here, in the same order (add or remove both).");

        if (Environment.GetEnvironmentVariable(AcceptVariable) == "1")
        {
            // Replaced from the last block back, so the earlier blocks' offsets stay valid.
            for (int i = blocks.Count - 1; i >= 0; i--)
            {
                var code = blocks[i].Groups["code"];
                readme = readme[..code.Index] + examples[i] + readme[(code.Index + code.Length)..];
            }

            File.WriteAllText(readmePath, readme);
            return;
        }

        for (int i = 0; i < blocks.Count; i++)
        {
            string block = blocks[i].Groups["code"].Value;
            Assert.True(block == examples[i],
                $"README.md's C# block {i + 1} differs from README region {i + 1} of ReadMeTests.cs.\n" +
                $"--- README.md:\n{block}--- ReadMeTests.cs:\n{examples[i]}" +
                $"Edit one to match the other, or rerun with {AcceptVariable}=1 to copy the regions into README.md.");
        }
    }

    [Fact]
    public void Regions_are_read_without_their_indentation()
    {
        const string source = """
            class C
            {
                void M()
                {
                    int setup = 1;
                    #region Sample
                    if (setup > 0)
                    {
                        setup++;
                    }

                    #endregion
                }
            }
            """;

        Assert.Equal(["if (setup > 0)\n{\n    setup++;\n}\n"], Regions(source.ReplaceLineEndings("\n"), "#region Sample"));
    }

    /// <summary>The text of each region opened by <paramref name="marker"/>, without the indentation its lines share
    /// and without trailing blank lines, each line ending in a newline (as a fenced block's content does).</summary>
    private static List<string> Regions(string source, string marker = "#region README")
    {
        var regions = new List<string>();
        List<string>? lines = null;
        foreach (string line in source.Split('\n'))
        {
            string text = line.Trim();
            if (text == marker)
            {
                lines = [];
            }
            else if (lines is not null && text.StartsWith("#endregion", StringComparison.Ordinal))
            {
                while (lines.Count > 0 && lines[^1].Trim().Length == 0)
                {
                    lines.RemoveAt(lines.Count - 1);
                }

                int indent = lines.Where(l => l.Trim().Length > 0).Select(l => l.Length - l.TrimStart().Length).DefaultIfEmpty(0).Min();
                regions.Add(string.Concat(lines.Select(l => (l.Trim().Length == 0 ? "" : l[indent..].TrimEnd()) + "\n")));
                lines = null;
            }
            else
            {
                lines?.Add(line);
            }
        }

        return regions;
    }

    /// <summary>The repository: the folder above the tests' binaries that holds Attention.Native.sln (the tests may
    /// run from a copy, as on the GPU machine), else the one recorded at build time.</summary>
    private static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Attention.Native.sln")))
            {
                return directory.FullName;
            }
        }

        return typeof(ReadMeTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .Single(attribute => attribute.Key == "RepositoryRoot").Value!;
    }

    /// <summary>A fenced C# block; <c>code</c> is its content, every line with its newline.</summary>
    [GeneratedRegex(@"^```csharp\n(?<code>.*?)^```", RegexOptions.Multiline | RegexOptions.Singleline)]
    private static partial Regex CsharpBlock();
}
