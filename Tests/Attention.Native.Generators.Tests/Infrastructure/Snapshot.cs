using System.Reflection;

namespace Attention.Native.Generators.Tests.Infrastructure;

/// <summary>
/// Exact comparison with a checked-in file under <c>Snapshots/</c>. A missing or different snapshot fails the test
/// and leaves the actual text beside it as <c>NAME.received.cs</c>; with
/// <c>ATTENTION_NATIVE_UPDATE_SNAPSHOTS=1</c> the snapshot is rewritten instead.
/// </summary>
internal static class Snapshot
{
    public const string UpdateVariable = "ATTENTION_NATIVE_UPDATE_SNAPSHOTS";

    public static void Match(string name, string actual)
    {
        string verified = Path.Combine(Directory, name + ".verified.cs");
        string received = Path.Combine(Directory, name + ".received.cs");
        if (Environment.GetEnvironmentVariable(UpdateVariable) == "1")
        {
            File.WriteAllText(verified, actual);
            File.Delete(received);
            return;
        }

        if (!File.Exists(verified))
        {
            File.WriteAllText(received, actual);
            Assert.Fail($"Snapshot {verified} does not exist; the output is in {received}. Review it, then rerun with {UpdateVariable}=1.");
        }

        string expected = File.ReadAllText(verified);
        if (string.Equals(expected, actual, StringComparison.Ordinal))
        {
            File.Delete(received);
            return;
        }

        File.WriteAllText(received, actual);
        Assert.Fail($"Generated code differs from {verified} ({FirstDifference(expected, actual)}); the output is in {received}. "
            + $"If the change is intended, rerun with {UpdateVariable}=1.");
    }

    /// <summary>The checked-in folder, recorded at build time (not the output folder the tests run from).</summary>
    private static string Directory { get; } = typeof(Snapshot).Assembly
        .GetCustomAttributes<AssemblyMetadataAttribute>()
        .Single(attribute => attribute.Key == "SnapshotDirectory")
        .Value!;

    private static string FirstDifference(string expected, string actual)
    {
        string[] expectedLines = expected.Split('\n');
        string[] actualLines = actual.Split('\n');
        for (int i = 0; i < Math.Max(expectedLines.Length, actualLines.Length); i++)
        {
            string? e = i < expectedLines.Length ? expectedLines[i] : null;
            string? a = i < actualLines.Length ? actualLines[i] : null;
            if (!string.Equals(e, a, StringComparison.Ordinal))
            {
                return $"line {i + 1}: expected «{e ?? "<end of file>"}», got «{a ?? "<end of file>"}»";
            }
        }

        return "line ends differ";
    }
}
