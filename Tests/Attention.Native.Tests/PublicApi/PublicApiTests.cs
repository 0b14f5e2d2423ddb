using System.Reflection;
using PublicApiGenerator;

namespace Attention.Native.Tests.PublicApi;

/// <summary>
/// The library's public API, as PublicApiGenerator renders it, must equal the checked-in
/// <c>PublicApi/Attention.Native.approved.txt</c>, and docs/api.md's overview (between <c>&lt;!-- api:start --&gt;</c>
/// and <c>&lt;!-- api:end --&gt;</c>) must be the one derived from it. A failure leaves what was found beside the file
/// (<c>.received.txt</c>, <c>api.received.md</c>); <c>ATTENTION_NATIVE_ACCEPT_API=1</c> rewrites both instead.
/// </summary>
public sealed class PublicApiTests
{
    private const string AcceptVariable = "ATTENTION_NATIVE_ACCEPT_API";
    private const string StartMarker = "<!-- api:start -->";
    private const string EndMarker = "<!-- api:end -->";
    private const string HowToAccept = $"If the change is intended, rerun with {AcceptVariable}=1 (e.g. `{AcceptVariable}=1 ./build.sh test`, " +
        $"or the test executable with `-class Attention.Native.Tests.PublicApi.PublicApiTests`) and commit " +
        "PublicApi/Attention.Native.approved.txt and docs/api.md.";

    private static bool Accepting => Environment.GetEnvironmentVariable(AcceptVariable) == "1";

    private static string ApprovedPath => Path.Combine(SourceDirectory("PublicApiDirectory"), "Attention.Native.approved.txt");

    private static string OverviewPath => Path.Combine(SourceDirectory("RepositoryRoot"), "docs", "api.md");

    [Fact]
    public void Public_api_matches_the_approved_file()
    {
        string actual = CurrentApi();
        string received = Path.ChangeExtension(ApprovedPath, null).Replace(".approved", ".received", StringComparison.Ordinal) + ".txt";
        if (Accepting)
        {
            File.WriteAllText(ApprovedPath, actual);
            File.Delete(received);
            return;
        }

        string approved = File.Exists(ApprovedPath) ? Normalize(File.ReadAllText(ApprovedPath)) : "";
        if (approved == actual)
        {
            File.Delete(received);
            return;
        }

        File.WriteAllText(received, actual);
        Assert.Fail(File.Exists(ApprovedPath)
            ? $"The public API of Attention.Native differs from {ApprovedPath}; what it is now is in {received}.\n" +
                LineDifferences(approved, actual) + HowToAccept
            : $"{ApprovedPath} does not exist; the public API is in {received}. " + HowToAccept);
    }

    [Fact]
    public void Api_overview_is_generated_from_the_approved_api()
    {
        // Accepting: from the API being approved (the other test may not have rewritten the file yet).
        string api = Accepting ? CurrentApi() : Normalize(File.ReadAllText(ApprovedPath));
        string overview = PublicApiOverview.Render(api);
        string document = Normalize(File.ReadAllText(OverviewPath));
        int start = document.IndexOf(StartMarker, StringComparison.Ordinal);
        int end = document.IndexOf(EndMarker, StringComparison.Ordinal);
        Assert.True(start >= 0 && end > start, $"{OverviewPath} has no \"{StartMarker}\" … \"{EndMarker}\" section for the API overview.");
        int contentStart = start + StartMarker.Length;
        string expected = document[..contentStart] + "\n" + overview + document[end..];
        string received = Path.Combine(Path.GetDirectoryName(OverviewPath)!, "api.received.md");
        if (Accepting)
        {
            File.WriteAllText(OverviewPath, expected);
            File.Delete(received);
            return;
        }

        if (expected == document)
        {
            File.Delete(received);
            return;
        }

        File.WriteAllText(received, expected);
        Assert.Fail($"The API overview in {OverviewPath} is not the one generated from {ApprovedPath}; the page as it " +
            $"should be is in {received}.\n" + LineDifferences(document[contentStart..end], "\n" + overview) + HowToAccept);
    }

