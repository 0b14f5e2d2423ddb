using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;
using Attention.Native.Cuda.Interop;

namespace Attention.Native.Tests.Cuda;

/// <summary>
/// The parameter structs generated from <c>Native/*.cuh</c> and <c>*.cu</c> are laid out as C lays the structs out:
/// the runtime's size and field offsets equal those the generator computed by C's rules, and every embedded PTX entry
/// point takes one parameter of exactly that size — the struct of the kernels that name it. Runs everywhere, GPU or
/// not: a mismatch here is a kernel reading its parameters from the wrong bytes.
/// </summary>
public sealed partial class KernelParamsLayoutTests
{
    /// <summary>Every instantiation the kernels take: the type, its C size and field offsets, its kernels and its size at run time.</summary>
    private static readonly (Type Type, int NativeSize, int[] NativeOffsets, string[] Kernels, int Size)[] Structs =
    [
        Describe<AttentionParams<float>>(AttentionParams<float>.NativeSize, AttentionParams<float>.NativeOffsets, AttentionParams<float>.Kernels),
        Describe<AttentionParams<Half>>(AttentionParams<Half>.NativeSize, AttentionParams<Half>.NativeOffsets, AttentionParams<Half>.Kernels),
        Describe<AttentionParams<BFloat16>>(AttentionParams<BFloat16>.NativeSize, AttentionParams<BFloat16>.NativeOffsets, AttentionParams<BFloat16>.Kernels),
        Describe<AttentionBackwardParams<float>>(AttentionBackwardParams<float>.NativeSize, AttentionBackwardParams<float>.NativeOffsets, AttentionBackwardParams<float>.Kernels),
        Describe<AttentionBackwardParams<Half>>(AttentionBackwardParams<Half>.NativeSize, AttentionBackwardParams<Half>.NativeOffsets, AttentionBackwardParams<Half>.Kernels),
        Describe<AttentionBackwardParams<BFloat16>>(AttentionBackwardParams<BFloat16>.NativeSize, AttentionBackwardParams<BFloat16>.NativeOffsets, AttentionBackwardParams<BFloat16>.Kernels),
        Describe<AdditiveAttentionParams>(AdditiveAttentionParams.NativeSize, AdditiveAttentionParams.NativeOffsets, AdditiveAttentionParams.Kernels),
        Describe<HopperAttentionParams<Half>>(HopperAttentionParams<Half>.NativeSize, HopperAttentionParams<Half>.NativeOffsets, HopperAttentionParams<Half>.Kernels),
        Describe<HopperAttentionParams<BFloat16>>(HopperAttentionParams<BFloat16>.NativeSize, HopperAttentionParams<BFloat16>.NativeOffsets, HopperAttentionParams<BFloat16>.Kernels),
        Describe<KvCacheParams<float>>(KvCacheParams<float>.NativeSize, KvCacheParams<float>.NativeOffsets, KvCacheParams<float>.Kernels),
        Describe<KvCacheParams<Half>>(KvCacheParams<Half>.NativeSize, KvCacheParams<Half>.NativeOffsets, KvCacheParams<Half>.Kernels),
        Describe<KvCacheParams<BFloat16>>(KvCacheParams<BFloat16>.NativeSize, KvCacheParams<BFloat16>.NativeOffsets, KvCacheParams<BFloat16>.Kernels),
    ];

    public static TheoryData<int> StructIndices => [.. Enumerable.Range(0, Structs.Length)];

    [Theory]
    [MemberData(nameof(StructIndices))]
    public void Runtime_layout_is_the_C_layout(int index)
    {
        var (type, nativeSize, nativeOffsets, _, size) = Structs[index];
        var fields = type.GetFields(BindingFlags.Public | BindingFlags.Instance);
        Assert.Equal(nativeOffsets.Length, fields.Length);
        Assert.Equal(nativeOffsets, fields.Select(f => (int)Marshal.OffsetOf(type, f.Name)));
        Assert.Equal(nativeSize, size);
    }

    /// <summary>
    /// Each PTX entry point declares one parameter, <c>.param .align 8 .b8 &lt;entry&gt;_param_0[N]</c> (<c>.align 64</c>
    /// for a struct of tensor maps), with N the size
    /// of the struct whose <c>Kernels</c> name the entry; every entry is some struct's kernel, and every kernel an entry.
    /// </summary>
    [Fact]
    public void Every_ptx_entry_takes_its_struct_by_size()
    {
        var entries = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (string resource in PtxResourceTests.Library.GetManifestResourceNames().Where(PtxResourceTests.IsPtx))
        {
            foreach (Match entry in EntryPattern().Matches(PtxResourceTests.ReadResource(resource)))
            {
                string name = entry.Groups["name"].Value;
                var parameter = ParameterPattern().Match(entry.Groups["params"].Value);
                Assert.True(parameter.Success, $"{name} in {resource} does not take one struct: ({entry.Groups["params"].Value})");
                Assert.Equal(name, parameter.Groups["entry"].Value);
                entries.Add(name, int.Parse(parameter.Groups["bytes"].Value, System.Globalization.CultureInfo.InvariantCulture));
            }
        }

        var kernels = Structs.SelectMany(s => s.Kernels.Select(k => (Kernel: k, s.NativeSize, s.Type, s.Size))).ToList();
        Assert.Equal(entries.Keys.Order(StringComparer.Ordinal), kernels.Select(k => k.Kernel).Order(StringComparer.Ordinal));
        Assert.All(kernels, k => Assert.True(
            entries[k.Kernel] == k.NativeSize && k.NativeSize == k.Size,
            $"{k.Kernel}: .param {entries[k.Kernel]} bytes, {k.Type.Name} {k.NativeSize} bytes in C, {k.Size} at run time"));
    }

    private static (Type, int, int[], string[], int) Describe<T>(int nativeSize, ReadOnlySpan<int> offsets, System.Collections.Immutable.ImmutableArray<string> kernels)
        where T : unmanaged => (typeof(T), nativeSize, offsets.ToArray(), [.. kernels], Unsafe.SizeOf<T>());

    [GeneratedRegex(@"^\.visible \.entry (?<name>\w+)\((?<params>[^)]*)\)", RegexOptions.Multiline)]
    private static partial Regex EntryPattern();

    [GeneratedRegex(@"^\s*\.param \.align (8|64) \.b8 (?<entry>\w+)_param_0\[(?<bytes>\d+)\]\s*$")]
    private static partial Regex ParameterPattern();
}
