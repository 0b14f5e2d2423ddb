namespace Attention.Native.Tests.Api;

/// <summary>
/// Every <see cref="CaseCatalog"/> case against the float64 reference, through spans and through tensors, on the
/// backend a subclass creates: the same correctness tests for every backend.
/// </summary>
public abstract class AttentionBackendTests
{
    public static TheoryData<string> AllCases => CaseCatalog.Names();

    [Theory]
    [MemberData(nameof(AllCases), MemberType = typeof(AttentionBackendTests))]
    public void Matches_reference_via_spans(string name)
    {
        using var backend = CreateBackend();
        AttentionChecker.Check(backend, CaseCatalog.Get(name));
    }

    [Theory]
    [MemberData(nameof(AllCases), MemberType = typeof(AttentionBackendTests))]
    public void Matches_reference_via_tensors(string name)
    {
        using var backend = CreateTensorBackend();
        AttentionChecker.Check(backend, CaseCatalog.Get(name), viaTensors: true);
    }

    /// <summary>The backend for the span tests (may skip the test where the backend is absent).</summary>
    protected abstract AttentionBackend CreateBackend();

    /// <summary>The backend for the tensor tests; <see cref="CreateBackend"/> unless overridden.</summary>
    protected virtual AttentionBackend CreateTensorBackend() => CreateBackend();
}
