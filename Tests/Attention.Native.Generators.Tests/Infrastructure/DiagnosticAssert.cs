using Microsoft.CodeAnalysis;

namespace Attention.Native.Generators.Tests.Infrastructure;

/// <summary>Checks a diagnostic's id, file, covered text and position.</summary>
internal static class DiagnosticAssert
{
    /// <summary>
    /// Asserts that <paramref name="diagnostic"/> is <paramref name="id"/>, reported in <paramref name="path"/> on
    /// exactly the text <paramref name="spanText"/> at its <paramref name="occurrence"/>-th appearance (0-based) in
    /// <paramref name="source"/>, with the 1-based line and column that text has there. ATTN006 is a warning, the
    /// others errors.
    /// </summary>
    public static void At(Diagnostic diagnostic, string id, string path, string source, string spanText, int occurrence = 0)
    {
        Assert.Equal(id, diagnostic.Id);
        Assert.Equal(id == "ATTN006" ? DiagnosticSeverity.Warning : DiagnosticSeverity.Error, diagnostic.Severity);
        FileLinePositionSpan where = diagnostic.Location.GetLineSpan();
        Assert.Equal(path, where.Path);
        Assert.Equal(spanText, source.Substring(diagnostic.Location.SourceSpan.Start, diagnostic.Location.SourceSpan.Length));

        int offset = IndexOf(source, spanText, occurrence);
        Assert.Equal(offset, diagnostic.Location.SourceSpan.Start);
        Assert.Equal(LineAndColumn(source, offset), (where.StartLinePosition.Line + 1, where.StartLinePosition.Character + 1));
    }

    /// <summary>The 1-based line and column of a position (the numbers an IDE or MSBuild shows).</summary>
    public static (int Line, int Column) LineAndColumn(string source, int offset)
    {
        int lineStart = source.LastIndexOf('\n', Math.Max(0, offset - 1)) + 1;
        int line = source.Take(offset).Count(c => c == '\n') + 1;
        return (line, offset - lineStart + 1);
    }

    private static int IndexOf(string source, string text, int occurrence)
    {
        int index = -1;
        for (int i = 0; i <= occurrence; i++)
        {
            index = source.IndexOf(text, index + 1, StringComparison.Ordinal);
            Assert.True(index >= 0, $"'{text}' occurs fewer than {occurrence + 1} times in the source");
        }

        return index;
    }
}
