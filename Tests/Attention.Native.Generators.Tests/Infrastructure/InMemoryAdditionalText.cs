using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;

namespace Attention.Native.Generators.Tests.Infrastructure;

/// <summary>A <c>.cu</c> file handed to the generator as an <c>AdditionalFiles</c> item.</summary>
internal sealed class InMemoryAdditionalText(string path, string text) : AdditionalText
{
    private readonly SourceText _text = SourceText.From(text);

    public override string Path { get; } = path;

    public override SourceText GetText(CancellationToken cancellationToken = default) => _text;

    /// <summary>A file under a fixed fake checkout, so diagnostics carry stable paths.</summary>
    public static InMemoryAdditionalText Native(string fileName, string text) => new("/repo/Native/" + fileName, text);
}
