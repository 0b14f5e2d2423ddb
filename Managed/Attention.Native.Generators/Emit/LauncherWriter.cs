using System.Collections.Generic;
using Attention.Native.Generators.Models;

namespace Attention.Native.Generators.Emit;

/// <summary>
/// Writes one kernel's launcher: a static method taking the kernel's parameters, typed, that packs their addresses
/// into a stack array for <c>cuLaunchKernel</c> — no allocation, no boxing, no reflection.
/// </summary>
internal static class LauncherWriter
{
    /// <summary>The namespace of the contract types, as generated code names them.</summary>
    public const string Interop = "global::" + SourceWriter.Namespace + ".";

    /// <summary>
    /// The launchers' last, optional parameter: the entry point a rejected launch is reported under. Null means the
    /// launcher's own kernel; a caller launching another function with the same parameter list names that one. The
    /// underscores keep it apart from any kernel parameter's name.
    /// </summary>
    public const string KernelNameParameter = "__kernelName";

    public static string HintName(KernelModel kernel) => "NativeKernels." + kernel.MethodName + ".g.cs";

    public static string Write(KernelModel kernel)
    {
        SourceWriter writer = SourceWriter.BeginFile();
        writer.Line("internal static unsafe partial class NativeKernels");
        writer.Open();
        writer.Line("/// <summary>Launches the CUDA kernel <c>" + kernel.Name + "</c> (<c>" + SourceWriter.Xml(kernel.FileName) + "</c>).</summary>");
        writer.Line("/// <param name=\"function\">The <c>CUfunction</c> of <c>" + kernel.Name + "</c> in the loaded module.</param>");
        WriteParameterDocumentation(writer, kernel.Parameters);
        writer.Line(SourceWriter.GeneratedCodeAttribute);
        WriteSignature(writer, kernel.MethodName, kernel.Parameters.Items);
        writer.Open();
        string name = Interop + "KernelNames." + kernel.MethodName + "Name";
        if (kernel.Parameters.Length == 0)
        {
            writer.Line(Interop + "KernelLauncher.Launch(function, in launch, null, " + KernelNameParameter + " ?? " + name + ");");
        }
        else
        {
            // Value parameters are fixed variables: their addresses stay valid for the whole (synchronous) call.
            writer.Line("void** __arguments = stackalloc void*[" + kernel.Parameters.Length + "];");
            for (int i = 0; i < kernel.Parameters.Length; i++)
            {
                writer.Line("__arguments[" + i + "] = &" + kernel.Parameters[i].Name + ";");
            }

            writer.Line(Interop + "KernelLauncher.Launch(function, in launch, __arguments, " + KernelNameParameter + " ?? " + name + ");");
        }

        return writer.EndFile();
    }

    /// <summary>The <c>&lt;param&gt;</c> lines of <c>launch</c> and of the kernel's parameters (<c>function</c>'s is the caller's).</summary>
    public static void WriteParameterDocumentation(SourceWriter writer, IEnumerable<ParameterModel> parameters)
    {
        writer.Line("/// <param name=\"launch\">Grid, block, dynamic shared memory and stream.</param>");
        foreach (ParameterModel parameter in parameters)
        {
            writer.Line(
                "/// <param name=\"" + Naming.Unescaped(parameter.Name) + "\"><c>"
                + SourceWriter.Xml(parameter.CudaType + " " + parameter.CudaName) + "</c></param>");
        }

        writer.Line("/// <param name=\"" + KernelNameParameter + "\">The entry point a rejected launch is reported under; null for "
            + "this launcher's (set it when launching another function with the same parameters).</param>");
    }

    /// <summary>
    /// <c>public static void <paramref name="method"/>(nint function, in LaunchConfiguration launch, ..., string?
    /// __kernelName = null)</c>, one parameter a line; the caller adds any constraint and the body.
    /// </summary>
    public static void WriteSignature(SourceWriter writer, string method, IReadOnlyList<ParameterModel> parameters)
    {
        writer.Line("public static void " + method + "(");
        writer.Line("    nint function,");
        writer.Line("    in " + Interop + "LaunchConfiguration launch,");
        foreach (ParameterModel parameter in parameters)
        {
            writer.Line("    " + parameter.Type + " " + parameter.Name + ",");
        }

        writer.Line("    string? " + KernelNameParameter + " = null)");
    }
}
