using System.Reflection;
using System.Text.RegularExpressions;
using Attention.Native.Cuda.Interop;

namespace Attention.Native.Tests;

/// <summary>
/// The PTX the CUDA backend loads is embedded in the library (<c>ptx/&lt;name&gt;.ptx</c>, from the committed
/// <c>Native/*.ptx</c>) and declares the entry points of <c>Native/README.md</c> with their parameter lists. Runs
/// everywhere, GPU or not; where nvcc is installed <c>./build.sh test</c> also checks that the committed PTX is what
/// the <c>.cu</c> sources compile to.
/// </summary>
public sealed partial class PtxResourceTests
{
    private const string SimtResource = "ptx/attention_simt.ptx";

    /// <summary>
    /// The PTX parameter types of <c>attention_simt_*</c>, in order: q, k, v, o, lse, probs, mask, bias, key_lengths
    /// (pointers); batch, q_heads, kv_heads, q_len, k_len, head_dim, value_dim (int); twelve q/k/v/o strides and
    /// four mask/bias strides (long long); scale, softcap (float); causal, window_left, window_right (int).
    /// </summary>
    private static readonly string[] SimtParameters =
    [
        .. Enumerable.Repeat("u64", 9),
        .. Enumerable.Repeat("u32", 7),
        .. Enumerable.Repeat("u64", 16),
        "f32", "f32",
        "u32", "u32", "u32",
    ];

    private static Assembly Library => typeof(AttentionBackend).Assembly;

    [Fact]
    public void Every_embedded_ptx_resource_is_named_ptx_slash_file()
    {
        string[] names = Library.GetManifestResourceNames();
        Assert.Contains(SimtResource, names);
        Assert.All(names.Where(n => n.EndsWith(".ptx", StringComparison.Ordinal)), n => Assert.StartsWith("ptx/", n, StringComparison.Ordinal));
    }

    [Fact]
    public void Simt_ptx_targets_compute_80_with_64_bit_addresses()
    {
        string ptx = ReadResource(SimtResource);
        Assert.Matches(new Regex(@"^\.version \d+\.\d+$", RegexOptions.Multiline), ptx);
        Assert.Matches(new Regex(@"^\.target sm_80$", RegexOptions.Multiline), ptx);
        Assert.Matches(new Regex(@"^\.address_size 64$", RegexOptions.Multiline), ptx);
    }

    [Theory]
    [InlineData("attention_simt_f32")]
    [InlineData("attention_simt_f16")]
    [InlineData("attention_simt_bf16")]
    public void Simt_entry_point_has_the_readme_parameter_list(string kernel)
    {
        string ptx = ReadResource(SimtResource);
        var entry = new Regex(@"^\.visible \.entry " + Regex.Escape(kernel) + @"\((?<params>[^)]*)\)", RegexOptions.Multiline)
            .Match(ptx);
        Assert.True(entry.Success, $"{SimtResource} has no '.visible .entry {kernel}('");
        string[] types = ParameterPattern().Matches(entry.Groups["params"].Value)
            .Select(m => m.Groups["type"].Value)
            .ToArray();
        Assert.Equal(SimtParameters, types);
    }

    /// <summary>The launchers and names generated from <c>Native/*.cu</c> are those of the PTX that ships.</summary>
    [Fact]
    public void Every_generated_kernel_name_is_an_entry_point_of_the_embedded_ptx()
    {
        string[] entries =
        [
            .. Library.GetManifestResourceNames()
                .Where(n => n.StartsWith("ptx/", StringComparison.Ordinal))
                .SelectMany(n => EntryPattern().Matches(ReadResource(n)).Select(m => m.Groups["name"].Value)),
        ];
        Assert.NotEmpty(KernelNames.All);
        Assert.Equal(KernelNames.All.Order(StringComparer.Ordinal), entries.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Simt_ptx_is_free_of_machine_specific_text()
    {
        // The committed PTX must be byte-identical wherever ./build.sh ptx runs: no paths, no debug line tables.
        string ptx = ReadResource(SimtResource);
        Assert.DoesNotMatch(new Regex(@"^\s*\.(file|loc)\s", RegexOptions.Multiline), ptx);
        Assert.DoesNotContain("/home/", ptx, StringComparison.Ordinal);
        Assert.DoesNotContain("/work/", ptx, StringComparison.Ordinal);
        Assert.DoesNotContain("\r", ptx, StringComparison.Ordinal);
    }

    private static string ReadResource(string name)
    {
        using Stream? stream = Library.GetManifestResourceStream(name);
        Assert.NotNull(stream);
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    [GeneratedRegex(@"\.param \.(?<type>[a-z]\d+) \w+_param_\d+")]
    private static partial Regex ParameterPattern();

    [GeneratedRegex(@"^\.visible \.entry (?<name>\w+)\(", RegexOptions.Multiline)]
    private static partial Regex EntryPattern();
}
