namespace Attention.Native.Generators;

/// <summary>Names of the pipeline steps, so tests can check what the incremental driver cached.</summary>
internal static class TrackingNames
{
    public const string Files = nameof(Files);
    public const string Catalog = nameof(Catalog);
    public const string Kernels = nameof(Kernels);
    public const string Families = nameof(Families);
    public const string Structs = nameof(Structs);
    public const string StructOutputs = nameof(StructOutputs);
}
