namespace Attention.Native.Tests.Support;

/// <summary>
/// Tests that set process-wide environment variables (which every <c>new CpuBackend()</c> reads) run in this
/// collection, alone: xunit starts it only after the parallel collections have finished.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProcessEnvironmentCollection
{
    public const string Name = "Process environment";
}
