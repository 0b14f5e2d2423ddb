using System.Reflection;
using Attention.Native.Generators.Tests.Infrastructure;

namespace Attention.Native.Generators.Tests;

/// <summary>
/// The generated struct, launch and name lookup, run: a kernel declared with the struct for the element type is
/// launched with the struct's address as its one argument; any other kernel, and any element type no kernel takes,
/// is refused before the launcher is called.
/// </summary>
public sealed class LaunchTests
{
    private const string Caller = """
        namespace Attention.Native.Cuda.Interop
        {
            internal static class Caller
            {
                /// <summary>Launches <paramref name="kernel"/> with x and y set; says what the stand-in launcher got.</summary>
                public static string Launch<T>(string kernel, ulong x)
                    where T : unmanaged
                {
                    var parameters = new ScaleParams<T> { X = new DevicePointer<T>(x), Y = new DevicePointer<T>(x + 64), N = 10, Factor = 0.5f };
                    KernelLauncher.LastKernel = null;
                    NativeKernels.Launch(new global::Attention.Native.Cuda.CudaKernel(42, kernel), default, in parameters);
                    ulong first = System.BitConverter.ToUInt64(KernelLauncher.LastArgument, 0);
                    ulong second = System.BitConverter.ToUInt64(KernelLauncher.LastArgument, 8);
                    return KernelLauncher.LastKernel + " " + KernelLauncher.LastFunction + " " + first + " " + second;
                }

                /// <summary>The generated name lookup.</summary>
                public static string Name<T>()
                    where T : unmanaged => KernelNames.ScaleName<T>();

                /// <summary>The kernels that take the struct for T.</summary>
                public static string Kernels<T>()
                    where T : unmanaged => string.Join(",", ScaleParams<T>.Kernels);
            }
        }
        """;

    private static readonly Lazy<Assembly> Compiled = new(Compile);

    public static TheoryData<string, string> Members => new()
    {
        { "float", "scale_f32" },
        { "Half", "scale_f16" },
        { "BFloat16", "scale_bf16" },
    };

    [Theory]
    [MemberData(nameof(Members))]
    public void Each_element_type_launches_its_own_kernel_with_the_struct_as_its_argument(string element, string kernel)
    {
        Assert.Equal(kernel + " 42 4096 4160", Call("Launch", element, kernel, 4096UL));
        Assert.Equal(kernel, Call("Name", element));
        Assert.Equal(kernel, Call("Kernels", element));
    }

    [Theory]
    [InlineData("float", "scale_f16")]
    [InlineData("Half", "scale_bf16")]
    [InlineData("BFloat16", "other")]
    public void A_kernel_declared_with_another_element_type_or_struct_is_refused(string element, string kernel)
    {
        var error = Assert.IsType<ArgumentException>(
            Assert.Throws<TargetInvocationException>(() => Call("Launch", element, kernel, 4096UL)).InnerException);

        Assert.Equal("kernel", error.ParamName);
        Assert.StartsWith($"Kernel '{kernel}' is not declared with ScaleParams for element type ", error.Message, StringComparison.Ordinal);
        Assert.Contains(", so it would read other parameters than these; the kernels that are: scale_", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Launch")]
    [InlineData("Name")]
    public void Other_element_types_are_not_supported_and_named(string method)
    {
        object[] arguments = method == "Launch" ? ["scale_f32", 4096UL] : [];
        var error = Assert.IsType<NotSupportedException>(
            Assert.Throws<TargetInvocationException>(() => Call(method, "int", arguments)).InnerException);

        Assert.Equal(
            method == "Launch"
                ? "No kernel takes ScaleParams with element type System.Int32; there are kernels for System.Single, System.Half, Attention.Native.BFloat16."
                : "The 'scale' kernels have no version for element type System.Int32; there are scale_f32 (System.Single), "
                    + "scale_f16 (System.Half), scale_bf16 (Attention.Native.BFloat16).",
            error.Message);
        Assert.Equal(string.Empty, Call("Kernels", "int"));
    }

    private static string Call(string method, string element, params object[] arguments)
    {
        Type type = element switch
        {
            "float" => typeof(float),
            "Half" => typeof(Half),
            "int" => typeof(int),
            _ => Compiled.Value.GetType("Attention.Native.BFloat16", throwOnError: true)!,
        };
        MethodInfo generic = Compiled.Value.GetType("Attention.Native.Cuda.Interop.Caller", throwOnError: true)!.GetMethod(method)!;
        return (string)generic.MakeGenericMethod(type).Invoke(null, arguments)!;
    }

    /// <summary>The generated code for <see cref="CudaSamples.ScaleFamily"/>, with the caller, emitted and loaded.</summary>
    private static Assembly Compile()
    {
        GeneratorRun run = GeneratorHarness.Run([InMemoryAdditionalText.Native("scale.cu", CudaSamples.ScaleFamily)], [Caller]);
        Assert.Empty(run.Diagnostics);
        return run.Load(nameof(LaunchTests));
    }
}
