using System.Globalization;
using System.Reflection;
using Xunit.v3;

[assembly: ReportTestSeed]

namespace Attention.Native.Tests.Support;

/// <summary>
/// The one source of the tests' random data. Each test seeds it with a fixed number of its own, so every run sees the
/// same data; where <see cref="Variable"/> is set, that number is mixed into every test's seed, so each test still
/// gets data of its own, different from the default. Failure messages name the seed (<see cref="Describe"/>), and a
/// failing test's output names the variable (<see cref="ReportTestSeedAttribute"/>).
/// </summary>
public static class TestRandom
{
    public const string Variable = "ATTENTION_NATIVE_TEST_SEED";

    /// <summary>The run's seed from <see cref="Variable"/>; null where it is unset (each test's own seed alone).</summary>
    public static int? RunSeed { get; } = Parse(Environment.GetEnvironmentVariable(Variable));

    /// <summary>A random source for the test's own <paramref name="seed"/> (mixed with <see cref="RunSeed"/> where set).</summary>
    public static Random Create(int seed) => new(Mix(seed));

    /// <summary>A random source seeded by a name (e.g. a case's), via <see cref="SeedOf"/>.</summary>
    public static Random Create(string name) => Create(SeedOf(name));

    /// <summary>
    /// A seed from a name: FNV-1a over its UTF-16 code units, the same in every process (string.GetHashCode and
    /// HashCode.Combine are randomised per process, so data seeded by them could not be reproduced).
    /// </summary>
    public static int SeedOf(string name)
    {
        uint hash = 2166136261;
        foreach (char c in name)
        {
            hash = (hash ^ c) * 16777619;
        }

        return (int)(hash & int.MaxValue);
    }

    /// <summary>The seed a test's own <paramref name="seed"/> becomes: itself, or mixed with <see cref="RunSeed"/> (SplitMix64).</summary>
    public static int Mix(int seed)
    {
        if (RunSeed is not int run)
        {
            return seed;
        }

        ulong z = ((ulong)(uint)run << 32) | (uint)seed;
        z += 0x9E3779B97F4A7C15;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EB;
        return (int)((z ^ (z >> 31)) & int.MaxValue);
    }

    /// <summary>For failure messages: the test's seed and how to get the same data again.</summary>
    public static string Describe(int seed) => $"seed {seed}; {HowToReproduce}";

    /// <summary>Where the data came from and how to see them again.</summary>
    public static string HowToReproduce => RunSeed is int run
        ? $"{Variable}={run} mixed into each test's seed: rerun with {Variable}={run} to reproduce"
        : $"{Variable} unset: each test's own fixed seed, the same every run (set {Variable} to an integer for other data)";

    private static int? Parse(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        return int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int seed)
            ? seed
            : throw new InvalidOperationException($"{Variable}='{text}' is not a 32-bit integer");
    }
}

/// <summary>
/// Applied to the whole test assembly: a failed test's output names the random data's seed (<see cref="TestRandom"/>)
/// and the variable that reproduces it.
/// </summary>
[AttributeUsage(AttributeTargets.Assembly)]
public sealed class ReportTestSeedAttribute : BeforeAfterTestAttribute
{
    public override void After(MethodInfo methodUnderTest, IXunitTest test)
    {
        if (TestContext.Current.TestState?.Result == TestResult.Failed)
        {
            TestContext.Current.TestOutputHelper?.WriteLine($"Random test data: {TestRandom.HowToReproduce}.");
        }
    }
}
