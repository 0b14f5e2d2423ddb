using System;
using Attention.Native.Generators.Models;

namespace Attention.Native.Generators.Emit;

/// <summary>
/// Writes a dtype family's entry-point lookup, <c>KernelNames.&lt;Stem&gt;Name&lt;T&gt;()</c>: it tests
/// <c>typeof(T)</c> against each member's element type, which the JIT folds to the one branch for the T it compiles.
/// A T the family lacks throws <see cref="NotSupportedException"/>.
/// </summary>
internal static class FamilyWriter
{
    /// <summary><c>KernelNames.&lt;Stem&gt;Name&lt;T&gt;()</c>, written into <c>KernelNames</c> by <see cref="KernelNamesWriter"/>.</summary>
    public static void WriteNameLookup(SourceWriter writer, KernelFamily family)
    {
        writer.Line("/// <summary>");
        writer.Line("/// The entry point of the <c>" + family.Stem + "</c> kernel for element type <typeparamref name=\"T\"/>:");
        for (int i = 0; i < family.Members.Length; i++)
        {
            FamilyMember m = family.Members[i];
            writer.Line("/// <see cref=\"" + m.MethodName + "Name\"/> for <see cref=\"" + m.DType.CSharpType + "\"/>" + (i == family.Members.Length - 1 ? "." : ","));
        }

        writer.Line("/// </summary>");
        writer.Line("/// <typeparam name=\"T\">The element type; the JIT folds the <c>typeof(T)</c> tests to its branch.</typeparam>");
        writer.Line("/// <exception cref=\"global::System.NotSupportedException\">No <c>" + family.Stem
            + "</c> kernel takes <typeparamref name=\"T\"/>.</exception>");
        writer.Line("public static string " + family.MethodName + "Name<T>()");
        writer.Line("    where T : unmanaged");
        writer.Open();
        for (int i = 0; i < family.Members.Length; i++)
        {
            FamilyMember member = family.Members[i];
            writer.Line((i == 0 ? "if" : "else if") + " (typeof(T) == typeof(" + member.DType.CSharpType + "))");
            writer.Open();
            writer.Line("return " + member.MethodName + "Name;");
            writer.Close();
        }

        string members = string.Join(", ", System.Linq.Enumerable.Select(family.Members, static m => m.Kernel + " (" + m.DType.RuntimeName + ")"));
        writer.Line("else");
        writer.Open();
        writer.Line("throw new global::System.NotSupportedException(\"The '" + family.Stem + "' kernels have no version for element type \" + "
            + "typeof(T).FullName + \"; there are " + members + ".\");");
        writer.Close();
        writer.Close();
    }
}
