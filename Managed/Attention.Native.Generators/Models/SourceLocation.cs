using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;

namespace Attention.Native.Generators.Models;

/// <summary>
/// A span of a <c>.cu</c> file, kept as plain values (a <see cref="Location"/> is not equatable across runs) and
/// turned into an external-file <see cref="Location"/> only when a diagnostic is reported.
/// </summary>
internal sealed record SourceLocation(string FilePath, TextSpan Span, LinePositionSpan LineSpan)
{
    public static SourceLocation Create(string filePath, SourceText text, int start, int end) =>
        new(filePath, TextSpan.FromBounds(start, end), text.Lines.GetLinePositionSpan(TextSpan.FromBounds(start, end)));

    public Location ToLocation() => Location.Create(FilePath, Span, LineSpan);

    /// <summary>The file name and 1-based line, e.g. <c>attention.cu(12)</c>, for messages.</summary>
    public string Describe() => System.IO.Path.GetFileName(FilePath) + "(" + (LineSpan.Start.Line + 1) + ")";
}
