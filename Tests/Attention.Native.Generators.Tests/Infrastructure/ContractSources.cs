using System.IO;

namespace Attention.Native.Generators.Tests.Infrastructure;

/// <summary>
/// What the generated code compiles against: the library's real <c>DevicePointer&lt;T&gt;</c> and
/// <c>LaunchConfiguration</c> (embedded from the library's sources), plus stand-ins for <c>BFloat16</c> and for
/// <c>KernelLauncher.Launch</c>, which the CUDA backend implements.
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

        namespace Attention.Native.Cuda.Interop
        {
            /// <summary>Stand-in for the backend's launcher: the signature the generated code calls.</summary>
            internal static unsafe class KernelLauncher
            {
                /// <summary>Launches <paramref name="function"/>.</summary>
                /// <param name="function">The function.</param>
                /// <param name="launch">The launch configuration.</param>
                /// <param name="arguments">The argument addresses.</param>
                /// <param name="kernelName">The entry point, for error messages.</param>
                public static void Launch(nint function, in LaunchConfiguration launch, void** arguments, string kernelName)
                {
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
