using System.Reflection;
using System.Text.RegularExpressions;
using Attention.Native.Cuda.Interop;

namespace Attention.Native.Tests;

/// <summary>
/// The PTX the CUDA backend loads is embedded in the library (<c>ptx/&lt;name&gt;.ptx</c>, from the committed
/// <c>Native/*.ptx</c>) and declares the entry points of <c>Native/README.md</c> (their one parameter:
/// <see cref="KernelParamsLayoutTests"/>). Runs
/// everywhere, GPU or not; where nvcc is installed <c>./build.sh test</c> also checks that the committed PTX is what
/// the <c>.cu</c> sources compile to.
/// </summary>
public sealed partial class PtxResourceTests
{
    private const string SimtResource = "ptx/attention_simt.ptx";

    internal static Assembly Library => typeof(AttentionBackend).Assembly;

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

    /// <summary>The names generated from <c>Native/*.cu</c> are those of the PTX that ships.</summary>
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

    internal static string ReadResource(string name)
    {
        using Stream? stream = Library.GetManifestResourceStream(name);
        Assert.NotNull(stream);
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    [GeneratedRegex(@"^\.visible \.entry (?<name>\w+)\(", RegexOptions.Multiline)]
    private static partial Regex EntryPattern();
}
