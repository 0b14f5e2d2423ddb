namespace Attention.Native.Tests.Support;

/// <summary>
/// Tests that read process-wide counters (which every other test moves as it allocates) run in this collection,
/// alone: xunit starts it only after the parallel collections have finished.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProcessCountersCollection
{
    public const string Name = "Process counters";
}
