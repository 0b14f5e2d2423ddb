using System.Reflection;
using System.Text.RegularExpressions;
using Attention.Native.Cuda.Interop;

namespace Attention.Native.Tests.Cuda;

/// <summary>
/// The PTX the CUDA backend loads is embedded in the library (<c>ptx/&lt;name&gt;.ptx</c>, from the committed
/// <c>Native/*.ptx</c>, and <c>sm90a/&lt;name&gt;.ptx</c> with its cubin, from <c>Native/sm90a/</c>) and declares the entry points of <c>Native/README.md</c> (their one parameter:
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
        Assert.All(
            names.Where(n => n.EndsWith(".ptx", StringComparison.Ordinal)),
            n => Assert.True(n.StartsWith("ptx/", StringComparison.Ordinal) || n.StartsWith("sm90a/", StringComparison.Ordinal), n));
    }

    /// <summary>The Hopper kernels ship as <c>.target sm_90a</c> PTX (PTX ISA 8.x, CUDA 12) and the cubin ptxas made of
    /// it (an ELF image), both free of paths.</summary>
    [Fact]
    public void Hopper_images_are_sm_90a_ptx_and_an_elf_cubin()
    {
        string ptx = ReadResource("sm90a/attention_hopper.ptx");
        Assert.Matches(new Regex(@"^\.version 8\.\d+$", RegexOptions.Multiline), ptx);
        Assert.Matches(new Regex(@"^\.target sm_90a$", RegexOptions.Multiline), ptx);
        Assert.DoesNotMatch(new Regex(@"^\s*\.(file|loc)\s", RegexOptions.Multiline), ptx);
        Assert.DoesNotContain("/work/", ptx, StringComparison.Ordinal);
        using Stream? cubin = Library.GetManifestResourceStream("sm90a/attention_hopper.cubin");
        Assert.NotNull(cubin);
        byte[] magic = new byte[4];
        cubin.ReadExactly(magic);
        Assert.Equal("\u007fELF"u8.ToArray(), magic);
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
                .Where(IsPtx)
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

    /// <summary>Whether <paramref name="resource"/> is embedded PTX: <c>ptx/*.ptx</c> (compute_80) or
    /// <c>sm90a/*.ptx</c>.</summary>
    internal static bool IsPtx(string resource) =>
        resource.EndsWith(".ptx", StringComparison.Ordinal)
        && (resource.StartsWith("ptx/", StringComparison.Ordinal) || resource.StartsWith("sm90a/", StringComparison.Ordinal));

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
