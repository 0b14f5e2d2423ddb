namespace Attention.Native.Tests.Support;

/// <summary>Host arrays for a <see cref="BadCall"/>: fresh random inputs, sentinel-filled outputs.</summary>
internal sealed class HostOperands
{
    public HostOperands(BadCall call)
    {
        var random = TestRandom.Create(6);
        Query = TestData.Random<float>(random, call.QueryLength, 1f);
        Key = TestData.Random<float>(random, call.KeyLength, 1f);
        Value = TestData.Random<float>(random, call.ValueLength, 1f);
        Output = BadCall.Sentinels(call.OutputLength);
        LogSumExp = BadCall.Sentinels(call.LogSumExpLength);
        Probabilities = BadCall.Sentinels(call.ProbabilitiesLength);
    }

    public float[] Query { get; }

    public float[] Key { get; }

    public float[] Value { get; }

    public float[] Output { get; }

    /// <summary>Empty when the call does not ask for it.</summary>
    public float[] LogSumExp { get; }

    /// <summary>Empty when the call does not ask for it.</summary>
    public float[] Probabilities { get; }

    public void Run(AttentionBackend backend, BadCall call) =>
        backend.ScaledDotProductAttention<float>(call.Shape, Query, Key, Value, Output, call.Options, LogSumExp, Probabilities);

    public void AssertOutputsUntouched()
    {
        BadCall.AssertSentinels(Output, "output");
        BadCall.AssertSentinels(LogSumExp, "logSumExp");
        BadCall.AssertSentinels(Probabilities, "probabilities");
    }
}
