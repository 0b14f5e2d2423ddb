namespace Attention.Native.IntegrationTests;

/// <summary>What a user of the library gets: the packed NuGet package and a NativeAOT publish.</summary>
[Trait("Category", "Integration")]
public sealed class PackageTests
{
    /// <summary>
    /// Tests/PackageSmoke/run.sh: <c>dotnet pack</c>, the .nupkg's contents and nuspec, then a fresh
    /// <c>dotnet new console</c> outside the repository that adds the package, builds with warnings as errors and
    /// compares attention with the float64 reference.
    /// </summary>
    [Fact]
    public Task Packed_package_builds_and_runs_in_a_fresh_console_app() =>
        ProgramCheck.Run("package-smoke", TimeSpan.FromMinutes(15), "bash", "Tests/PackageSmoke/run.sh");

    /// <summary>
    /// Tests/AotSample/run.sh: a NativeAOT publish with no trim or AOT warning, and the native binary's result checked.
    /// Skipped where the ILCompiler package cannot be restored or the platform has no NativeAOT RID here.
    /// </summary>
    [Fact]
    public Task NativeAot_publish_has_no_warnings_and_runs() =>
        ProgramCheck.Run("aot-sample", TimeSpan.FromMinutes(15), "bash", "Tests/AotSample/run.sh");
}
