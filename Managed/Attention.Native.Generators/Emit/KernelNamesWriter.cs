using Attention.Native.Generators.Models;

namespace Attention.Native.Generators.Emit;

/// <summary>
/// Writes <c>KernelNames</c>: one constant per entry point and <c>All</c>, ordered by name, for
/// <c>cuModuleGetFunction</c>, then one generic lookup per dtype family (<see cref="FamilyWriter.WriteNameLookup"/>).
/// Written even when there are no kernels, so code that lists them always compiles.
/// </summary>
internal static class KernelNamesWriter
{
    public const string HintName = "KernelNames.g.cs";

    public static string Write(EquatableArray<KernelModel> kernels, EquatableArray<KernelFamily> families)
    {
        SourceWriter writer = SourceWriter.BeginFile();
        writer.Line("/// <summary>The <c>extern \"C\"</c> kernels of <c>Native/*.cu</c>, by entry-point name.</summary>");
        writer.Line(SourceWriter.GeneratedCodeAttribute);
        writer.Line("internal static partial class KernelNames");
        writer.Open();
        foreach (KernelModel kernel in kernels)
        {
            writer.Line("/// <summary><c>" + kernel.Name + "</c>, declared in <c>" + SourceWriter.Xml(kernel.FileName) + "</c>; takes <c>"
                + SourceWriter.Xml(kernel.Parameter.Describe()) + "</c>.</summary>");
            writer.Line("public const string " + kernel.MethodName + "Name = \"" + kernel.Name + "\";");
            writer.Line();
        }

        writer.Line("/// <summary>Every kernel name, in ordinal order.</summary>");
        string all = "public static readonly global::System.Collections.Immutable.ImmutableArray<string> All = "
            + "global::System.Collections.Immutable.ImmutableArray.Create<string>(";
        if (kernels.Length == 0)
        {
            writer.Line(all + ");");
        }
        else
        {
            writer.Line(all);
            for (int i = 0; i < kernels.Length; i++)
            {
                writer.Line("    " + kernels[i].MethodName + "Name" + (i == kernels.Length - 1 ? ");" : ","));
            }
        }

        foreach (KernelFamily family in families)
        {
            writer.Line();
            FamilyWriter.WriteNameLookup(writer, family);
        }

        return writer.EndFile();
    }
}
