using Microsoft.CodeAnalysis;

namespace Attention.Native.Generators.Models;

/// <summary>An equatable description of a diagnostic, created in the pipeline and reported at the end of it.</summary>
internal sealed record DiagnosticInfo(DiagnosticDescriptor Descriptor, SourceLocation Location, EquatableArray<string> Arguments)
{
    public static DiagnosticInfo Create(DiagnosticDescriptor descriptor, SourceLocation location, params string[] arguments) =>
        new(descriptor, location, arguments.ToEquatableArray());

    public Diagnostic ToDiagnostic()
    {
        object[] arguments = new object[Arguments.Length];
        for (int i = 0; i < arguments.Length; i++)
        {
            arguments[i] = Arguments[i];
        }

        return Diagnostic.Create(Descriptor, Location.ToLocation(), arguments);
    }
}
