using System.Reflection;
using System.Runtime.InteropServices;
using Attention.Native.Generators.Tests.Infrastructure;

namespace Attention.Native.Generators.Tests;

/// <summary>
/// The generator lays a struct out by C's rules (each field at the next multiple of its size, the whole rounded up to
/// the largest), and the C# struct it emits is laid out the same way at run time.
/// </summary>
public sealed class StructLayoutTests
{
    [Fact]
    public void Offsets_and_size_follow_C_layout_rules()
    {
        Type type = Load(CudaSamples.Layout).GetType("Attention.Native.Cuda.Interop.LayoutParams", throwOnError: true)!;

        Assert.Equal(64, (int)type.GetField("NativeSize")!.GetValue(null)!);
        Assert.Equal([0, 8, 16, 24, 32, 40, 48, 52, 56], NativeOffsets(type));
        Assert.Equal(
            ["A", "B", "C", "Flags", "HeadDim", "DQ", "X", "Y", "Tail"],
            type.GetFields(BindingFlags.Public | BindingFlags.Instance).Select(f => f.Name));
    }

    [Theory]
    [InlineData("LayoutParams", "")]
    [InlineData("ScaleParams`1", "float")]
    [InlineData("ScaleParams`1", "Half")]
    public void Runtime_offsets_and_size_are_the_generated_C_layout(string name, string element)
    {
        Assembly assembly = Load(CudaSamples.Layout + CudaSamples.ScaleFamily);
        Type type = assembly.GetType("Attention.Native.Cuda.Interop." + name, throwOnError: true)!;
        if (element.Length > 0)
        {
            type = type.MakeGenericType(element == "float" ? typeof(float) : typeof(Half));
        }

        FieldInfo[] fields = type.GetFields(BindingFlags.Public | BindingFlags.Instance);
        Assert.Equal(NativeOffsets(type), fields.Select(f => (int)Marshal.OffsetOf(type, f.Name)));
        int size = (int)typeof(System.Runtime.CompilerServices.Unsafe).GetMethod("SizeOf")!.MakeGenericMethod(type).Invoke(null, null)!;
        Assert.Equal((int)type.GetField("NativeSize")!.GetValue(null)!, size);
    }

    private static int[] NativeOffsets(Type type)
    {
        // NativeOffsets is a ReadOnlySpan<int> property, which reflection cannot return: the caller copies it.
        MethodInfo copy = type.Assembly.GetType("Attention.Native.Cuda.Interop.Offsets", throwOnError: true)!.GetMethod("Of")!;
        return (int[])copy.MakeGenericMethod(type).Invoke(null, null)!;
    }

    private static Assembly Load(string kernels)
    {
        string offsets = """
            namespace Attention.Native.Cuda.Interop
            {
                internal static class Offsets
                {
                    public static int[] Of<T>() => typeof(T).Name switch
                    {
                        "LayoutParams" => LayoutParams.NativeOffsets.ToArray(),
                        _ when typeof(T) == typeof(ScaleParams<float>) => ScaleParams<float>.NativeOffsets.ToArray(),
                        _ => ScaleParams<global::System.Half>.NativeOffsets.ToArray(),
                    };
                }
            }
            """;
        if (!kernels.Contains("ScaleParams", StringComparison.Ordinal))
        {
            kernels += CudaSamples.ScaleFamily;
        }

        GeneratorRun run = GeneratorHarness.Run([InMemoryAdditionalText.Native("layout.cu", kernels)], [offsets]);
        Assert.Empty(run.Diagnostics);
        return run.Load(nameof(StructLayoutTests));
    }
}
