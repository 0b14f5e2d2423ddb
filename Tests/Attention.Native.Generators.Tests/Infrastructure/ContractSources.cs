namespace Attention.Native.Generators.Tests.Infrastructure;

/// <summary>
/// What the generated code compiles against: the library's real <c>DevicePointer&lt;T&gt;</c> and
/// <c>LaunchConfiguration</c> (embedded from the library's sources), plus stand-ins for <c>BFloat16</c> and for
/// <c>KernelLauncher.Launch</c>, which the CUDA backend implements (this one records the call).
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
            /// <summary>
            /// Stand-in for the backend's launcher: the signature the generated code calls. It records the call, so
            /// tests that run generated code can see which kernel was launched and with what first argument.
            /// </summary>
            internal static unsafe class KernelLauncher
            {
                /// <summary>The entry point of the last launch.</summary>
                public static string? LastKernel;

                /// <summary>The function of the last launch.</summary>
                public static nint LastFunction;

                /// <summary>The first argument of the last launch (8 bytes: a pointer), 0 for a kernel without any.</summary>
                public static ulong LastFirstArgument;

                /// <summary>Launches <paramref name="function"/>.</summary>
                /// <param name="function">The function.</param>
                /// <param name="launch">The launch configuration.</param>
                /// <param name="arguments">The argument addresses.</param>
                /// <param name="kernelName">The entry point, for error messages.</param>
                public static void Launch(nint function, in LaunchConfiguration launch, void** arguments, string kernelName)
                {
                    LastKernel = kernelName;
                    LastFunction = function;
                    LastFirstArgument = arguments == null ? 0 : *(ulong*)arguments[0];
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
