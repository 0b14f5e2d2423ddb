using System;
using System.Linq;
using Attention.Native.Generators.Models;

namespace Attention.Native.Generators.Emit;

/// <summary>
/// Writes a dtype family's generic launcher, <c>NativeKernels.&lt;Stem&gt;&lt;T&gt;</c>, and its entry-point lookup,
/// <c>KernelNames.&lt;Stem&gt;Name&lt;T&gt;()</c>. Both test <c>typeof(T)</c> against each member's element type, which
/// the JIT folds to the one branch for the T it compiles; the launcher passes the element pointers on reinterpreted as
/// that member's element type. A T the family lacks throws <see cref="NotSupportedException"/>.
/// </summary>
internal static class FamilyWriter
{
    private const string Indent = "    ";

    public static string HintName(KernelFamily family) => "NativeKernels." + family.MethodName + ".g.cs";

    public static string WriteLauncher(KernelFamily family)
    {
        SourceWriter writer = SourceWriter.BeginFile();
        writer.Line("internal static unsafe partial class NativeKernels");
        writer.Open();
        WriteSummary(writer, family, "Launches the <c>" + family.Stem + "</c> kernel", static m => m.MethodName);
        WriteTypeParameterDocumentation(writer);
        writer.Line("/// <param name=\"function\">The <c>CUfunction</c> of that kernel (<see cref=\""
            + LauncherWriter.Interop + "KernelNames." + NameLookup(family) + "{T}\"/> names it) in the loaded module.</param>");
        LauncherWriter.WriteParameterDocumentation(writer, family.Parameters.Select(static p => p.Parameter));
        WriteExceptionDocumentation(writer, family);
        writer.Line(SourceWriter.GeneratedCodeAttribute);
        LauncherWriter.WriteSignature(writer, family.MethodName + "<T>", [.. family.Parameters.Select(static p => p.Parameter)]);
        writer.Line(Indent + "where T : unmanaged");
        writer.Open();
        WriteDispatch(writer, family, member =>
        {
            writer.Line(member.MethodName + "(");
            writer.Line(Indent + "function,");
            writer.Line(Indent + "in launch,");
            foreach (FamilyParameter parameter in family.Parameters)
            {
                string argument = parameter.IsElement
                    ? "new " + member.DType.DevicePointer + "(" + parameter.Parameter.Name + ".Address)"
                    : parameter.Parameter.Name;
                writer.Line(Indent + argument + ",");
            }

            writer.Line(Indent + LauncherWriter.KernelNameParameter + ");");
        });
        return writer.EndFile();
    }

    /// <summary><c>KernelNames.&lt;Stem&gt;Name&lt;T&gt;()</c>, written into <c>KernelNames</c> by <see cref="KernelNamesWriter"/>.</summary>
    public static void WriteNameLookup(SourceWriter writer, KernelFamily family)
    {
        WriteSummary(
            writer,
            family,
            "The entry point (see <see cref=\"" + LauncherWriter.Interop + "NativeKernels." + family.MethodName + "{T}\"/>) of the <c>"
                + family.Stem + "</c> kernel",
            static m => m.MethodName + "Name");
        WriteTypeParameterDocumentation(writer);
        WriteExceptionDocumentation(writer, family);
        writer.Line("public static string " + NameLookup(family) + "<T>()");
        writer.Line(Indent + "where T : unmanaged");
        writer.Open();
        WriteDispatch(writer, family, member => writer.Line("return " + member.MethodName + "Name;"));
        writer.Close();
    }

    private static string NameLookup(KernelFamily family) => family.MethodName + "Name";

    /// <summary>One <c>if (typeof(T) == typeof(element))</c> per member, then the throw for any other T.</summary>
    private static void WriteDispatch(SourceWriter writer, KernelFamily family, Action<FamilyMember> writeBody)
    {
        for (int i = 0; i < family.Members.Length; i++)
        {
            FamilyMember member = family.Members[i];
            writer.Line((i == 0 ? "if" : "else if") + " (typeof(T) == typeof(" + member.DType.CSharpType + "))");
            writer.Open();
            writeBody(member);
            writer.Close();
        }

        string members = string.Join(", ", family.Members.Select(static m => m.Kernel + " (" + m.DType.RuntimeName + ")"));
        writer.Line("else");
        writer.Open();
        writer.Line("throw new global::System.NotSupportedException(\"The '" + family.Stem + "' kernels have no version for element type \" + "
            + "typeof(T).FullName + \"; there are " + members + ".\");");
        writer.Close();
    }

    private static void WriteTypeParameterDocumentation(SourceWriter writer) =>
        writer.Line("/// <typeparam name=\"T\">The element type; the JIT folds the <c>typeof(T)</c> tests to its branch.</typeparam>");

    private static void WriteExceptionDocumentation(SourceWriter writer, KernelFamily family) =>
        writer.Line("/// <exception cref=\"global::System.NotSupportedException\">No <c>" + family.Stem
            + "</c> kernel takes <typeparamref name=\"T\"/>.</exception>");

    /// <summary>"<paramref name="subject"/> for element type T:" and a line per member: its <paramref name="member"/>, its type.</summary>
    private static void WriteSummary(SourceWriter writer, KernelFamily family, string subject, Func<FamilyMember, string> member)
    {
        writer.Line("/// <summary>");
        writer.Line("/// " + subject + " for element type <typeparamref name=\"T\"/>:");
        for (int i = 0; i < family.Members.Length; i++)
        {
            FamilyMember m = family.Members[i];
            writer.Line("/// <see cref=\"" + member(m) + "\"/> for <see cref=\"" + m.DType.CSharpType + "\"/>" + (i == family.Members.Length - 1 ? "." : ","));
        }

        writer.Line("/// </summary>");
    }
}
