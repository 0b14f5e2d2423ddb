namespace Attention.Native.Generators.Tests.Infrastructure;

/// <summary>
/// What the generated code compiles against: the library's real <c>DevicePointer&lt;T&gt;</c> and
/// <c>LaunchConfiguration</c> (embedded from the library's sources), plus stand-ins for <c>BFloat16</c>,
/// <c>CudaKernel</c>, <c>CudaException</c> and <c>KernelLauncher.Launch</c>, which the CUDA backend implements (this
/// one records the call).
/// </summary>
internal static class ContractSources
{
    public const string Stubs = """
        namespace Attention.Native
        {
            /// <summary>Stand-in for the library's bfloat16.</summary>
            public readonly struct BFloat16
            {
                /// <summary>The raw bits.</summary>
                public ushort RawValue { get; }
            }
        }

        namespace Attention.Native.Cuda
        {
            /// <summary>Stand-in for the backend's kernel handle: what the generated launches read of it.</summary>
            /// <param name="Function">The function.</param>
            /// <param name="Name">The entry point.</param>
            internal sealed record CudaKernel(nint Function, string Name);

            /// <summary>Stand-in for the backend's driver exception, which the launches document.</summary>
            internal sealed class CudaException : System.Exception
            {
            }
        }

        namespace Attention.Native.Cuda.Interop
        {
            /// <summary>
            /// Stand-in for the backend's launcher: the signature the generated code calls. It records the call, so
            /// tests that run generated code can see which kernel was launched and with what argument.
            /// </summary>
            internal static unsafe class KernelLauncher
            {
                /// <summary>The entry point of the last launch.</summary>
                public static string? LastKernel;

                /// <summary>The function of the last launch.</summary>
                public static nint LastFunction;

                /// <summary>The first 16 bytes the launch's one argument points to (its struct's first fields).</summary>
                public static byte[] LastArgument = [];

                /// <summary>Launches <paramref name="kernel"/>.</summary>
                /// <param name="kernel">The kernel.</param>
                /// <param name="launch">The launch configuration.</param>
                /// <param name="arguments">The argument addresses.</param>
                public static void Launch(global::Attention.Native.Cuda.CudaKernel kernel, in LaunchConfiguration launch, void** arguments)
                {
                    LastKernel = kernel.Name;
                    LastFunction = kernel.Function;
                    LastArgument = new System.ReadOnlySpan<byte>(arguments[0], 16).ToArray();
                }
            }
        }
        """;

    public static string DevicePointer => Read("Contract.DevicePointer.cs");

    public static string LaunchConfiguration => Read("Contract.LaunchConfiguration.cs");

    private static string Read(string name)
    {
        using Stream stream = typeof(ContractSources).Assembly.GetManifestResourceStream(name)
            ?? throw new InvalidOperationException("Missing embedded contract source " + name);
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
