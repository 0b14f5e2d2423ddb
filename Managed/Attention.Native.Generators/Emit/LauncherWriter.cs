using Attention.Native.Generators.Models;

namespace Attention.Native.Generators.Emit;

/// <summary>
/// Writes one kernel's launcher: a static method taking the kernel's parameters, typed, that packs their addresses
/// into a stack array for <c>cuLaunchKernel</c> — no allocation, no boxing, no reflection.
/// </summary>
internal static class LauncherWriter
{
    private const string Interop = "global::" + SourceWriter.Namespace + ".";

    public static string HintName(KernelModel kernel) => "NativeKernels." + kernel.MethodName + ".g.cs";

    public static string Write(KernelModel kernel)
    {
        SourceWriter writer = SourceWriter.BeginFile();
        writer.Line("internal static unsafe partial class NativeKernels");
        writer.Open();
        WriteDocumentation(writer, kernel);
        writer.Line(SourceWriter.GeneratedCodeAttribute);
        writer.Line("public static void " + kernel.MethodName + "(");
        writer.Line("    nint function,");
        string launch = "    in " + Interop + "LaunchConfiguration launch";
        writer.Line(kernel.Parameters.Length == 0 ? launch + ")" : launch + ",");
        for (int i = 0; i < kernel.Parameters.Length; i++)
        {
            ParameterModel parameter = kernel.Parameters[i];
            string separator = i == kernel.Parameters.Length - 1 ? ")" : ",";
            writer.Line("    " + parameter.Type + " " + parameter.Name + separator);
        }

        writer.Open();
        string name = Interop + "KernelNames." + kernel.MethodName + "Name";
        if (kernel.Parameters.Length == 0)
        {
            writer.Line(Interop + "KernelLauncher.Launch(function, in launch, null, " + name + ");");
        }
        else
        {
            // Value parameters are fixed variables: their addresses stay valid for the whole (synchronous) call.
            writer.Line("void** __arguments = stackalloc void*[" + kernel.Parameters.Length + "];");
            for (int i = 0; i < kernel.Parameters.Length; i++)
            {
                writer.Line("__arguments[" + i + "] = &" + kernel.Parameters[i].Name + ";");
            }

            writer.Line(Interop + "KernelLauncher.Launch(function, in launch, __arguments, " + name + ");");
        }

        return writer.EndFile();
    }

    private static void WriteDocumentation(SourceWriter writer, KernelModel kernel)
    {
        writer.Line("/// <summary>Launches the CUDA kernel <c>" + kernel.Name + "</c> (<c>" + SourceWriter.Xml(kernel.FileName) + "</c>).</summary>");
        writer.Line("/// <param name=\"function\">The <c>CUfunction</c> of <c>" + kernel.Name + "</c> in the loaded module.</param>");
        writer.Line("/// <param name=\"launch\">Grid, block, dynamic shared memory and stream.</param>");
        foreach (ParameterModel parameter in kernel.Parameters)
        {
            writer.Line(
                "/// <param name=\"" + Naming.Unescaped(parameter.Name) + "\"><c>"
                + SourceWriter.Xml(parameter.CudaType + " " + parameter.CudaName) + "</c></param>");
        }
    }
}