    [Fact]
    public void Overview_lists_types_members_and_constraints_without_namespaces()
    {
        const string api = """
            namespace Sample
            {
                public sealed class Box<T> : System.IEquatable<Sample.Box<T>>
                    where T :  unmanaged
                {
                    public Box() { }
                    public Box(long size) { }
                    public const int Limit = 4;
                    public int Size { get; }
                    public override string ToString() { }
                    protected void Hidden() { }
                    public Sample.Box<T> Fill<TOther>(System.ReadOnlySpan<TOther> data)
                        where TOther :  unmanaged { }
                    public Sample.Box<T> Fill<TOther>(TOther[] data) { }
                    public static bool operator ==(Sample.Box<T> left, Sample.Box<T> right) { }
                    public static float op_Implicit(Sample.Box<T> value) { }
                    public sealed class Inner
                    {
                        public int Depth { get; }
                    }
                    public void After() { }
                    public void After(int times) { }
                    public void Clear() { }
                }
                public sealed record Options : System.IEquatable<Sample.Options>
                {
                    public Options() { }
                    public int Size { get; init; }
                }
                public enum Kind
                {
                    A = 0,
                    B = 1,
                }
            }
            """;

        Assert.Equal(
            """
            #### `Sample`

            - `sealed class Box<T> : IEquatable<Box<T>> where T : unmanaged`: `new(…)`, `Limit`, `Size`, `Fill<TOther>(…)`, `operator ==`, `implicit operator`, `After(…)`, `Clear()`
            - `sealed class Box<T>.Inner`: `Depth`
            - `sealed record Options : IEquatable<Options>`: `new()`, `Size`
            - `enum Kind`: `A`, `B`

            """.ReplaceLineEndings("\n"),
            PublicApiOverview.Render(api));
    }

    private static string CurrentApi() => Normalize(typeof(AttentionBackend).Assembly.GeneratePublicApi(new ApiGeneratorOptions
    {
        // InternalsVisibleTo, TargetFramework and the like are not API.
        IncludeAssemblyAttributes = false,
        TreatRecordsAsClasses = false,
    }));

    private static string Normalize(string text) => text.ReplaceLineEndings("\n").TrimEnd('\n') + "\n";

    /// <summary>
    /// The lines that differ (a longest-common-subsequence diff), as <c>-N: line</c> (expected, line N) and
    /// <c>+N: line</c> (found), at most 30 of them.
    /// </summary>
    private static string LineDifferences(string expected, string actual)
    {
        string[] e = expected.Split('\n');
        string[] a = actual.Split('\n');
        // common[i, j]: length of the longest common subsequence of e[i..] and a[j..].
        var common = new int[e.Length + 1, a.Length + 1];
        for (int i = e.Length - 1; i >= 0; i--)
        {
            for (int j = a.Length - 1; j >= 0; j--)
            {
                common[i, j] = e[i] == a[j] ? common[i + 1, j + 1] + 1 : Math.Max(common[i + 1, j], common[i, j + 1]);
            }
        }

        var lines = new List<string>();
        int x = 0, y = 0;
        while (x < e.Length || y < a.Length)
        {
            if (x < e.Length && y < a.Length && e[x] == a[y])
            {
                x++;
                y++;
            }
            else if (y < a.Length && (x == e.Length || common[x, y + 1] >= common[x + 1, y]))
            {
                lines.Add($"+{y + 1}: {a[y++]}");
            }
            else
            {
                lines.Add($"-{x + 1}: {e[x++]}");
            }
        }

        return string.Join("\n", lines.Take(30)) + (lines.Count > 30 ? $"\n… and {lines.Count - 30} more changed lines\n" : "\n");
    }

    /// <summary>A folder of the source tree, recorded at build time (the tests run from bin/).</summary>
    private static string SourceDirectory(string key) => typeof(PublicApiTests).Assembly
        .GetCustomAttributes<AssemblyMetadataAttribute>()
        .Single(attribute => attribute.Key == key)
        .Value!;
}
