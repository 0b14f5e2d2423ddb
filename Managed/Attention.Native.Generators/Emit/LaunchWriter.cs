using System.Linq;
using Attention.Native.Generators.Models;

namespace Attention.Native.Generators.Emit;

/// <summary>
/// Writes a params struct's launch, <c>NativeKernels.Launch(kernel, in launch, in parameters)</c>: it checks that
/// the kernel is one declared with that struct (and element type) — a kernel handed another struct would read its
/// parameters from the wrong offsets — and passes the struct's address as the one kernel argument. No allocation, no
/// boxing, no reflection.
/// </summary>
internal static class LaunchWriter
{
    /// <summary>The namespace of the contract types, as generated code names them.</summary>
    public const string Interop = "global::" + SourceWriter.Namespace + ".";

    /// <summary>The kernel handle the launches take.</summary>
    public const string CudaKernel = "global::Attention.Native.Cuda.CudaKernel";

    public static string HintName(ParamsStruct paramsStruct) => "NativeKernels." + paramsStruct.Struct.Name + ".g.cs";

    public static string Write(ParamsStruct paramsStruct)
    {
        StructModel s = paramsStruct.Struct;
        string? t = s.TypeParameter;
        string type = s.Name + (t is null ? string.Empty : "<" + t + ">");
        string cudaName = SourceWriter.Xml(ParamsStructWriter.CudaName(s));
        SourceWriter writer = SourceWriter.BeginFile();
        writer.Line("internal static unsafe partial class NativeKernels");
        writer.Open();
        writer.Line("/// <summary>");
        writer.Line("/// Launches <paramref name=\"kernel\"/>, a kernel declared with <c>" + cudaName + "</c>" + (t is null ? string.Empty : " for <typeparamref name=\"" + t + "\"/>")
            + " (<see cref=\"" + (t is null ? s.Name : s.Name + "{" + t + "}") + ".Kernels\"/>),");
        writer.Line("/// with <paramref name=\"parameters\"/> as its one argument.");
        writer.Line("/// </summary>");
        if (t is not null)
        {
            writer.Line("/// <typeparam name=\"" + t + "\">" + ParamsStructWriter.TypeParameterDocumentation + "</typeparam>");
        }

        writer.Line("/// <param name=\"kernel\">The kernel, looked up in its loaded module.</param>");
        writer.Line("/// <param name=\"launch\">Grid, block, dynamic shared memory and stream.</param>");
        writer.Line("/// <param name=\"parameters\">The kernel's parameters; the driver copies them when the launch is queued.</param>");
        if (t is not null)
        {
            writer.Line("/// <exception cref=\"global::System.NotSupportedException\">No kernel takes <c>" + SourceWriter.Xml(s.QualifiedName) + "</c> with element type <typeparamref name=\"" + t + "\"/>.</exception>");
        }

        writer.Line("/// <exception cref=\"global::System.ArgumentException\"><paramref name=\"kernel\"/> is not declared with <c>" + cudaName + "</c>"
            + (t is null ? string.Empty : " for <typeparamref name=\"" + t + "\"/>") + ".</exception>");
        writer.Line("/// <exception cref=\"global::Attention.Native.Cuda.CudaException\">The driver rejected the launch.</exception>");
        writer.Line(SourceWriter.GeneratedCodeAttribute);
        writer.Line("public static void Launch" + (t is null ? string.Empty : "<" + t + ">") + "(" + CudaKernel + " kernel, in " + Interop
            + "LaunchConfiguration launch, in " + type + " parameters)");
        if (t is not null)
        {
            writer.Line("    where " + t + " : unmanaged");
        }

        writer.Open();
        writer.Line("global::System.Collections.Immutable.ImmutableArray<string> kernels = " + type + ".Kernels;");
        if (t is not null)
        {
            string types = string.Join(", ", paramsStruct.Uses.Select(static u => u.ElementType!.RuntimeName));
            writer.Line("if (kernels.IsEmpty)");
            writer.Open();
            writer.Line("throw new global::System.NotSupportedException(\"No kernel takes " + s.QualifiedName + " with element type \" + typeof(" + t
                + ").FullName + \"; there are kernels for " + types + ".\");");
            writer.Close();
            writer.Line();
        }

        writer.Line("if (!kernels.Contains(kernel.Name))");
        writer.Open();
        string declared = t is null
            ? "\"' is not declared with " + s.QualifiedName + ", so it"
            : "\"' is not declared with " + s.QualifiedName + " for element type \" + typeof(" + t + ").FullName + \", so it";
        writer.Line("throw new global::System.ArgumentException(\"Kernel '\" + kernel.Name + " + declared
            + " would read other parameters than these; the kernels that are: \" + string.Join(\", \", kernels) + \".\", nameof(kernel));");
        writer.Close();
        writer.Line();
        writer.Line("fixed (" + type + "* pointer = &global::System.Runtime.CompilerServices.Unsafe.AsRef(in parameters))");
        writer.Open();
        writer.Line("void* argument = pointer;");
        writer.Line(Interop + "KernelLauncher.Launch(kernel, in launch, &argument);");
        return writer.EndFile();
    }
}
